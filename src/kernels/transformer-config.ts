/**
 * Shapes of the WGSL mini transformer (a Llama-style decoder: RMSNorm, rotary, grouped-query
 * attention, SwiGLU MLP, untied LM head), its named configurations, and the same shape as a
 * ModelSpec so that src/perf costs exactly what runs.
 */
import { UserError } from '../errors.js';
import type { ModelSpec } from '../models/types.js';

export interface MiniConfig {
  /** kebab-case name ('custom' for a shape given by flags) */
  name: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  ffn: number;
  vocab: number;
  /** prompt tokens (one prefill pass) */
  prompt: number;
  /** decode steps after the prefill */
  decode: number;
}

/**
 * Named configurations. Their GEMM shapes (M = prompt or 1; N, K from hidden, ffn, vocab) and
 * attention shapes are none of the calibration suite's (gemmCases: 2048-wide skinny layers and
 * 256..1024 squares; attention: head counts and sequence lengths of real models).
 */
export const MINI_CONFIGS: readonly MiniConfig[] = [
  { name: 'tiny', layers: 2, hidden: 64, heads: 4, kvHeads: 2, ffn: 160, vocab: 320, prompt: 12, decode: 6 },
  { name: 'wide-shallow', layers: 2, hidden: 768, heads: 12, kvHeads: 4, ffn: 2048, vocab: 4000, prompt: 96, decode: 8 },
  { name: 'narrow-deep', layers: 10, hidden: 192, heads: 3, kvHeads: 1, ffn: 512, vocab: 1500, prompt: 48, decode: 8 },
  { name: 'long-context', layers: 2, hidden: 320, heads: 5, kvHeads: 1, ffn: 864, vocab: 2000, prompt: 640, decode: 8 },
];

export function findMiniConfig(name: string): MiniConfig {
  const c = MINI_CONFIGS.find((x) => x.name === name);
  if (!c) throw new UserError(`unknown mini configuration '${name}' (known: ${MINI_CONFIGS.map((x) => x.name).join(', ')})`);
  return c;
}

/** Limits that keep a run within one adapter and the kernels' assumptions. */
const MAX_POSITIONS = 8192;

/** Throws a one-line UserError for a shape the kernels cannot run. */
export function validateMiniConfig(c: MiniConfig): void {
  const ints: [string, number][] = [
    ['layers', c.layers],
    ['hidden', c.hidden],
    ['heads', c.heads],
    ['kv-heads', c.kvHeads],
    ['ffn', c.ffn],
    ['vocab', c.vocab],
    ['prompt', c.prompt],
  ];
  for (const [name, v] of ints) {
    if (!Number.isInteger(v) || v < 1) throw new UserError(`mini model: --${name} must be a whole number >= 1, got ${v}`);
  }
  if (!Number.isInteger(c.decode) || c.decode < 0) throw new UserError(`mini model: --decode must be a whole number >= 0, got ${c.decode}`);
  if (c.hidden % c.heads !== 0) throw new UserError(`mini model: heads (${c.heads}) do not divide hidden (${c.hidden})`);
  if (c.heads % c.kvHeads !== 0) throw new UserError(`mini model: kv-heads (${c.kvHeads}) do not divide heads (${c.heads})`);
  const headDim = c.hidden / c.heads;
  // the attention shaders read vec4s and unroll up to 64 of them; rotary pairs halves of a head
  if (headDim % 4 !== 0 || headDim > 256) {
    throw new UserError(`mini model: head dim hidden/heads = ${headDim} must be a multiple of 4 up to 256`);
  }
  if (c.heads / c.kvHeads > 16) throw new UserError(`mini model: at most 16 query heads per KV head, got ${c.heads / c.kvHeads}`);
  if (c.ffn % 4 !== 0) throw new UserError(`mini model: --ffn must be a multiple of 4, got ${c.ffn}`);
  if (c.vocab < 2) throw new UserError(`mini model: --vocab must be at least 2, got ${c.vocab}`);
  if (c.prompt + c.decode + 1 > MAX_POSITIONS) throw new UserError(`mini model: prompt + decode must stay under ${MAX_POSITIONS} positions`);
}

export function headDimOf(c: MiniConfig): number {
  return c.hidden / c.heads;
}

/** The configuration as the predictor's model description (f32 weights, no bias, untied head). */
export function miniModelSpec(c: MiniConfig): ModelSpec {
  validateMiniConfig(c);
  return {
    id: `mini-${c.name}`,
    name: `WGSL mini transformer ${c.name}`,
    family: 'llama',
    source: 'roofcast mini transformer (src/kernels/transformer.ts), random weights',
    hiddenSize: c.hidden,
    numLayers: c.layers,
    numHeads: c.heads,
    numKvHeads: c.kvHeads,
    headDim: headDimOf(c),
    intermediateSize: c.ffn,
    vocabSize: c.vocab,
    tiedEmbeddings: false,
    qkvBias: false,
    qkNorm: false,
    maxContextTokens: c.prompt + c.decode + 1,
  };
}
