/**
 * Runs suite cases: prepare -> verify (an unverified kernel's timing is never kept) -> time ->
 * Measurement. Failures are collected, not thrown, so one bad kernel does not lose the run.
 * Cases small enough to keep are timed again in later rounds over the whole suite, and their time
 * is the median of the rounds' medians: on a shared machine whose speed moves for seconds at a
 * time (the CI VM: up to 2x), back-to-back repeats all land in the same fast or slow stretch, while
 * rounds minutes apart do not.
 */
import type { GpuContext } from '../gpu/device.js';
import { timeCommands, timeIteration, type Timing, type TimingOptions } from '../gpu/timing.js';
import type { Measurement } from '../profile/schema.js';
import type { CommandKernelRun } from '../kernels/stream.js';
import type { KernelRun } from '../kernels/types.js';
import { prepareColdCopies } from './copies.js';
import { defaultTiming } from './timing-defaults.js';
import { loadFamilies, type AnyKernelRun, type CaseResult, type SuiteCase, type SuiteFamily, type SuiteMode } from './suite.js';
import { median } from './fit.js';

export interface SuiteProgress {
  /** cases finished so far, of `total` planned so far (planning adds cases as families are reached) */
  done: number;
  total: number;
  label: string;
}

export interface RunSuiteOptions {
  mode: SuiteMode;
  /** only these families (default: all registered) */
  families?: string[];
  /** run these families instead of the registry's (tests, custom suites) */
  familyList?: SuiteFamily[];
  timing?: TimingOptions;
  /** timing rounds over the suite (default ROUNDS); a case is timed in each round it is kept alive for */
  rounds?: number;
  onProgress?(p: SuiteProgress): void;
  /** called after each verified case with the seconds in which its timed runs kept the GPU busy
   *  (power sampling; first round only) */
  onCaseWindow?(w: CaseWindow): void;
  /** f16 points in the quick suite too, where the adapter has shader-f16 (the full suite always takes them) */
  f16?: boolean;
}

/**
 * When a case's timed repetitions ran (clock: performance.now() in seconds) and what they did, so
 * power samples taken meanwhile can be attributed to it. Preparation and CPU verification are outside.
 */
export interface CaseWindow {
  id: string;
  family: string;
  kernelClass?: string;
  dtype: Measurement['dtype'];
  startS: number;
  endS: number;
  /** per invocation, as in the measurement */
  flops: number;
  bytes: number;
  seconds: number;
}

export interface SuiteResult {
  measurements: Measurement[];
  failures: { id: string; error: string }[];
  timingMethod: Timing['method'];
  /** the variant each tuned family kept, and other per-case notes */
  cases: CaseResult[];
  /** wall seconds spent in each family's cases (tuning inside plan() is counted where it measures) */
  familySeconds: Record<string, number>;
  elapsedS: number;
}

export { defaultTiming };

/** Timing rounds over the suite by default. */
export const ROUNDS = 3;
/** Cases moving more than this per invocation are timed once (their buffers are not kept alive). */
const KEEP_MAX_BYTES = 128 * 2 ** 20;
/** Most bytes (by the cases' per-invocation traffic) kept alive for later rounds. */
const KEEP_TOTAL_BYTES = 2 ** 30;

function isCommandRun(run: AnyKernelRun): run is CommandKernelRun {
  return typeof (run as Partial<CommandKernelRun>).encode === 'function';
}

/** A case's run that is made of dispatches (cold copies join their iterations). */
async function dispatchRun(pending: Promise<AnyKernelRun>): Promise<KernelRun> {
  const run = await pending;
  if (isCommandRun(run)) {
    run.destroy();
    throw new Error('cold copies need a run of dispatches, not of commands');
  }
  return run;
}

/** Verifies and times one case; never throws. */
export async function runCase(
  ctx: GpuContext,
  c: SuiteCase,
  timing: TimingOptions = {},
  onWindow?: (w: CaseWindow) => void,
  keep?: (run: AnyKernelRun) => boolean,
): Promise<CaseResult & { timing?: Timing; kept?: AnyKernelRun }> {
  let run: AnyKernelRun | undefined;
  try {
    run = c.coldCopies ? await prepareColdCopies(ctx, (x) => dispatchRun(c.prepare(x))) : await c.prepare(ctx);
  } catch (err) {
    return { id: c.id, family: c.family, error: `prepare failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    const v = await run.verify();
    if (!v.ok) {
      const last = ctx.errors.length ? ` (device: ${ctx.errors[ctx.errors.length - 1]})` : '';
      return { id: c.id, family: c.family, error: `verification failed: relError ${v.relError}${last}` };
    }
    const t = await timeRun(ctx, c, run, timing, onWindow);
    const measurement: Measurement = {
      kernel: run.kernel,
      kernelClass: run.kernelClass,
      shape: run.shape,
      dtype: run.dtype,
      flops: run.flops,
      bytes: run.bytes,
      seconds: t.medianS,
      minSeconds: t.minS,
      repeats: t.repeats,
      relError: v.relError,
      verified: true,
      ...(run.variant ? { variant: run.variant } : {}),
    };
    if (keep?.(run)) {
      const kept = run;
      run = undefined;
      return { id: c.id, family: c.family, measurement, timing: t, kept };
    }
    return { id: c.id, family: c.family, measurement, timing: t };
  } catch (err) {
    return { id: c.id, family: c.family, error: `run failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    run?.destroy();
  }
}

/** An iteration's timing as the time of one kernel invocation (KernelRun.invocations). */
export function perInvocation(t: Timing, invocations = 1): Timing {
  if (!(invocations > 1)) return t;
  return { ...t, medianS: t.medianS / invocations, minS: t.minS / invocations, maxS: t.maxS / invocations };
}

/** Times a verified run once (one round) and reports the window of its timed passes. */
async function timeRun(ctx: GpuContext, c: SuiteCase, run: AnyKernelRun, timing: TimingOptions, onWindow?: (w: CaseWindow) => void): Promise<Timing> {
  const opts = { ...timing, ...c.timing };
  const startS = performance.now() / 1000;
  const t = perInvocation(isCommandRun(run) ? await timeCommands(ctx, run.encode, opts) : await timeIteration(ctx, run.iteration, opts), run.invocations);
  onWindow?.({
    id: c.id,
    family: c.family,
    ...(run.kernelClass ? { kernelClass: run.kernelClass } : {}),
    dtype: run.dtype,
    startS,
    endS: performance.now() / 1000,
    flops: run.flops,
    bytes: run.bytes,
    seconds: t.medianS,
  });
  return t;
}


/** Plans and runs every family for a mode. */
export async function runSuite(ctx: GpuContext, opts: RunSuiteOptions): Promise<SuiteResult> {
  const start = performance.now();
  const timing = { ...defaultTiming(opts.mode), ...opts.timing };
  const families: SuiteFamily[] = opts.familyList ?? (await loadFamilies(opts.families));
  const results: CaseResult[] = [];
  let total = 0;
  let done = 0;
  const report = (label: string) => opts.onProgress?.({ done, total, label });
  const rounds = Math.max(1, Math.round(opts.rounds ?? ROUNDS));
  // runs kept alive for the later rounds, with their result and the medians of the rounds so far
  const alive: { c: SuiteCase; run: AnyKernelRun; result: CaseResult; medians: number[]; minS: number; repeats: number }[] = [];
  let aliveBytes = 0;
  const keep = (run: AnyKernelRun): boolean => {
    // a run over several copies of its inputs holds about that many times its traffic
    const held = run.bytes * (run.invocations ?? 1);
    if (rounds < 2 || run.bytes > KEEP_MAX_BYTES || aliveBytes + held > KEEP_TOTAL_BYTES) return false;
    aliveBytes += held;
    return true;
  };
  const measure = async (c: SuiteCase): Promise<CaseResult> => {
    report(c.id);
    const t0 = performance.now();
    const r = await runCase(ctx, c, timing, opts.onCaseWindow, keep);
    const { timing: t, kept: run, ...rest } = r;
    const result: CaseResult = { ...rest, elapsedS: (performance.now() - t0) / 1000 };
    results.push(result);
    if (run && t) alive.push({ c, run, result, medians: [t.medianS], minS: t.minS, repeats: t.repeats });
    done++;
    report(c.id);
    return result;
  };
  // Plan everything first (tuning runs count as they happen) so the bar knows its length early.
  const planned: SuiteCase[] = [];
  for (const family of families) {
    report(`planning ${family.name}`);
    const tools = {
      measure: async (c: SuiteCase) => {
        total++;
        return measure(c);
      },
      note: (label: string) => report(label),
      f16: opts.f16,
    };
    try {
      const cases = await family.plan(ctx, opts.mode, tools);
      total += cases.length;
      planned.push(...cases);
    } catch (err) {
      results.push({ id: `${family.name} (plan)`, family: family.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  try {
    for (const c of planned) await measure(c);
    total += (rounds - 1) * alive.length;
    for (let round = 2; round <= rounds; round++) {
      for (const a of alive) {
        const label = `round ${round}/${rounds}: ${a.c.id}`;
        report(label);
        const t0 = performance.now();
        try {
          // no power window: later rounds hop between cases faster than a power sensor settles
          const t = await timeRun(ctx, a.c, a.run, timing);
          a.medians.push(t.medianS);
          a.minS = Math.min(a.minS, t.minS);
          a.repeats += t.repeats;
        } catch (err) {
          // a later round that fails leaves the earlier rounds' time standing
          opts.onProgress?.({ done, total, label: `${label} failed: ${err instanceof Error ? err.message : String(err)}` });
        }
        a.result.elapsedS = (a.result.elapsedS ?? 0) + (performance.now() - t0) / 1000;
        done++;
        report(label);
      }
    }
    for (const a of alive) {
      const m = a.result.measurement!;
      a.result.measurement = { ...m, seconds: median(a.medians), minSeconds: a.minS, repeats: a.repeats };
    }
  } finally {
    for (const a of alive) a.run.destroy();
  }
  const familySeconds: Record<string, number> = {};
  for (const r of results) familySeconds[r.family] = (familySeconds[r.family] ?? 0) + (r.elapsedS ?? 0);
  return {
    measurements: results.flatMap((r) => (r.measurement ? [r.measurement] : [])),
    failures: results.flatMap((r) => (r.error ? [{ id: r.id, error: r.error }] : [])),
    timingMethod: ctx.hasTimestamps ? 'timestamp-query' : 'wall-clock',
    cases: results,
    familySeconds,
    elapsedS: (performance.now() - start) / 1000,
  };
}
