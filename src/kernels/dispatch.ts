/**
 * Dispatch overhead (shaders/dispatch.wgsl): a near-empty kernel, one per iteration, so the timed
 * pass holds R back-to-back dispatches and the time per iteration is the cost of one more dispatch.
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer } from '../gpu/buffers.js';
import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { runOnce } from '../gpu/timing.js';
import type { KernelRun } from './types.js';
import { freshSeed } from './verify.js';

export interface DispatchShape {
  /** workgroups per dispatch (1 = the bare launch cost) */
  workgroups: number;
  /** dispatches per iteration */
  dispatches: number;
}

export async function prepareDispatch(ctx: GpuContext, shape: DispatchShape): Promise<KernelRun> {
  const token = (freshSeed() | 1) >>> 0;
  const pipeline = await createPipelineChecked(ctx, loadWgsl('dispatch'), { WG: 64, TOKEN: token });
  const sink = createBuffer(ctx, 16);
  const bindGroup = bindBuffers(ctx, pipeline, [sink]);
  const one = { pipeline, bindGroups: [bindGroup], workgroups: [shape.workgroups] as [number] };
  const iteration = Array.from({ length: shape.dispatches }, () => one);
  return {
    kernel: 'dispatch-empty',
    kernelClass: 'dispatch',
    shape: { workgroups: shape.workgroups, dispatches: shape.dispatches },
    dtype: 'f32',
    flops: 0,
    bytes: 4 * shape.dispatches,
    iteration,
    async verify() {
      poisonBuffer(ctx, sink, 16, 0);
      await runOnce(ctx, iteration);
      const got = new Uint32Array(await readBuffer(ctx, sink, 16));
      // the token reached memory and nothing else was touched
      const ok = got[0] === token && got[1] === 0 && got[2] === 0 && got[3] === 0;
      return { relError: ok ? 0 : Infinity, ok };
    },
    destroy() {
      sink.destroy();
    },
  };
}
