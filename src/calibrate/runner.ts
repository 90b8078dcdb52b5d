/**
 * Runs suite cases: prepare -> verify (an unverified kernel's timing is never kept) -> time ->
 * Measurement. Failures are collected, not thrown, so one bad kernel does not lose the run.
 */
import type { GpuContext } from '../gpu/device.js';
import { timeCommands, timeIteration, type Timing, type TimingOptions } from '../gpu/timing.js';
import type { Measurement } from '../profile/schema.js';
import type { CommandKernelRun } from '../kernels/stream.js';
import { defaultTiming } from './timing-defaults.js';
import { loadFamilies, type AnyKernelRun, type CaseResult, type SuiteCase, type SuiteFamily, type SuiteMode } from './suite.js';

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
  onProgress?(p: SuiteProgress): void;
  /** called after each verified case with the seconds in which its timed runs kept the GPU busy (power sampling) */
  onCaseWindow?(w: CaseWindow): void;
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

function isCommandRun(run: AnyKernelRun): run is CommandKernelRun {
  return typeof (run as Partial<CommandKernelRun>).encode === 'function';
}

/** Verifies and times one case; never throws. */
export async function runCase(
  ctx: GpuContext,
  c: SuiteCase,
  timing: TimingOptions = {},
  onWindow?: (w: CaseWindow) => void,
): Promise<CaseResult & { timing?: Timing }> {
  let run: AnyKernelRun;
  try {
    run = await c.prepare(ctx);
  } catch (err) {
    return { id: c.id, family: c.family, error: `prepare failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  try {
    const v = await run.verify();
    if (!v.ok) {
      const last = ctx.errors.length ? ` (device: ${ctx.errors[ctx.errors.length - 1]})` : '';
      return { id: c.id, family: c.family, error: `verification failed: relError ${v.relError}${last}` };
    }
    const opts = { ...timing, ...c.timing };
    const startS = performance.now() / 1000;
    const t = isCommandRun(run)
      ? await timeCommands(ctx, run.encode, opts)
      : await timeIteration(ctx, run.iteration, opts);
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
    return { id: c.id, family: c.family, measurement, timing: t };
  } catch (err) {
    return { id: c.id, family: c.family, error: `run failed: ${err instanceof Error ? err.message : String(err)}` };
  } finally {
    run.destroy();
  }
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
  const measure = async (c: SuiteCase): Promise<CaseResult> => {
    report(c.id);
    const t0 = performance.now();
    const r = await runCase(ctx, c, timing, opts.onCaseWindow);
    const { timing: _t, ...rest } = r as CaseResult & { timing?: Timing };
    const kept: CaseResult = { ...rest, elapsedS: (performance.now() - t0) / 1000 };
    results.push(kept);
    done++;
    report(c.id);
    return kept;
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
    };
    try {
      const cases = await family.plan(ctx, opts.mode, tools);
      total += cases.length;
      planned.push(...cases);
    } catch (err) {
      results.push({ id: `${family.name} (plan)`, family: family.name, error: err instanceof Error ? err.message : String(err) });
    }
  }
  for (const c of planned) await measure(c);
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
