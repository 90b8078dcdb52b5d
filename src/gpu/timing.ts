import type { GpuContext } from './device.js';
import { Usage, MAP_READ_MODE } from './buffers.js';

/** One compute dispatch: a pipeline, its bind groups (index = group) and its workgroup counts. */
export interface Dispatch {
  pipeline: GPUComputePipeline;
  bindGroups: GPUBindGroup[];
  workgroups: [number, number?, number?];
}

export interface TimingOptions {
  /** shortest pass wanted; R grows until a pass lasts at least this (default 1 ms) */
  minPassS?: number;
  /** longest pass wanted (default 10 ms) */
  maxPassS?: number;
  /** timed passes (default 10) */
  repeats?: number;
  /** untimed passes first: pipeline compile, first-use clears (default 2) */
  warmup?: number;
  /** cap on iterations in one pass (default 4096) */
  maxIterationsPerPass?: number;
}

export interface Timing {
  /** median seconds per iteration */
  medianS: number;
  minS: number;
  maxS: number;
  /** (max - min) / median over the repeats */
  spreadRel: number;
  repeats: number;
  iterationsPerPass: number;
  method: 'timestamp-query' | 'wall-clock';
}

function encodeIteration(pass: GPUComputePassEncoder, iteration: Dispatch[]): void {
  for (const d of iteration) {
    pass.setPipeline(d.pipeline);
    d.bindGroups.forEach((g, i) => pass.setBindGroup(i, g));
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1] ?? 1, d.workgroups[2] ?? 1);
  }
}

/** Submits one iteration and waits until the GPU has finished it (used by verify). */
export async function runOnce(ctx: GpuContext, iteration: Dispatch[]): Promise<void> {
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  encodeIteration(pass, iteration);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
}

/** Runs passes of R iterations and returns each pass's duration in seconds. */
type PassTimer = { time(r: number): Promise<number>; destroy(): void; method: Timing['method'] };

/** Encodes r iterations of some GPU work into a command encoder (outside any pass). */
export type EncodeCommands = (encoder: GPUCommandEncoder, r: number) => void;

/** r iterations of dispatches inside one compute pass, with optional timestamps at its ends. */
function passEncoder(iteration: Dispatch[]): (encoder: GPUCommandEncoder, r: number, writes?: GPUComputePassTimestampWrites) => void {
  return (encoder, r, writes) => {
    const pass = encoder.beginComputePass(writes ? { timestampWrites: writes } : {});
    for (let i = 0; i < r; i++) encodeIteration(pass, iteration);
    pass.end();
  };
}

/** Commands outside a pass (copies) bracketed by two empty passes that carry the timestamps. */
function bracketEncoder(encode: EncodeCommands): (encoder: GPUCommandEncoder, r: number, writes?: GPUComputePassTimestampWrites) => void {
  return (encoder, r, writes) => {
    if (writes) encoder.beginComputePass({ timestampWrites: { querySet: writes.querySet, beginningOfPassWriteIndex: 0 } }).end();
    encode(encoder, r);
    if (writes) encoder.beginComputePass({ timestampWrites: { querySet: writes.querySet, endOfPassWriteIndex: 1 } }).end();
  };
}

type Encoder = (encoder: GPUCommandEncoder, r: number, writes?: GPUComputePassTimestampWrites) => void;

function timestampTimer(ctx: GpuContext, encode: Encoder): PassTimer {
  const { device } = ctx;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: Usage.QUERY_RESOLVE | Usage.COPY_SRC });
  const readback = device.createBuffer({ size: 16, usage: Usage.MAP_READ | Usage.COPY_DST });
  return {
    method: 'timestamp-query',
    async time(r: number) {
      const encoder = device.createCommandEncoder();
      encode(encoder, r, { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 });
      encoder.resolveQuerySet(querySet, 0, 2, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, readback, 0, 16);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(MAP_READ_MODE);
      const ts = new BigUint64Array(readback.getMappedRange().slice(0));
      readback.unmap();
      return Number(ts[1] - ts[0]) * 1e-9;
    },
    destroy() {
      querySet.destroy();
      resolve.destroy();
      readback.destroy();
    },
  };
}

function wallClockTimer(ctx: GpuContext, encode: Encoder): PassTimer {
  const { device } = ctx;
  return {
    method: 'wall-clock',
    async time(r: number) {
      // Encode first so that only submission and execution are inside the clock.
      const encoder = device.createCommandEncoder();
      encode(encoder, r);
      const commands = encoder.finish();
      const t0 = performance.now();
      device.queue.submit([commands]);
      await device.queue.onSubmittedWorkDone();
      return (performance.now() - t0) * 1e-3;
    },
    destroy() {},
  };
}

function median(sorted: number[]): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
}

/**
 * Times one iteration (the listed dispatches in order): one compute pass holds R iterations, with
 * timestamps at pass begin and end; R is adapted so the pass lasts minPassS..maxPassS. Without
 * timestamp-query, wall clock around submission and completion, over passes 10x longer so the
 * fixed submission cost is amortised.
 */
export async function timeIteration(ctx: GpuContext, iteration: Dispatch[], opts: TimingOptions = {}): Promise<Timing> {
  return timeEncoded(ctx, passEncoder(iteration), opts);
}

/**
 * Times commands recorded outside a compute pass (copyBufferToBuffer): r repetitions between two
 * empty timestamped passes, with the same adaptation, warm-up and repeats as timeIteration.
 */
export async function timeCommands(ctx: GpuContext, encode: EncodeCommands, opts: TimingOptions = {}): Promise<Timing> {
  return timeEncoded(ctx, bracketEncoder(encode), opts);
}

async function timeEncoded(ctx: GpuContext, encode: Encoder, opts: TimingOptions): Promise<Timing> {
  const wall = !ctx.hasTimestamps;
  const minPassS = (opts.minPassS ?? 1e-3) * (wall ? 10 : 1);
  const maxPassS = Math.max((opts.maxPassS ?? 1e-2) * (wall ? 10 : 1), minPassS);
  const repeats = Math.max(1, Math.round(opts.repeats ?? 10));
  const warmup = Math.max(0, Math.round(opts.warmup ?? 2));
  const maxR = Math.max(1, Math.round(opts.maxIterationsPerPass ?? 4096));
  const timer = wall ? wallClockTimer(ctx, encode) : timestampTimer(ctx, encode);
  try {
    for (let i = 0; i < warmup; i++) await timer.time(1);
    // Grow R towards the middle of [minPassS, maxPassS] from the measured single-pass time.
    const target = Math.sqrt(minPassS * maxPassS);
    let r = 1;
    for (let step = 0; step < 6; step++) {
      const t = await timer.time(r);
      if (t >= minPassS || r >= maxR) break;
      const perIter = Math.max(t / r, 1e-9);
      const next = Math.min(maxR, Math.max(r * 2, Math.round(target / perIter)));
      if (next === r) break;
      r = next;
    }
    const perIteration: number[] = [];
    for (let i = 0; i < repeats; i++) perIteration.push((await timer.time(r)) / r);
    // A zero reading (timestamps too coarse) must not become a zero duration.
    const positive = perIteration.map((t) => Math.max(t, 1e-12)).sort((a, b) => a - b);
    const med = median(positive);
    return {
      medianS: med,
      minS: positive[0],
      maxS: positive[positive.length - 1],
      spreadRel: (positive[positive.length - 1] - positive[0]) / med,
      repeats,
      iterationsPerPass: r,
      method: timer.method,
    };
  } finally {
    timer.destroy();
  }
}
