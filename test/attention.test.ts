import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import {
  attentionCases,
  decodeBytes,
  decodeFlops,
  decodeSplits,
  prefillBytes,
  prefillFlops,
  prepareAttentionDecode,
  prepareAttentionPrefill,
} from '../src/kernels/attention.js';
import { expandUnrolls, referenceAttention, specializeWgsl } from '../src/kernels/attention-common.js';
import { lanesSupported } from '../src/kernels/attention-prefill.js';
import type { KernelDtype } from '../src/kernels/types.js';
import { UserError } from '../src/errors.js';

describe('attention counts and helpers (no GPU)', () => {
  it('counts the useful causal prefill work and the minimum bytes', () => {
    const s = { seq: 3, numHeads: 2, numKvHeads: 1, headDim: 4 };
    // 6 query-key pairs, 2 heads, 4 flops per pair per head dim element
    expect(prefillFlops(s)).toBe(4 * 4 * 2 * 6);
    expect(prefillBytes(s, 'f32')).toBe(4 * 3 * 4 * (2 * 2 + 2 * 1));
    expect(prefillBytes(s, 'f16')).toBe(prefillBytes(s, 'f32') / 2);
  });

  it('counts decode work as the KV cache read once plus q and out', () => {
    const s = { batch: 2, kvLen: 100, numHeads: 8, numKvHeads: 2, headDim: 64 };
    expect(decodeFlops(s)).toBe(4 * 2 * 8 * 100 * 64);
    expect(decodeBytes(s, 'f32')).toBe(4 * 2 * 64 * (2 * 100 * 2 + 2 * 8));
  });

  it('splits a cache into non-empty chunks that are multiples of the block', () => {
    for (const kvLen of [1, 63, 64, 65, 1000, 4097]) {
      for (const splits of [undefined, 1, 3, 7, 1000]) {
        const r = decodeSplits({ batch: 1, kvLen, numHeads: 4, numKvHeads: 2, headDim: 64, splits }, { bk: 64, targetWorkgroups: 64 });
        expect(r.chunk % 64).toBe(0);
        expect((r.splits - 1) * r.chunk).toBeLessThan(kvLen);
        expect(r.splits * r.chunk).toBeGreaterThanOrEqual(kvLen);
      }
    }
  });

  it('gives short caches fewer, longer splits (minChunk) unless the splits are asked for', () => {
    const cfg = { kind: 'lanes' as const, bk: 16, targetWorkgroups: 32, minChunk: 256 };
    const shape = { batch: 1, numHeads: 16, numKvHeads: 4, headDim: 64 };
    expect(decodeSplits({ ...shape, kvLen: 100 }, cfg)).toEqual({ splits: 1, chunk: 112 });
    expect(decodeSplits({ ...shape, kvLen: 1000 }, cfg)).toEqual({ splits: 4, chunk: 256 });
    expect(decodeSplits({ ...shape, kvLen: 100000 }, cfg).splits).toBe(8); // 32 workgroups / 4 KV heads
    expect(decodeSplits({ ...shape, kvLen: 100, splits: 3 }, cfg).splits).toBe(3);
  });

  it('expands nested unroll blocks and specializes constants', () => {
    const code = 'const D4: u32 = 1u;\n//#unroll i D4\nlet a{i} = 0;\n//#unroll c 2\nb{i}_{c};\n//#end\n//#end';
    const out = specializeWgsl(code, { D4: 2 }, 'f32');
    expect(out.split('\n')).toEqual(['const D4: u32 = 2u;', 'let a0 = 0;', 'b0_0;', 'b0_1;', 'let a1 = 0;', 'b1_0;', 'b1_1;']);
    expect(() => expandUnrolls('//#unroll i N\nx\n', {})).toThrow();
    expect(() => specializeWgsl('x', { D4: 1 }, 'f32')).toThrow(/D4/);
  });

  it('reference: a single key gives back its value row; causal rows ignore later keys', () => {
    const d = 4;
    const q = [1, 2, 3, 4, -1, 0, 1, 0];
    const k = [0.5, 0.1, 0, 1, 3, 3, 3, 3];
    const v = [1, 2, 3, 4, 9, 9, 9, 9];
    const out = referenceAttention(q, k, v, { batch: 1, seqQ: 2, seqK: 2, numHeads: 1, numKvHeads: 1, headDim: d });
    expect(Array.from(out.slice(0, 4))).toEqual([1, 2, 3, 4]);
    const s0 = (-0.5 + 0 + 0 + 0) / 2;
    const s1 = (-3 + 0 + 3 + 0) / 2;
    const w1 = Math.exp(s1) / (Math.exp(s0) + Math.exp(s1));
    expect(out[4]).toBeCloseTo(1 + 8 * w1, 12);
  });

  it('lists quick and full calibration cases with unique ids', () => {
    for (const mode of ['quick', 'full'] as const) {
      const cases = attentionCases(mode);
      expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
      expect(cases.some((c) => c.kernelClass === 'attention-prefill')).toBe(true);
      expect(cases.some((c) => c.kernelClass === 'attention-decode')).toBe(true);
    }
    expect(attentionCases('full').some((c) => c.id.includes('-s1024-') && c.id.includes('-d128-'))).toBe(true);
  });
});

describe('attention kernels on the adapter', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await openGpu();
  });
  afterAll(() => ctx?.close());

  const prefillShapes = [
    { seq: 1, numHeads: 2, numKvHeads: 2, headDim: 64 },
    { seq: 7, numHeads: 4, numKvHeads: 1, headDim: 64 },
    { seq: 33, numHeads: 4, numKvHeads: 2, headDim: 64 },
    { seq: 70, numHeads: 2, numKvHeads: 1, headDim: 128 },
  ];
  for (const shape of prefillShapes) {
    it(`prefill matches the float64 reference: ${JSON.stringify(shape)}`, async () => {
      const run = await prepareAttentionPrefill(ctx, shape, 'f32');
      try {
        expect(run.kernelClass).toBe('attention-prefill');
        const r = await run.verify();
        expect(r.relError).toBeLessThan(1e-4);
        expect(r.ok).toBe(true);
      } finally {
        run.destroy();
      }
    });
  }

  it('prefill with a smaller tile (br 16, bc 16) on a shape that is no multiple of it', async () => {
    const run = await prepareAttentionPrefill(ctx, { seq: 41, numHeads: 2, numKvHeads: 1, headDim: 64 }, 'f32', { kind: 'rows', br: 16, bc: 16 });
    try {
      expect(run.variant).toBe('rows-br16-bc16');
      expect((await run.verify()).ok).toBe(true);
    } finally {
      run.destroy();
    }
  });

  // The subgroup kernels: odd lengths, GQA, head dims 64, 128, 256 and one that is no multiple of 8.
  const lanesCases = [
    { shape: { seq: 1, numHeads: 2, numKvHeads: 2, headDim: 64 }, kind: 'lanes', br: 8, bc: 16 },
    { shape: { seq: 33, numHeads: 4, numKvHeads: 2, headDim: 64 }, kind: 'lanes', br: 8, bc: 16 },
    { shape: { seq: 70, numHeads: 4, numKvHeads: 1, headDim: 128 }, kind: 'lanes', br: 8, bc: 16 },
    { shape: { seq: 41, numHeads: 2, numKvHeads: 1, headDim: 36 }, kind: 'lanes', br: 16, bc: 8 },
    { shape: { seq: 19, numHeads: 3, numKvHeads: 3, headDim: 256 }, kind: 'lanes', br: 8, bc: 16 },
    { shape: { seq: 1, numHeads: 2, numKvHeads: 1, headDim: 64 }, kind: 'pairs', br: 16, bc: 16 },
    { shape: { seq: 37, numHeads: 4, numKvHeads: 2, headDim: 64 }, kind: 'pairs', br: 16, bc: 16 },
    { shape: { seq: 70, numHeads: 4, numKvHeads: 1, headDim: 128 }, kind: 'pairs', br: 16, bc: 16 },
    { shape: { seq: 45, numHeads: 2, numKvHeads: 1, headDim: 36 }, kind: 'pairs', br: 32, bc: 8 },
    { shape: { seq: 23, numHeads: 2, numKvHeads: 2, headDim: 256 }, kind: 'pairs', br: 16, bc: 16 },
  ] as const;
  for (const { shape, kind, br, bc } of lanesCases) {
    it(`prefill '${kind}' (br ${br}, bc ${bc}) matches the float64 reference: ${JSON.stringify(shape)}`, async (t) => {
      if (!lanesSupported(ctx)) t.skip();
      const run = await prepareAttentionPrefill(ctx, shape, 'f32', { kind, br, bc });
      try {
        expect(run.variant).toBe(`${kind}-br${br}-bc${bc}`);
        const r = await run.verify();
        expect(r.relError).toBeLessThan(1e-4);
        expect(r.ok).toBe(true);
      } finally {
        run.destroy();
      }
    });
  }

  for (const kind of ['lanes', 'pairs'] as const) {
    it(`prefill '${kind}' with f16 inputs where the adapter has shader-f16`, async (t) => {
      if (!lanesSupported(ctx) || !ctx.hasF16) t.skip();
      const run = await prepareAttentionPrefill(ctx, { seq: 45, numHeads: 4, numKvHeads: 1, headDim: 128 }, 'f16', { kind, br: 16, bc: 16 });
      try {
        const r = await run.verify();
        expect(r.relError).toBeLessThan(1e-2);
        expect(r.ok).toBe(true);
      } finally {
        run.destroy();
      }
    });
  }

  it("prefill 'lanes' falls back to the portable kernel without subgroups of 8", async () => {
    const run = await prepareAttentionPrefill(ctx, { seq: 9, numHeads: 2, numKvHeads: 1, headDim: 64 }, 'f32', { kind: 'lanes', br: 8, bc: 16 });
    try {
      expect(run.variant).toBe(lanesSupported(ctx) ? 'lanes-br8-bc16' : 'rows-br32-bc32');
      expect((await run.verify()).ok).toBe(true);
    } finally {
      run.destroy();
    }
  });

  const decodeShapes = [
    { batch: 1, kvLen: 1, numHeads: 2, numKvHeads: 2, headDim: 64 },
    { batch: 2, kvLen: 130, numHeads: 4, numKvHeads: 2, headDim: 64, splits: 3 },
    { batch: 1, kvLen: 333, numHeads: 8, numKvHeads: 2, headDim: 128 },
    { batch: 3, kvLen: 200, numHeads: 4, numKvHeads: 4, headDim: 128, splits: 2 },
  ];
  for (const shape of decodeShapes) {
    it(`decode matches the float64 reference: ${JSON.stringify(shape)}`, async () => {
      const run = await prepareAttentionDecode(ctx, shape, 'f32');
      try {
        expect(run.kernelClass).toBe('attention-decode');
        expect(run.iteration).toHaveLength(2);
        const r = await run.verify();
        expect(r.relError).toBeLessThan(1e-4);
      } finally {
        run.destroy();
      }
    });
  }

  // 'lanes': one subgroup per workgroup; G x bk capped at 64 score registers; head dims that are
  // no multiple of 8; caches that end inside a block; several sequences and splits
  const lanesDecode = [
    { shape: { batch: 1, kvLen: 1, numHeads: 2, numKvHeads: 2, headDim: 64 }, bk: 16, variant: 'lanes-bk16-splits1' },
    { shape: { batch: 2, kvLen: 130, numHeads: 10, numKvHeads: 2, headDim: 64, splits: 3 }, bk: 16, variant: 'lanes-bk12-splits3' },
    { shape: { batch: 1, kvLen: 333, numHeads: 16, numKvHeads: 1, headDim: 128 }, bk: 16, variant: 'lanes-bk4-splits28' },
    { shape: { batch: 3, kvLen: 77, numHeads: 4, numKvHeads: 4, headDim: 20 }, bk: 32, variant: 'lanes-bk32-splits3' },
    { shape: { batch: 1, kvLen: 700, numHeads: 8, numKvHeads: 2, headDim: 256 }, bk: 16, variant: 'lanes-bk16-splits15' },
  ];
  for (const { shape, bk, variant } of lanesDecode) {
    it(`decode 'lanes' (bk ${bk}) matches the float64 reference: ${JSON.stringify(shape)}`, async (t) => {
      if (!lanesSupported(ctx)) t.skip();
      const run = await prepareAttentionDecode(ctx, shape, 'f32', { kind: 'lanes', bk, targetWorkgroups: 32 });
      try {
        expect(run.variant).toBe(variant);
        const r = await run.verify();
        expect(r.relError).toBeLessThan(1e-4);
        expect(r.ok).toBe(true);
      } finally {
        run.destroy();
      }
    });
  }

  it("decode 'lanes' with f16 inputs where the adapter has shader-f16", async (t) => {
    if (!lanesSupported(ctx) || !ctx.hasF16) t.skip();
    const run = await prepareAttentionDecode(ctx, { batch: 1, kvLen: 150, numHeads: 4, numKvHeads: 1, headDim: 64 }, 'f16', { kind: 'lanes', bk: 16, targetWorkgroups: 32 });
    try {
      const r = await run.verify();
      expect(r.relError).toBeLessThan(1e-2);
      expect(r.ok).toBe(true);
    } finally {
      run.destroy();
    }
  });

  it("decode 'lanes' falls back to the portable kernel without subgroups of 8", async () => {
    const run = await prepareAttentionDecode(ctx, { batch: 1, kvLen: 90, numHeads: 4, numKvHeads: 2, headDim: 64 }, 'f32', { kind: 'lanes', bk: 16, targetWorkgroups: 32 });
    try {
      expect(run.variant).toMatch(lanesSupported(ctx) ? /^lanes-bk16-/ : /^bk64-/);
      expect((await run.verify()).ok).toBe(true);
    } finally {
      run.destroy();
    }
  });

  it('f16 inputs where the adapter has shader-f16', async (t) => {
    if (!ctx.hasF16) t.skip();
    const dtype: KernelDtype = 'f16';
    const p = await prepareAttentionPrefill(ctx, { seq: 33, numHeads: 4, numKvHeads: 2, headDim: 64 }, dtype);
    const d = await prepareAttentionDecode(ctx, { batch: 1, kvLen: 150, numHeads: 4, numKvHeads: 1, headDim: 64 }, dtype);
    try {
      expect(p.bytes).toBe(prefillBytes({ seq: 33, numHeads: 4, numKvHeads: 2, headDim: 64 }, 'f32') / 2);
      const rp = await p.verify();
      const rd = await d.verify();
      expect(rp.relError).toBeLessThan(1e-2);
      expect(rd.relError).toBeLessThan(1e-2);
    } finally {
      p.destroy();
      d.destroy();
    }
  });

  it('rejects impossible shapes with a UserError', async () => {
    await expect(prepareAttentionPrefill(ctx, { seq: 8, numHeads: 3, numKvHeads: 2, headDim: 64 }, 'f32')).rejects.toThrow(UserError);
    await expect(prepareAttentionPrefill(ctx, { seq: 0, numHeads: 2, numKvHeads: 2, headDim: 64 }, 'f32')).rejects.toThrow(UserError);
    await expect(prepareAttentionDecode(ctx, { batch: 1, kvLen: 8, numHeads: 2, numKvHeads: 2, headDim: 66 }, 'f32')).rejects.toThrow(UserError);
    await expect(prepareAttentionPrefill(ctx, { seq: 8, numHeads: 2, numKvHeads: 2, headDim: 256 }, 'f32', { kind: 'rows', br: 32, bc: 64 })).rejects.toThrow(/workgroup memory/);
    if (lanesSupported(ctx)) {
      await expect(prepareAttentionPrefill(ctx, { seq: 8, numHeads: 2, numKvHeads: 2, headDim: 64 }, 'f32', { kind: 'lanes', br: 12, bc: 16 })).rejects.toThrow(/multiple of 8/);
      await expect(prepareAttentionPrefill(ctx, { seq: 8, numHeads: 2, numKvHeads: 2, headDim: 64 }, 'f32', { kind: 'pairs', br: 8, bc: 16 })).rejects.toThrow(/multiple of 16/);
    }
  });
});
