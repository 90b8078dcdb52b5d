import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';

/**
 * Agent traces: what one request (a session) asks of the LLM and its tools, independent of the
 * model and hardware that serve it. JSONL on disk: one session per line, either an object
 * `{"id": "...", "steps": [...]}` or a bare array of steps.
 *
 * Steps:
 * - `{"type":"llm","inputTokens":N,"cachedPrefixTokens":C,"outputTokens":M,"parallel":P}`:
 *   an LLM call whose prompt has N tokens, the first C of which repeat an earlier prompt of the
 *   session (reusable when prefix caching is on); it generates M tokens. P (default 1) identical
 *   calls run concurrently on the same prompt (LATS children): they decode as one batch of P.
 * - `{"type":"tool","seconds":S,"overlap":false}`: a tool call of S seconds; the GPUs stay
 *   allocated and idle. With `overlap: true` the tool started when the previous LLM call began
 *   decoding (LLMCompiler streams tasks while it plans), so only what is left of it is waited for.
 */
export const LlmStepSchema = z
  .object({
    type: z.literal('llm'),
    inputTokens: z.number().int().min(1),
    cachedPrefixTokens: z.number().int().min(0).optional(),
    outputTokens: z.number().int().min(1),
    parallel: z.number().int().min(1).optional(),
  })
  .strict()
  .refine((s) => (s.cachedPrefixTokens ?? 0) <= s.inputTokens, {
    message: 'cachedPrefixTokens must not exceed inputTokens',
    path: ['cachedPrefixTokens'],
  });

export const ToolStepSchema = z
  .object({
    type: z.literal('tool'),
    seconds: z.number().min(0).finite(),
    overlap: z.boolean().optional(),
  })
  .strict();

export const StepSchema = z.discriminatedUnion('type', [LlmStepSchema, ToolStepSchema]);
const StepsSchema = z.array(StepSchema).min(1);
/** `arrivalS` (seconds from the start) is read by `roofcast serve` to replay arrivals; costing one session ignores it. */
export const SessionObjectSchema = z
  .object({ id: z.string().optional(), arrivalS: z.number().finite().min(0).optional(), steps: StepsSchema })
  .strict();

export type LlmStep = z.infer<typeof LlmStepSchema>;
export type ToolStep = z.infer<typeof ToolStepSchema>;
export type Step = LlmStep | ToolStep;

export interface Session {
  id: string;
  steps: Step[];
  /** arrival time in a recorded trace, seconds from its start (serving replays it) */
  arrivalS?: number;
}

/** `steps[2].outputTokens: ...`: the field of the line that is wrong. */
function describeIssue(issue: z.core.$ZodIssue, bareArray: boolean): string {
  const parts = bareArray ? ['steps', ...issue.path] : issue.path;
  const path = parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`)).join('');
  return `${path || 'session'}: ${issue.message}`;
}

/** Parses JSONL text; errors name the file and the 1-based line. Blank lines are skipped. */
export function parseTraceJsonl(text: string, fileName = 'trace'): Session[] {
  const sessions: Session[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line.trim() === '') return;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch {
      throw new UserError(`${fileName}:${lineNo}: not valid JSON`);
    }
    // a bare array of steps, or an object with an id and the steps
    const bareArray = Array.isArray(raw);
    const parsed = bareArray ? StepsSchema.safeParse(raw) : SessionObjectSchema.safeParse(raw);
    if (!parsed.success) {
      throw new UserError(`${fileName}:${lineNo}: ${describeIssue(parsed.error.issues[0], bareArray)}`);
    }
    const value = parsed.data;
    if (Array.isArray(value)) sessions.push({ id: `line-${lineNo}`, steps: value });
    else {
      const session: Session = { id: value.id ?? `line-${lineNo}`, steps: value.steps };
      if (value.arrivalS !== undefined) session.arrivalS = value.arrivalS;
      sessions.push(session);
    }
  });
  if (sessions.length === 0) throw new UserError(`${fileName}: no sessions (the file is empty)`);
  return sessions;
}

export function readTraceFile(path: string): Session[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read trace ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseTraceJsonl(text, path);
}

/** One session per line, in the object form the reader accepts. */
export function toTraceJsonl(sessions: Session[]): string {
  return sessions.map((s) => JSON.stringify({ id: s.id, steps: s.steps })).join('\n') + '\n';
}
