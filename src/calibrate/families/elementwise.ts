/**
 * The mini transformer's small kernels in the calibration suite (src/kernels/elementwise.ts):
 * RMSNorm measures the 'norm' class, SwiGLU, rotary, KV-cache append, embedding and argmax the
 * 'elementwise' class. Shapes span decode (1 row) to long prefill (1024 rows) on Llama-like widths
 * (hidden 256, 1024, 2048; FFN 2.75x; head dim 64) and none is a shape the mini transformer's named
 * configurations run, so `roofcast selfcheck` judges the fitted curves on shapes they were not fitted on.
 */
import type { GpuContext } from '../../gpu/device.js';
import { opShape, prepareElementwise, type ElementwiseOp, type ElementwiseShape } from '../../kernels/elementwise.js';
import { headDimOf, MINI_CONFIGS } from '../../kernels/transformer-config.js';
import { suiteDtypes, type SuiteCase, type SuiteFamily, type SuiteMode } from '../suite.js';

/** Llama-like widths: head dim 64, grouped-query attention, FFN about 2.75x hidden. */
const WIDTHS = {
  s: { hidden: 256, heads: 4, kvHeads: 2, headDim: 64, ffn: 704 },
  m: { hidden: 1024, heads: 16, kvHeads: 4, headDim: 64, ffn: 2816 },
  l: { hidden: 2048, heads: 32, kvHeads: 8, headDim: 64, ffn: 5632 },
} as const;
type Width = keyof typeof WIDTHS;

export interface ElementwiseCase {
  op: ElementwiseOp;
  shape: ElementwiseShape;
}

/** Decode rows sit at a later position (rotary angle, cache row), as a decode step does. */
function at(op: ElementwiseOp, rows: number, width: Width, vocab?: number): ElementwiseCase {
  const w = WIDTHS[width];
  return { op, shape: { rows, ...w, ...(vocab ? { vocab } : {}), pos0: rows === 1 ? 511 : 0 } };
}

/** The cases of a mode: quick 12 (3 norm, 2 sampling), full 24 (6 norm, 4 sampling); about 2.5 s and 6-9 s on lavapipe. */
export function elementwiseCases(mode: SuiteMode): ElementwiseCase[] {
  if (mode === 'quick') {
    return [
      at('rmsnorm', 1, 'l'),
      at('rmsnorm', 32, 's'),
      at('rmsnorm', 256, 'm'),
      at('silu-mul', 1, 'l'),
      at('silu-mul', 256, 'm'),
      // one-row (decode) rotary and cache append: without them the quick fit's launch-bound end
      // rested on one SwiGLU row and over-predicted decode element-wise kernels by 22-44% on lavapipe
      at('rotary', 1, 'l'),
      at('rotary', 32, 'm'),
      at('kv-write', 1, 'l'),
      at('kv-write', 256, 'm'),
      at('embedding', 32, 'l', 8192),
      at('argmax', 1, 'm', 1024),
      at('argmax', 1, 'm', 32000),
    ];
  }
  return [
    at('rmsnorm', 1, 's'),
    at('rmsnorm', 1, 'l'),
    at('rmsnorm', 4, 'm'),
    at('rmsnorm', 32, 's'),
    at('rmsnorm', 256, 'm'),
    at('rmsnorm', 1024, 'l'),
    at('silu-mul', 1, 's'),
    at('silu-mul', 1, 'l'),
    at('silu-mul', 32, 'm'),
    at('silu-mul', 256, 's'),
    at('silu-mul', 1024, 'm'),
    at('rotary', 1, 'l'),
    at('rotary', 32, 'm'),
    at('rotary', 1024, 'm'),
    at('kv-write', 1, 'l'),
    at('kv-write', 256, 'm'),
    at('kv-write', 1024, 'l'),
    at('embedding', 1, 'l', 8192),
    at('embedding', 256, 's', 8192),
    at('embedding', 1024, 'm', 8192),
    at('argmax', 1, 'm', 1024),
    at('argmax', 1, 'm', 8192),
    at('argmax', 1, 'm', 32000),
    at('argmax', 1, 'm', 128256),
  ];
}

/** The op's shape without the position: what the kernel's cost depends on. */
export function shapeKey(op: ElementwiseOp, shape: ElementwiseShape): string {
  const { pos0: _pos0, ...rest } = opShape(op, shape);
  return `${op} ${Object.entries(rest).map(([k, v]) => `${k}=${v}`).join(' ')}`;
}

/** Every small-kernel shape the named mini configurations run (prefill of the prompt, decode of 1 row). */
export function miniConfigShapeKeys(): Set<string> {
  const keys = new Set<string>();
  for (const c of MINI_CONFIGS) {
    const dims = { hidden: c.hidden, ffn: c.ffn, heads: c.heads, kvHeads: c.kvHeads, headDim: headDimOf(c), vocab: c.vocab };
    for (const rows of [c.prompt, 1]) {
      for (const op of ['rmsnorm', 'silu-mul', 'rotary', 'kv-write', 'embedding', 'argmax'] as const) keys.add(shapeKey(op, { ...dims, rows }));
    }
  }
  return keys;
}

export const elementwiseFamily: SuiteFamily = {
  name: 'elementwise',
  async plan(ctx, mode, tools) {
    // f16 points, as the GEMM and attention families take them: what an f16 model's small kernels cost
    const dtypes = suiteDtypes(ctx, mode, tools);
    return dtypes.flatMap((dtype) =>
      elementwiseCases(mode).map(
        (c): SuiteCase => ({
          id: `${shapeKey(c.op, c.shape)}${dtype === 'f32' ? '' : ` ${dtype}`}`,
          family: 'elementwise',
          prepare: (ctx: GpuContext) => prepareElementwise(ctx, c.op, c.shape, { dtype }),
        }),
      ),
    );
  },
};
