/**
 * `calibrate --power`: samples GPU power in the background while the suite runs (after an idle
 * stretch), attributes each sample to the case whose timed runs it fell in, and fits the energy
 * model's idle, compute-bound and memory-bound power from the medians of each phase.
 */
import type { GpuContext } from '../gpu/device.js';
import { startPowerSampler, type PowerReader, type PowerSample } from '../energy/sampler.js';
import { powerAtUtilisationW, profilePowerModel } from '../energy/power.js';
import type { Ceilings, PowerPhase, ProfilePower } from '../profile/schema.js';
import { runSuite, type CaseWindow, type RunSuiteOptions, type SuiteResult } from './runner.js';
import { median } from './fit.js';

export const DEFAULT_POWER_IDLE_S = 2;
export const DEFAULT_POWER_INTERVAL_MS = 100;
/** the note printed when power is not measured */
export const POWER_DEFAULTS_KEPT = "the profile keeps the catalog's power defaults";

export interface PowerCapture {
  source: string;
  intervalS: number;
  sampledAt: string;
  /** the idle stretch before the suite (clock: performance.now() in seconds) */
  idle: { startS: number; endS: number };
  windows: CaseWindow[];
  samples: PowerSample[];
  readErrors: number;
}

export interface PowerRunOptions {
  reader: PowerReader;
  intervalS: number;
  /** seconds of idle sampling before the suite (default 2) */
  idleS?: number;
  /** told when the idle stretch starts (progress label) */
  onIdle?(seconds: number): void;
}

const nowS = () => performance.now() / 1000;

/** Runs the suite with a power sampler in the background, after `idleS` seconds of idle sampling. */
export async function runSuiteWithPower(
  ctx: GpuContext,
  suite: RunSuiteOptions,
  power: PowerRunOptions,
): Promise<{ result: SuiteResult; capture: PowerCapture }> {
  const idleS = power.idleS ?? DEFAULT_POWER_IDLE_S;
  const windows: CaseWindow[] = [];
  const sampledAt = new Date().toISOString();
  // let the device settle from opening before the idle stretch counts
  await ctx.device.queue.onSubmittedWorkDone();
  const sampler = startPowerSampler(power.reader, power.intervalS);
  const idleStart = nowS();
  power.onIdle?.(idleS);
  await new Promise((r) => setTimeout(r, idleS * 1000));
  const idle = { startS: idleStart, endS: nowS() };
  let samples: PowerSample[] = [];
  let result: SuiteResult;
  try {
    result = await runSuite(ctx, {
      ...suite,
      onCaseWindow: (w) => {
        windows.push(w);
        suite.onCaseWindow?.(w);
      },
    });
  } finally {
    samples = await sampler.stop();
  }
  return {
    result,
    capture: { source: power.reader.source, intervalS: power.intervalS, sampledAt, idle, windows, samples, readErrors: sampler.errors() },
  };
}

type Phase = 'compute' | 'memory';

interface ClassifiedWindow extends CaseWindow {
  phase: Phase;
  uMem: number;
  uFlop: number;
}

export interface PowerFitOptions {
  /** a kernel counts for a phase only if it reached this fraction of its bound ceiling (default 0.1) */
  minUtil?: number;
  /**
   * samples this soon after a phase starts are dropped, because sensors average (nvidia-smi power.draw
   * over up to 1 s); at most a quarter of the phase (default 0.5 s)
   */
  settleS?: number;
  /** fewest samples each phase needs (default 2) */
  minSamples?: number;
}

/**
 * Roofline phase of a case: compute-bound where its FLOPs per byte reach the ridge of the profile's
 * ceilings (FMA peak / DRAM bandwidth), memory-bound below; cases that reached less than `minUtil`
 * of their bound ceiling (launch-bound, tiny) belong to neither.
 */
export function classifyWindow(w: CaseWindow, ceilings: Ceilings, minUtil = 0.1): ClassifiedWindow | null {
  if (!(w.seconds > 0) || (w.flops <= 0 && w.bytes <= 0)) return null;
  const peakFlops = w.dtype === 'f16' ? (ceilings.fmaF16FlopsPerS ?? ceilings.fmaF32FlopsPerS) : ceilings.fmaF32FlopsPerS;
  const ridge = peakFlops / ceilings.memoryBytesPerS;
  const intensity = w.bytes > 0 ? w.flops / w.bytes : Infinity;
  const uFlop = w.flops / (w.seconds * peakFlops);
  const uMem = w.bytes / (w.seconds * ceilings.memoryBytesPerS);
  const phase: Phase = intensity >= ridge ? 'compute' : 'memory';
  if ((phase === 'compute' ? uFlop : uMem) < minUtil) return null;
  return { ...w, phase, uMem, uFlop };
}


export type PowerFitResult = { ok: true; power: ProfilePower } | { ok: false; reason: string };

/**
 * Fits the profile's power record: idle = median of the idle stretch; compute and memory power =
 * medians of the samples taken inside compute- and memory-bound cases (after the settle time of
 * each run of same-phase cases); the reference utilisations are the medians those cases achieved,
 * so the energy model (src/energy/power.ts) draws the measured power where the kernels ran.
 */
export function fitCapturedPower(capture: PowerCapture, ceilings: Ceilings, options: PowerFitOptions = {}): PowerFitResult {
  const minSamples = options.minSamples ?? 2;
  const settleS = options.settleS ?? 0.5;
  if (capture.samples.length === 0) {
    return { ok: false, reason: `${capture.source} gave no readings${capture.readErrors ? ` (${capture.readErrors} failed)` : ''}` };
  }
  const idleW = capture.samples.filter((s) => s.tS >= capture.idle.startS && s.tS <= capture.idle.endS).map((s) => s.powerW);

  const windows = capture.windows
    .map((w) => classifyWindow(w, ceilings, options.minUtil))
    .filter((w): w is ClassifiedWindow => w !== null)
    .sort((a, b) => a.startS - b.startS);
  // runs of consecutive same-phase cases: a sensor that averages needs time after each change
  const spanStart = new Map<ClassifiedWindow, number>();
  const spanEnd = new Map<ClassifiedWindow, number>();
  for (let i = 0; i < windows.length; ) {
    let j = i;
    while (j + 1 < windows.length && windows[j + 1].phase === windows[i].phase) j++;
    for (let k = i; k <= j; k++) {
      spanStart.set(windows[k], windows[i].startS);
      spanEnd.set(windows[k], windows[j].endS);
    }
    i = j + 1;
  }
  const attributed: Record<Phase, { powerW: number; w: ClassifiedWindow }[]> = { compute: [], memory: [] };
  for (const s of capture.samples) {
    const w = windows.find((x) => s.tS >= x.startS && s.tS <= x.endS);
    if (!w) continue;
    const start = spanStart.get(w)!;
    const settle = Math.min(settleS, 0.25 * (spanEnd.get(w)! - start));
    if (s.tS < start + settle) continue;
    attributed[w.phase].push({ powerW: s.powerW, w });
  }

  const short: string[] = [];
  if (idleW.length < minSamples) short.push(`${idleW.length} idle`);
  for (const phase of ['compute', 'memory'] as const) {
    if (attributed[phase].length < minSamples) short.push(`${attributed[phase].length} ${phase}-bound`);
  }
  if (short.length) {
    return {
      ok: false,
      reason: `too few samples (${short.join(', ')}; need ${minSamples} each): run the full suite (fma and stream at least) or lower --power-interval-ms`,
    };
  }
  const phaseOf = (rows: { powerW: number; w: ClassifiedWindow }[]): PowerPhase => ({
    powerW: median(rows.map((r) => r.powerW)),
    samples: rows.length,
    uMem: median(rows.map((r) => r.w.uMem)),
    uFlop: median(rows.map((r) => r.w.uFlop)),
  });
  const idle: PowerPhase = { powerW: median(idleW), samples: idleW.length, uMem: 0, uFlop: 0 };
  const compute = phaseOf(attributed.compute);
  const memory = phaseOf(attributed.memory);
  for (const [name, p] of [['memory-bound', memory], ['compute-bound', compute]] as const) {
    if (!(p.powerW > idle.powerW)) {
      return {
        ok: false,
        reason: `${name} power (${p.powerW.toFixed(1)} W) did not rise above idle (${idle.powerW.toFixed(1)} W): ${capture.source} may not see this GPU`,
      };
    }
  }
  const clampUtil = (u: number) => Math.min(1, Math.max(0.01, u));
  const model = {
    idleW: idle.powerW,
    tdpW: compute.powerW,
    memoryBoundW: memory.powerW,
    memoryRefUtil: clampUtil(memory.uMem),
    computeRefUtil: clampUtil(compute.uFlop),
  };
  const power: ProfilePower = {
    source: capture.source,
    sampledAt: capture.sampledAt,
    intervalS: capture.intervalS,
    samples: idle.samples + compute.samples + memory.samples,
    idleW: idle.powerW,
    computeW: compute.powerW,
    memoryW: memory.powerW,
    phases: { idle, compute, memory },
    model,
    rmsErrorW: 0,
  };
  // how well the fitted model reproduces every attributed sample (cross terms included)
  const pm = profilePowerModel(power, 'local');
  const rows = [...attributed.compute, ...attributed.memory];
  power.rmsErrorW = Math.sqrt(rows.reduce((acc, r) => acc + (r.powerW - powerAtUtilisationW(pm, r.w.uMem, r.w.uFlop)) ** 2, 0) / rows.length);
  return { ok: true, power };
}
