/**
 * Timing of whole model steps: one compute pass per step with GPU timestamps at its ends plus the
 * wall clock from submit to completion; or one pass per operator (its dispatches of every layer,
 * repeated), each with its own timestamps, to get the time of every operator inside the step.
 */
import type { GpuContext } from '../gpu/device.js';
import { Usage, MAP_READ_MODE } from '../gpu/buffers.js';
import type { Dispatch } from '../gpu/timing.js';

export interface StepTiming {
  /** GPU time of the pass holding the whole step (timestamps), null without timestamp-query */
  gpuS: number | null;
  /** submit to completion, host clock */
  wallS: number;
}

function encode(pass: GPUComputePassEncoder, d: Dispatch): void {
  pass.setPipeline(d.pipeline);
  d.bindGroups.forEach((g, i) => pass.setBindGroup(i, g));
  pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1] ?? 1, d.workgroups[2] ?? 1);
}

/** Runs the dispatches in one compute pass; GPU timestamps around it and wall clock around the submit. */
export async function timeStep(ctx: GpuContext, dispatches: readonly Dispatch[]): Promise<StepTiming> {
  const { device } = ctx;
  const ts = ctx.hasTimestamps;
  const querySet = ts ? device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
  const resolve = ts ? device.createBuffer({ size: 16, usage: Usage.QUERY_RESOLVE | Usage.COPY_SRC }) : null;
  const readback = ts ? device.createBuffer({ size: 16, usage: Usage.MAP_READ | Usage.COPY_DST }) : null;
  try {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass(querySet ? { timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
    for (const d of dispatches) encode(pass, d);
    pass.end();
    if (querySet && resolve && readback) {
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, readback, 0, 16);
    }
    const commands = encoder.finish();
    const t0 = performance.now();
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
    const wallS = (performance.now() - t0) * 1e-3;
    let gpuS: number | null = null;
    if (readback) {
      await readback.mapAsync(MAP_READ_MODE);
      const t = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      gpuS = Number(t[1] - t[0]) * 1e-9;
    }
    return { gpuS, wallS };
  } finally {
    querySet?.destroy();
    resolve?.destroy();
    readback?.destroy();
  }
}

/** Empty timestamped passes appended to a per-kernel run: their median is the cost of a pass itself. */
const EMPTY_PASSES = 9;

export interface KernelTimes {
  /** seconds per sequence (one run of its dispatches), the cost of its pass (begin, end, flush) taken out */
  seconds: number[];
  /** median duration of an empty timestamped pass, subtracted from each */
  passOverheadS: number;
}

/**
 * Runs each sequence of dispatches in its own timestamped pass (in order, one submit), repeated
 * back to back inside that pass (`repeat`: one count for all, or one per sequence), then empty
 * passes. A pass costs more than a dispatch inside one (on lavapipe 5-100 us against a few us for a
 * small kernel), so the median empty pass is subtracted and the rest divided by the repeat count:
 * what is left is the sequence as it runs among others inside a step's pass (repeating amortises
 * what the first dispatch of a pass pays, as the calibration's timing does). selfcheck passes one
 * operator's dispatches of every layer as one sequence: the layers' weights take turns, as the
 * calibration's cold copies do (src/calibrate/copies.ts).
 *
 * `warm` (one count for all, or one per sequence) runs the sequence that many times in an untimed
 * pass just before its timed one: a small kernel right after a heavy one runs slower for a while
 * (see warmRepeats), and the calibration times every kernel in that steady state.
 */
export async function timeSequences(
  ctx: GpuContext,
  sequences: readonly (readonly Dispatch[])[],
  repeat: number | readonly number[] = 1,
  warm: number | readonly number[] = 0,
): Promise<KernelTimes> {
  if (!ctx.hasTimestamps) throw new Error('per-kernel timing needs the timestamp-query feature');
  const { device } = ctx;
  const kernels = sequences.length;
  const count = (c: number | readonly number[], i: number, least: number) => Math.max(least, Math.round(typeof c === 'number' ? c : (c[i] ?? least)));
  const repeats = sequences.map((_, i) => count(repeat, i, 1));
  const warms = sequences.map((_, i) => count(warm, i, 0));
  const n = kernels + EMPTY_PASSES;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 * n });
  const resolve = device.createBuffer({ size: 16 * n, usage: Usage.QUERY_RESOLVE | Usage.COPY_SRC });
  const readback = device.createBuffer({ size: 16 * n, usage: Usage.MAP_READ | Usage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder();
    for (let i = 0; i < n; i++) {
      if (i < kernels && warms[i] > 0) {
        const warmPass = encoder.beginComputePass();
        for (let r = 0; r < warms[i]; r++) for (const d of sequences[i]) encode(warmPass, d);
        warmPass.end();
      }
      const pass = encoder.beginComputePass({ timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      if (i < kernels) for (let r = 0; r < repeats[i]; r++) for (const d of sequences[i]) encode(pass, d);
      pass.end();
    }
    encoder.resolveQuerySet(querySet, 0, 2 * n, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, readback, 0, 16 * n);
    device.queue.submit([encoder.finish()]);
    await readback.mapAsync(MAP_READ_MODE);
    const t = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    const raw = Array.from({ length: n }, (_, i) => Math.max(0, Number(t[2 * i + 1] - t[2 * i])) * 1e-9);
    const empty = raw.slice(kernels).sort((a, b) => a - b);
    const passOverheadS = empty[(empty.length - 1) >> 1];
    return { seconds: raw.slice(0, kernels).map((s, i) => Math.max(0, s - passOverheadS) / repeats[i]), passOverheadS };
  } finally {
    querySet.destroy();
    resolve.destroy();
    readback.destroy();
  }
}

/** Shortest pass of repeats per kernel wanted, as the calibration times its kernels (minPassS). */
export const KERNEL_PASS_S = 1e-3;
/** Fewest and most repeats of one kernel in its pass. */
export const KERNEL_REPEATS = { min: 4, max: 64 } as const;

/**
 * Repeats per sequence so that each one's pass lasts about KERNEL_PASS_S, from a first timing:
 * what the first dispatch of a pass pays (on lavapipe ~40 us, more than a small kernel itself)
 * then weighs under 1/min of a long kernel and a few us on a short one.
 */
export function kernelRepeats(firstS: readonly number[]): number[] {
  return firstS.map((s) => Math.min(KERNEL_REPEATS.max, Math.max(KERNEL_REPEATS.min, Math.ceil(KERNEL_PASS_S / Math.max(s, 1e-7)))));
}

/**
 * Untimed repeats before each sequence's timed pass: as many as timed for a sequence shorter than
 * KERNEL_PASS_S, none for a longer one. On lavapipe (Xeon VM, 2026-12-03) a small dispatch right
 * after a heavy pass ran slower for about 0.5 ms: wide-shallow's final norm took 8.7 us per
 * dispatch over the first 16 after the down projection, 6.9 us after 48, against 6.4 us after
 * another small kernel; in a pass of 64 repeats that lifted its time per dispatch by about 20%.
 * A sequence of 1 ms or more pays it once over a long pass (under 3%).
 */
export function warmRepeats(firstS: readonly number[], repeats: readonly number[]): number[] {
  return firstS.map((s, i) => (s < KERNEL_PASS_S ? (repeats[i] ?? 0) : 0));
}
