import { UserError } from '../errors.js';
import { generateSession, type GenerateOptions } from '../agents/generate.js';
import { Rng } from '../agents/rng.js';
import { parseTraceJsonl, readTraceFile, type Session } from '../agents/trace.js';

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

/**
 * Reads a serving trace: the agent trace format (src/agents/trace.ts: one session per line, an
 * object with `steps` or a bare array of steps) whose object lines may carry `"arrivalS": T`
 * (seconds from the start). Either every session has an arrival time or none has.
 */
export function parseServeTrace(text: string, fileName = 'trace'): SessionSource {
  return withArrivals(parseTraceJsonl(text, fileName), fileName);
}

export function readServeTrace(path: string): SessionSource {
  return withArrivals(readTraceFile(path), path);
}

function withArrivals(sessions: Session[], fileName: string): SessionSource {
  const timed = sessions.filter((s) => s.arrivalS !== undefined).length;
  if (timed > 0 && timed < sessions.length) {
    throw new UserError(`${fileName}: ${timed} of ${sessions.length} sessions have arrivalS: give it on every line or on none`);
  }
  return { kind: 'trace', sessions, arrivalsS: timed > 0 ? sessions.map((s) => s.arrivalS as number) : null };
}
