/**
 * Random weights of the mini transformer from a seed, and its float64 CPU forward pass: the
 * reference the WGSL model's logits and greedy tokens are checked against. For the f16 model the
 * reference computes in float64 on the f16-rounded weights and rounds every tensor where the GPU
 * stores one (residual stream, norm outputs, projections, rotated q and k, attention output,
 * SwiGLU, logits), so the two differ only by f32-vs-float64 arithmetic and its rare rounding flips.
 */
import { headDimOf, type MiniConfig } from './transformer-config.js';
import type { KernelDtype } from './types.js';
import { mulberry32, roundToHalf } from './verify.js';

export const ROPE_BASE = 10000;
export const RMS_EPS = 1e-5;

export interface MiniLayerWeights {
  attnNorm: Float32Array;
  /** [hidden][q + 2 kv] (in -> out) */
  wqkv: Float32Array;
  /** [q][hidden] */
  wo: Float32Array;
  mlpNorm: Float32Array;
  /** [hidden][2 ffn]: gate columns then up columns */
  wgu: Float32Array;
  /** [ffn][hidden] */
  wdown: Float32Array;
}

export interface MiniWeights {
  /** [vocab][hidden] */
  embedding: Float32Array;
  layers: MiniLayerWeights[];
  finalNorm: Float32Array;
  /** [hidden][vocab] */
  lmHead: Float32Array;
}

/** Uniform in [-scale, scale): scale 1/sqrt(fan-in) keeps activations near unit size. */
function uniform(n: number, scale: number, rng: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * rng() - 1) * scale;
  return out;
}

function normWeight(n: number, rng: () => number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.8 + 0.4 * rng();
  return out;
}

export function randomWeights(c: MiniConfig, seed: number): MiniWeights {
  const rng = mulberry32(seed);
  const h = c.hidden;
  const hd = headDimOf(c);
  const q = c.heads * hd;
  const kv = c.kvHeads * hd;
  const s = (fanIn: number) => 1 / Math.sqrt(fanIn);
  const layers: MiniLayerWeights[] = [];
  const embedding = uniform(c.vocab * h, 1, rng);
  for (let l = 0; l < c.layers; l++) {
    layers.push({
      attnNorm: normWeight(h, rng),
      wqkv: uniform(h * (q + 2 * kv), s(h), rng),
      wo: uniform(q * h, s(q), rng),
      mlpNorm: normWeight(h, rng),
      wgu: uniform(h * 2 * c.ffn, s(h), rng),
      wdown: uniform(c.ffn * h, s(c.ffn), rng),
    });
  }
  // a larger LM-head scale spreads the logits, so greedy choices are not near-ties
  return { embedding, layers, finalNorm: normWeight(h, rng), lmHead: uniform(h * c.vocab, 4 * s(h), rng) };
}

/** cos and sin of position p for pair e: angle p * ROPE_BASE^(-2e/headDim), float64. */
export function ropeAngles(positions: number, headDim: number): Float64Array {
  const half = headDim / 2;
  const out = new Float64Array(positions * half * 2);
  for (let p = 0; p < positions; p++) {
    for (let e = 0; e < half; e++) {
      const angle = p * Math.pow(ROPE_BASE, (-2 * e) / headDim);
      out[(p * half + e) * 2] = Math.cos(angle);
      out[(p * half + e) * 2 + 1] = Math.sin(angle);
    }
  }
  return out;
}

/** out[t][n] = x[t][k] W[k][n] */
function matmul(x: Float64Array, w: Float32Array, t: number, k: number, n: number): Float64Array {
  const out = new Float64Array(t * n);
  for (let r = 0; r < t; r++) {
    for (let kk = 0; kk < k; kk++) {
      const a = x[r * k + kk];
      if (a === 0) continue;
      const wo = kk * n;
      const oo = r * n;
      for (let j = 0; j < n; j++) out[oo + j] += a * w[wo + j];
    }
  }
  return out;
}

function rmsNorm(x: Float64Array, w: Float32Array, t: number, h: number): Float64Array {
  const out = new Float64Array(t * h);
  for (let r = 0; r < t; r++) {
    let ss = 0;
    for (let i = 0; i < h; i++) ss += x[r * h + i] ** 2;
    const inv = 1 / Math.sqrt(ss / h + RMS_EPS);
    for (let i = 0; i < h; i++) out[r * h + i] = x[r * h + i] * inv * w[i];
  }
  return out;
}

/** Rotates each head of `v` ([t][heads * hd], rows at positions pos0 + r) in place, rotate-half form. */
function rotate(v: Float64Array, t: number, heads: number, hd: number, pos0: number, rope: Float64Array): void {
  const half = hd / 2;
  for (let r = 0; r < t; r++) {
    for (let hh = 0; hh < heads; hh++) {
      const base = (r * heads + hh) * hd;
      for (let e = 0; e < half; e++) {
        const c = rope[((pos0 + r) * half + e) * 2];
        const s = rope[((pos0 + r) * half + e) * 2 + 1];
        const x1 = v[base + e];
        const x2 = v[base + e + half];
        v[base + e] = x1 * c - x2 * s;
        v[base + e + half] = x2 * c + x1 * s;
      }
    }
  }
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Rounds every element to f16 in place (through f32, as the GPU converts its f32 results). */
function roundHalf<A extends Float32Array | Float64Array>(v: A): A {
  for (let i = 0; i < v.length; i++) v[i] = roundToHalf(v[i]);
  return v;
}

/** The weights as an f16 model holds them. */
function halfWeights(w: MiniWeights): MiniWeights {
  const r = (a: Float32Array) => roundHalf(Float32Array.from(a));
  return {
    embedding: r(w.embedding),
    layers: w.layers.map((l) => ({ attnNorm: r(l.attnNorm), wqkv: r(l.wqkv), wo: r(l.wo), mlpNorm: r(l.mlpNorm), wgu: r(l.wgu), wdown: r(l.wdown) })),
    finalNorm: r(w.finalNorm),
    lmHead: r(w.lmHead),
  };
}

/** The float64 model with its KV cache: feed tokens, get the last row's logits. */
export class CpuMiniModel {
  private readonly kCache: Float64Array[];
  private readonly vCache: Float64Array[];
  private readonly rope: Float64Array;
  readonly weights: MiniWeights;
  /** a tensor as the GPU stores it: rounded to f16 for the f16 model, as is for f32 */
  private readonly store: (v: Float64Array) => Float64Array;
  private length = 0;

  constructor(
    readonly config: MiniConfig,
    weights: MiniWeights,
    readonly dtype: KernelDtype = 'f32',
  ) {
    this.weights = dtype === 'f16' ? halfWeights(weights) : weights;
    this.store = dtype === 'f16' ? roundHalf : (v) => v;
    const kv = config.kvHeads * headDimOf(config);
    const cap = config.prompt + config.decode + 1;
    this.kCache = Array.from({ length: config.layers }, () => new Float64Array(cap * kv));
    this.vCache = Array.from({ length: config.layers }, () => new Float64Array(cap * kv));
    this.rope = ropeAngles(cap, headDimOf(config));
  }

  /** Runs `tokens` at the next positions and returns the logits of the last one. */
  forward(tokens: readonly number[]): Float64Array {
    const c = this.config;
    const w = this.weights;
    const t = tokens.length;
    const h = c.hidden;
    const hd = headDimOf(c);
    const qd = c.heads * hd;
    const kvd = c.kvHeads * hd;
    const qkvd = qd + 2 * kvd;
    const group = c.heads / c.kvHeads;
    const pos0 = this.length;
    const st = this.store;
    const x = new Float64Array(t * h);
    tokens.forEach((tok, r) => {
      for (let i = 0; i < h; i++) x[r * h + i] = w.embedding[tok * h + i];
    });
    for (let l = 0; l < c.layers; l++) {
      const lw = w.layers[l];
      const qkv = st(matmul(st(rmsNorm(x, lw.attnNorm, t, h)), lw.wqkv, t, h, qkvd));
      const q = new Float64Array(t * qd);
      const k = new Float64Array(t * kvd);
      for (let r = 0; r < t; r++) {
        for (let i = 0; i < qd; i++) q[r * qd + i] = qkv[r * qkvd + i];
        for (let i = 0; i < kvd; i++) k[r * kvd + i] = qkv[r * qkvd + qd + i];
      }
      rotate(q, t, c.heads, hd, pos0, this.rope);
      rotate(k, t, c.kvHeads, hd, pos0, this.rope);
      st(q);
      st(k);
      const kc = this.kCache[l];
      const vc = this.vCache[l];
      for (let r = 0; r < t; r++) {
        for (let i = 0; i < kvd; i++) {
          kc[(pos0 + r) * kvd + i] = k[r * kvd + i];
          vc[(pos0 + r) * kvd + i] = qkv[r * qkvd + qd + kvd + i];
        }
      }
      const attn = new Float64Array(t * qd);
      const scale = 1 / Math.sqrt(hd);
      for (let r = 0; r < t; r++) {
        const last = pos0 + r;
        const scores = new Float64Array(last + 1);
        for (let hh = 0; hh < c.heads; hh++) {
          const kvh = Math.floor(hh / group);
          let max = -Infinity;
          for (let j = 0; j <= last; j++) {
            let dot = 0;
            for (let e = 0; e < hd; e++) dot += q[r * qd + hh * hd + e] * kc[j * kvd + kvh * hd + e];
            scores[j] = dot * scale;
            if (scores[j] > max) max = scores[j];
          }
          let sum = 0;
          for (let j = 0; j <= last; j++) sum += scores[j] = Math.exp(scores[j] - max);
          for (let j = 0; j <= last; j++) {
            const p = scores[j] / sum;
            for (let e = 0; e < hd; e++) attn[r * qd + hh * hd + e] += p * vc[j * kvd + kvh * hd + e];
          }
        }
      }
      const o = st(matmul(st(attn), lw.wo, t, qd, h));
      for (let i = 0; i < x.length; i++) x[i] += o[i];
      st(x);
      const gu = st(matmul(st(rmsNorm(x, lw.mlpNorm, t, h)), lw.wgu, t, h, 2 * c.ffn));
      const act = new Float64Array(t * c.ffn);
      for (let r = 0; r < t; r++) {
        for (let i = 0; i < c.ffn; i++) {
          const g = gu[r * 2 * c.ffn + i];
          act[r * c.ffn + i] = (g / (1 + Math.exp(-g))) * gu[r * 2 * c.ffn + c.ffn + i];
        }
      }
      const down = st(matmul(st(act), lw.wdown, t, c.ffn, h));
      for (let i = 0; i < x.length; i++) x[i] += down[i];
      st(x);
    }
    this.length += t;
    const lastRow = x.subarray((t - 1) * h, t * h);
    return st(matmul(st(rmsNorm(lastRow, w.finalNorm, 1, h)), w.lmHead, 1, h, c.vocab));
  }
}

export interface CpuRun {
  /** logits after the prompt, then after each decode step */
  logits: Float64Array[];
  /** greedy tokens: the one after the prompt, then one per decode step */
  tokens: number[];
}

/** Prefill of `prompt`, then `steps` greedy decode steps, in float64 (tensors stored as `dtype`). */
export function cpuGenerate(c: MiniConfig, w: MiniWeights, prompt: readonly number[], steps: number, dtype: KernelDtype = 'f32'): CpuRun {
  const model = new CpuMiniModel(c, w, dtype);
  const logits = [model.forward(prompt)];
  const tokens = [argmax(logits[0])];
  for (let s = 0; s < steps; s++) {
    logits.push(model.forward([tokens[tokens.length - 1]]));
    tokens.push(argmax(logits[logits.length - 1]));
  }
  return { logits, tokens };
}

/** A prompt of `n` random token ids. */
export function randomPrompt(c: MiniConfig, seed: number): number[] {
  const rng = mulberry32(seed ^ 0x5bd1e995);
  return Array.from({ length: c.prompt }, () => Math.floor(rng() * c.vocab));
}
