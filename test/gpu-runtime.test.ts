import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, parseAvailableAdapters, dawnFlags, adapterSlug, type GpuContext } from '../src/gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer } from '../src/gpu/buffers.js';
import { bindBuffers, createPipeline, createPipelineChecked, loadWgsl } from '../src/gpu/pipeline.js';
import { runOnce, timeIteration } from '../src/gpu/timing.js';
import { UserError } from '../src/errors.js';

const SCALE = /* wgsl */ `
override FACTOR: f32 = 2.0;
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < arrayLength(&dst)) { dst[gid.x] = FACTOR * src[gid.x] + 1.0; }
}`;

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openGpu();
});
afterAll(() => ctx?.close());

describe('gpu runtime', () => {
  it('opens an adapter and reports it', () => {
    expect(ctx.report.description.length).toBeGreaterThan(0);
    expect(ctx.report.backend).toBeTruthy();
    expect(ctx.report.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    // the device got the adapter's maximum buffer limit, not the default 128 MiB only
    expect(ctx.device.limits.maxBufferSize).toBe(ctx.report.limits.maxBufferSize);
    expect(ctx.toggles).toBe('throughput');
    expect(Array.isArray(ctx.report.subgroupMatrixConfigs)).toBe(true);
  });

  it('uploads, poisons and reads back buffers', async () => {
    const data = new Float32Array([1.5, -2, 3.25, 7, 11]); // 20 bytes
    const buf = uploadBuffer(ctx, data);
    expect(new Float32Array(await readBuffer(ctx, buf, data.byteLength))).toEqual(data);
    poisonBuffer(ctx, buf, 8);
    const back = new Float32Array(await readBuffer(ctx, buf, data.byteLength));
    expect(Number.isNaN(back[0]) && Number.isNaN(back[1])).toBe(true);
    expect(back[2]).toBe(3.25);
    buf.destroy();
  });

  it('runs a kernel with an override constant on an odd size', async () => {
    const n = 1001;
    const src = new Float32Array(n).map((_, i) => Math.sin(i) + 0.5);
    const a = uploadBuffer(ctx, src);
    const b = createBuffer(ctx, n * 4);
    poisonBuffer(ctx, b, n * 4);
    const pipeline = createPipeline(ctx, SCALE, { FACTOR: 3 });
    await runOnce(ctx, [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [a, b])], workgroups: [Math.ceil(n / 64)] }]);
    const out = new Float32Array(await readBuffer(ctx, b));
    for (let i = 0; i < n; i++) expect(out[i]).toBeCloseTo(3 * src[i] + 1, 5);
    a.destroy();
    b.destroy();
  });

  it('times a kernel: positive, min <= median <= max, R >= 1', async () => {
    const pipeline = createPipeline(ctx, loadWgsl('empty'));
    const sink = createBuffer(ctx, 16);
    const t = await timeIteration(ctx, [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [sink])], workgroups: [4] }], {
      repeats: 5,
      warmup: 1,
    });
    expect(t.medianS).toBeGreaterThan(0);
    expect(t.minS).toBeLessThanOrEqual(t.medianS);
    expect(t.medianS).toBeLessThanOrEqual(t.maxS);
    expect(t.iterationsPerPass).toBeGreaterThanOrEqual(1);
    expect(t.repeats).toBe(5);
    expect(t.method).toBe(ctx.hasTimestamps ? 'timestamp-query' : 'wall-clock');
    sink.destroy();
  });

  it('reports WGSL errors from the checked pipeline', async () => {
    await expect(createPipelineChecked(ctx, 'fn main( {')).rejects.toThrow(/WGSL/);
  });

  it('rejects an adapter filter that matches none, listing the available ones', async () => {
    const err = await openGpu({ adapter: 'no-such-gpu-xyz' }).catch((e) => e);
    expect(err).toBeInstanceOf(UserError);
    expect(err.message).toMatch(/no-such-gpu-xyz/);
    expect(err.message).toMatch(/available adapters: \S+/);
    expect(err.message).not.toContain('\n');
  });
});

describe('gpu helpers without a device', () => {
  it('parses the adapter list Dawn prints', () => {
    const msg = "no suitable backends found\nAvailable adapters:\n * backend: 'vulkan', name: 'llvmpipe (LLVM 15.0.6, 256 bits)'\n";
    expect(parseAvailableAdapters(msg)).toEqual(['llvmpipe (LLVM 15.0.6, 256 bits) (vulkan)']);
  });
  it('builds toggle flags per set', () => {
    expect(dawnFlags({ toggles: 'throughput' }).join(' ')).toMatch(/disable_robustness/);
    expect(dawnFlags({ toggles: 'browser-like' }).join(' ')).not.toMatch(/disable_robustness/);
    expect(dawnFlags({ toggles: 'browser-like' }).join(' ')).toMatch(/timestamp_quantization/);
  });
  it('slugs adapter names', () => {
    expect(adapterSlug({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe('llvmpipe-llvm-15-0-6-256-bits');
  });
});
