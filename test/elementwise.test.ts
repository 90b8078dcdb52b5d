import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { ELEMENTWISE_OPS, elementwiseWork, opShape, prepareElementwise, type ElementwiseOp, type ElementwiseShape } from '../src/kernels/elementwise.js';
import { elementwiseCases, elementwiseFamily, miniConfigShapeKeys, shapeKey } from '../src/calibrate/families/elementwise.js';
import { MINI_CONFIGS } from '../src/kernels/transformer-config.js';
import { verified } from './helpers/kernels.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openGpu();
});
afterAll(() => ctx?.close());

/** Small and odd shapes: one row, rows past a workgroup, widths that are not powers of two. */
const SHAPES: ElementwiseShape[] = [
  { rows: 1, hidden: 4, ffn: 4, heads: 1, kvHeads: 1, headDim: 4, vocab: 2 },
  { rows: 3, hidden: 44, ffn: 12, heads: 6, kvHeads: 2, headDim: 12, vocab: 37, pos0: 5 },
  { rows: 67, hidden: 136, ffn: 300, heads: 4, kvHeads: 1, headDim: 20, vocab: 513, pos0: 2 },
  { rows: 1, hidden: 1028, ffn: 1100, heads: 9, kvHeads: 3, headDim: 36, vocab: 4097, pos0: 300 },
];

describe('elementwise kernels against the float64 reference', () => {
  for (const op of ELEMENTWISE_OPS) {
    for (const shape of SHAPES) {
      it(`${shapeKey(op, shape)} pos0=${shape.pos0 ?? 0}`, async () => {
        const relError = await verified(await prepareElementwise(ctx, op, shape));
        expect(relError).toBeLessThanOrEqual(1e-4);
      });
    }
  }

  it('verifies again after a run that updated its inputs in place (rmsnorm x, rotary k)', async () => {
    // rows 3: the one-subgroup-per-row norm where subgroups are 8 wide; rows 67: one invocation per row
    for (const [op, shape] of [['rmsnorm', SHAPES[1]], ['rmsnorm', SHAPES[2]], ['rotary', SHAPES[2]]] as const) {
      const run = await prepareElementwise(ctx, op, shape);
      try {
        expect((await run.verify()).ok).toBe(true);
        expect((await run.verify()).ok).toBe(true);
      } finally {
        run.destroy();
      }
    }
  });
});

describe('f16 elementwise kernels (f16 storage, f32 arithmetic) against the float64 reference', () => {
  for (const op of ELEMENTWISE_OPS) {
    for (const shape of SHAPES.slice(1)) {
      it(`${shapeKey(op, shape)} f16`, async (t) => {
        if (!ctx.hasF16) t.skip();
        const run = await prepareElementwise(ctx, op, shape, { dtype: 'f16' });
        expect(run.dtype).toBe('f16');
        // inputs are f16-rounded before the reference sees them: what is left is the outputs' rounding
        expect(await verified(run)).toBeLessThanOrEqual(2e-3);
      });
    }
  }

  it('a nudged f16 output and a changed f16 cache bit fail', async (t) => {
    if (!ctx.hasF16) t.skip();
    const nudge16 = (out: Float32Array | Uint32Array | Uint16Array) => {
      if (out instanceof Float32Array) out[out.length >> 1] += 2e-2 * out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      else if (out instanceof Uint16Array) out[out.findIndex((v) => v !== 0x7e00)] ^= 1 << 9;
    };
    for (const op of ['rmsnorm', 'silu-mul', 'rotary', 'kv-write', 'embedding'] as const) {
      const run = await prepareElementwise(ctx, op, SHAPES[2], { dtype: 'f16', tamper: nudge16 });
      try {
        expect((await run.verify()).ok, op).toBe(false);
      } finally {
        run.destroy();
      }
    }
  });

  it('counts f16 bytes at 2 per element (argmax: the predictor\'s 8 per logit in every dtype)', () => {
    expect(elementwiseWork('rmsnorm', { rows: 3, hidden: 8 }, 'f16').bytes).toBe((4 * 3 * 8 + 8) * 2);
    expect(elementwiseWork('kv-write', { rows: 2, heads: 4, kvHeads: 2, headDim: 8 }, 'f16').bytes).toBe(2 * 2 * 16 * 4);
    expect(elementwiseWork('argmax', { rows: 1, vocab: 10 }, 'f16').bytes).toBe(80);
  });
});

describe('verify detects wrong outputs', () => {
  const shape = SHAPES[2];
  /** Moves one element of each output by 1% of the output's largest magnitude, or flips a bit. */
  const nudge = (out: Float32Array | Uint32Array | Uint16Array) => {
    if (out instanceof Float32Array) {
      const largest = out.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      out[out.length >> 1] += 1e-2 * largest;
    } else {
      // u32 outputs: KV-cache bits, token slots; change a written word
      const i = out.findIndex((v) => v !== 0x7fc00000);
      out[i] ^= 1 << 20;
    }
  };
  for (const op of ELEMENTWISE_OPS) {
    it(`${op}: a nudged output element fails`, async () => {
      const run = await prepareElementwise(ctx, op, shape, { tamper: nudge });
      try {
        expect((await run.verify()).ok).toBe(false);
      } finally {
        run.destroy();
      }
    });
    it(`${op}: a kernel that writes nothing fails (poisoned outputs)`, async () => {
      const run = await prepareElementwise(ctx, op, shape);
      try {
        run.iteration.length = 0; // verify() runs the run's own iteration list
        const v = await run.verify();
        expect(v.ok).toBe(false);
        expect(v.relError).toBe(Infinity);
      } finally {
        run.destroy();
      }
    });
  }
});

describe('shapes, classes and counts', () => {
  it('rejects shapes the shaders cannot run', () => {
    expect(() => opShape('rmsnorm', { rows: 2, hidden: 6 })).toThrow(/multiple of 4/);
    expect(() => opShape('rotary', { rows: 2, heads: 2, kvHeads: 1 })).toThrow(/headDim/);
    expect(() => opShape('argmax', { rows: 1 })).toThrow(/vocab/);
  });

  it('counts bytes as the predictor does (fp32)', () => {
    expect(elementwiseWork('rmsnorm', { rows: 3, hidden: 8 }).bytes).toBe((4 * 3 * 8 + 8) * 4);
    expect(elementwiseWork('silu-mul', { rows: 2, ffn: 8 }).bytes).toBe(3 * 2 * 8 * 4);
    expect(elementwiseWork('rotary', { rows: 2, heads: 4, kvHeads: 2, headDim: 8 }).bytes).toBe(2 * 2 * 6 * 8 * 4);
    expect(elementwiseWork('kv-write', { rows: 2, heads: 4, kvHeads: 2, headDim: 8 }).bytes).toBe(2 * 2 * 16 * 8);
    expect(elementwiseWork('embedding', { rows: 2, hidden: 8, vocab: 10 }).bytes).toBe(2 * 8 * 8);
    expect(elementwiseWork('argmax', { rows: 1, vocab: 10 }).bytes).toBe(80);
  });

  it('puts RMSNorm in the norm class, argmax in sampling and the others in elementwise', async () => {
    const classes = new Map<ElementwiseOp, string>();
    for (const op of ELEMENTWISE_OPS) {
      const run = await prepareElementwise(ctx, op, SHAPES[0]);
      classes.set(op, run.kernelClass);
      run.destroy();
    }
    expect(classes.get('rmsnorm')).toBe('norm');
    expect(classes.get('argmax')).toBe('sampling');
    for (const op of ELEMENTWISE_OPS.filter((o) => o !== 'rmsnorm' && o !== 'argmax')) expect(classes.get(op)).toBe('elementwise');
  });
});

describe('elementwise suite family', () => {
  it('plans every op in both modes, more in full, with unique ids', async () => {
    const quick = await elementwiseFamily.plan(ctx, 'quick', { measure: async () => ({ id: '', family: '' }), note: () => {} });
    const full = await elementwiseFamily.plan(ctx, 'full', { measure: async () => ({ id: '', family: '' }), note: () => {} });
    expect(full.length).toBeGreaterThan(quick.length);
    for (const mode of ['quick', 'full'] as const) {
      const ops = new Set(elementwiseCases(mode).map((c) => c.op));
      expect([...ops].sort()).toEqual([...ELEMENTWISE_OPS].sort());
    }
    for (const cases of [quick, full]) expect(new Set(cases.map((c) => c.id)).size).toBe(cases.length);
    // the full suite measures f16 too where the adapter has shader-f16, as the GEMM and attention families do
    expect(full.length).toBe(elementwiseCases('full').length * (ctx.hasF16 ? 2 : 1));
    expect(quick.length).toBe(elementwiseCases('quick').length);
  });

  it('plans no shape a named mini-transformer configuration runs', () => {
    const taken = miniConfigShapeKeys();
    // the keys do cover the named configurations (e.g. wide-shallow's decode RMSNorm)
    expect(taken.has(shapeKey('rmsnorm', { rows: 1, hidden: 768 }))).toBe(true);
    for (const mode of ['quick', 'full'] as const) {
      for (const c of elementwiseCases(mode)) {
        expect(taken.has(shapeKey(c.op, c.shape)), shapeKey(c.op, c.shape)).toBe(false);
        // stricter: no width of a named configuration at all, so no curve is judged on its own point
        for (const m of MINI_CONFIGS) {
          for (const k of ['hidden', 'ffn', 'vocab'] as const) expect(c.shape[k], `${c.op} ${k}`).not.toBe(m[k]);
        }
      }
    }
  });
});
