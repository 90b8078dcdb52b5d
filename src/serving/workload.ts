import { readFileSync } from 'node:fs';
import { UserError } from '../errors.js';
import { generateSession, type GenerateOptions } from '../agents/generate.js';
import { Rng } from '../agents/rng.js';
import { z } from 'zod';
import { StepSchema, type Session } from '../agents/trace.js';

/** A session and when it reaches the instance. */
export interface Arrival {
  session: Session;
  arrivalS: number;
}

/** Where sessions come from: the seeded workflow generators, or a recorded trace. */
export type SessionSource =
  | { kind: 'generate'; options: GenerateOptions; seed: number }
  | { kind: 'trace'; sessions: Session[]; arrivalsS: number[] | null };

/** How many sessions arrive: those of a time window, or a fixed count. */
export type ArrivalSpan = { durationS: number } | { sessions: number };

/** Refuses runs that would not finish in reasonable time or memory. */
export const MAX_SESSIONS = 1_000_000;

/** Arrivals get their own random stream so that session i is the same session at every QPS. */
const ARRIVAL_STREAM = 0x5e7e;

/** Exponential inter-arrival gap of a Poisson process of rate `qps`. */
function gapS(rng: Rng, qps: number): number {
  let u = rng.next();
  while (u <= 0) u = rng.next();
  return -Math.log(u) / qps;
}

/** Poisson arrival times at `qps` over the span, starting at 0. */
export function poissonArrivals(qps: number, span: ArrivalSpan, seed: number): number[] {
  if (!(qps > 0) || !Number.isFinite(qps)) throw new UserError(`QPS must be a positive number, got ${qps}`);
  const rng = new Rng((seed ^ ARRIVAL_STREAM) | 0);
  const out: number[] = [];
  let t = gapS(rng, qps);
  if ('sessions' in span) {
    if (span.sessions > MAX_SESSIONS) throw new UserError(`${span.sessions} sessions is more than ${MAX_SESSIONS}`);
    for (let i = 0; i < span.sessions; i++, t += gapS(rng, qps)) out.push(t);
    return out;
  }
  const expected = qps * span.durationS;
  if (expected > MAX_SESSIONS) {
    throw new UserError(`${qps} QPS for ${span.durationS} s is about ${Math.round(expected)} sessions, more than ${MAX_SESSIONS}: shorten --duration`);
  }
  for (; t < span.durationS; t += gapS(rng, qps)) out.push(t);
  return out;
}

/**
 * The sessions arriving at `qps`. Generated sessions come from one seeded stream in arrival
 * order; trace sessions are reused in file order, round robin, unless the trace carries its own
 * arrival times, which are then replayed as they are (and `qps` is ignored).
 */
export function buildArrivals(source: SessionSource, qps: number, span: ArrivalSpan): Arrival[] {
  if (source.kind === 'trace' && source.arrivalsS) {
    return source.sessions.map((session, i) => ({ session, arrivalS: source.arrivalsS![i] })).sort((a, b) => a.arrivalS - b.arrivalS);
  }
  const times = poissonArrivals(qps, span, source.kind === 'generate' ? source.seed : 1);
  return times.map((arrivalS, i) => ({ session: sessionAt(source, i), arrivalS }));
}

/** Session `i` of a source; generated sessions are drawn lazily and memoised, in order. */
export function sessionAt(source: SessionSource, i: number): Session {
  if (source.kind === 'trace') {
    const s = source.sessions[i % source.sessions.length];
    return i < source.sessions.length ? s : { id: `${s.id}#${Math.floor(i / source.sessions.length)}`, steps: s.steps };
  }
  return generatedSessions(source, i + 1)[i];
}

const generated = new WeakMap<SessionSource, { rng: Rng; sessions: Session[] }>();

function generatedSessions(source: Extract<SessionSource, { kind: 'generate' }>, count: number): Session[] {
  let g = generated.get(source);
  if (!g) {
    g = { rng: new Rng(source.seed), sessions: [] };
    generated.set(source, g);
  }
  while (g.sessions.length < count) {
    const i = g.sessions.length;
    g.sessions.push(generateSession(g.rng, source.options, `${source.options.workflow}-${i}`));
  }
  return g.sessions;
}

const StepsSchema = z.array(StepSchema).min(1);
/** A trace line: the agent trace's session object plus an optional arrival time. */
const ServeSessionSchema = z
  .object({ id: z.string().optional(), arrivalS: z.number().finite().min(0).optional(), steps: StepsSchema })
  .strict();

function issueText(issue: { path: PropertyKey[]; message: string }, prefix: PropertyKey[]): string {
  const parts = [...prefix, ...issue.path];
  const path = parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
  return `${path || 'session'}: ${issue.message}`;
}

/**
 * Reads a serving trace: the agent trace format (one session per line, an object with `steps` or
 * a bare array of steps; see src/agents/trace.ts) plus an optional `"arrivalS": T` (seconds from
 * the start) on object lines. Either every session has an arrival time or none has.
 */
export function parseServeTrace(text: string, fileName = 'trace'): SessionSource {
  const sessions: Session[] = [];
  const arrivals: (number | null)[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new UserError(`${fileName}:${lineNo}: not valid JSON`);
    }
    if (Array.isArray(raw)) {
      const parsed = StepsSchema.safeParse(raw);
      if (!parsed.success) throw new UserError(`${fileName}:${lineNo}: ${issueText(parsed.error.issues[0], ['steps'])}`);
      sessions.push({ id: `line-${lineNo}`, steps: parsed.data });
      arrivals.push(null);
      return;
    }
    const parsed = ServeSessionSchema.safeParse(raw);
    if (!parsed.success) throw new UserError(`${fileName}:${lineNo}: ${issueText(parsed.error.issues[0], [])}`);
    sessions.push({ id: parsed.data.id ?? `line-${lineNo}`, steps: parsed.data.steps });
    arrivals.push(parsed.data.arrivalS ?? null);
  });
  if (sessions.length === 0) throw new UserError(`${fileName}: no sessions (the file is empty)`);
  const timed = arrivals.filter((a) => a !== null).length;
  if (timed > 0 && timed < arrivals.length) {
    throw new UserError(`${fileName}: ${timed} of ${arrivals.length} sessions have arrivalS: give it on every line or on none`);
  }
  return { kind: 'trace', sessions, arrivalsS: timed > 0 ? (arrivals as number[]) : null };
}

export function readServeTrace(path: string): SessionSource {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read trace ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseServeTrace(text, path);
}
