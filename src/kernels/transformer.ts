/**
 * The WGSL mini transformer on the GPU: a Llama-style decoder (fused add+RMSNorm, fused QKV
 * projection, rotary, KV-cache append, flash prefill / split-KV decode attention, output
 * projection, SwiGLU MLP, final norm, LM head, argmax) built from the calibration suite's GEMM and
 * attention kernels plus the small shaders/mini-*.wgsl kernels. f32 or f16 (BuildOptions.dtype):
 * weights, activations, logits and the KV cache are stored in the dtype; every kernel computes in
 * f32 (GEMMs accumulate in f32, split-K partials and decode attention partials are f32).
 * Prefill of the prompt, then decode steps against the KV cache, all on the GPU: argmax writes the
 * next token into the token buffer the next step's embedding reads, so no step reads back.
 * Every dispatch carries the name of the src/perf operator it implements, so measured and
 * predicted time compare operator by operator.
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, readBuffer, uploadBuffer, DEFAULT_USAGE } from '../gpu/buffers.js';
import { bindBuffers, type BufferRange } from '../gpu/pipeline.js';
import type { Dispatch } from '../gpu/timing.js';
import { BYTES_PER, grid, paramsBuffer } from './common.js';
import type { KernelDtype } from './types.js';
import { decodeFrom, encodeAs } from './verify.js';
import { UserError } from '../errors.js';
import { gemmChoiceFromMeasurements, gemmConfigFor, gemmDispatches, weightLayout, type GemmChoice } from './mini-gemm.js';
import { attentionChoiceFromMeasurements, attentionDecodeDispatches, attentionPrefillDispatch, decodePartialBytes, type AttentionChoice } from './mini-attention.js';
import { headDimOf, validateMiniConfig, type MiniConfig } from './transformer-config.js';
import { miniPipeline, rmsnormDispatch } from './elementwise.js';
import { ropeAngles, RMS_EPS, type MiniWeights } from './transformer-cpu.js';
import type { GemmLayoutB } from './gemm-wgsl.js';

/** A dispatch and the src/perf operator it belongs to (qkv_proj, attention_decode, sampling...). */
export interface LabeledDispatch extends Dispatch {
  op: string;
  /** 1.. for a cold copy (see BuildOptions.coldCopies), absent for the step's own dispatch */
  copy?: number;
}

export interface GpuMiniModel {
  config: MiniConfig;
  /** the prefill pass of the whole prompt */
  prefill: LabeledDispatch[];
  /** decode step i (0-based): token at position prompt + i against prompt + i cached ones */
  decode: LabeledDispatch[][];
  /**
   * The same steps with each operator's cold copies (BuildOptions.coldCopies) after each of its
   * dispatches, for timing operator by operator. A GEMM copy computes what the original does from
   * its own copy of the weights; a decode attention copy reads its own (zeroed) KV cache; both
   * write the step's outputs, so a timing step is for timing only. Equal to prefill and decode
   * without copies.
   */
  timing: { prefill: LabeledDispatch[]; decode: LabeledDispatch[][] };
  /** GEMM tile configurations used, by phase */
  gemmVariants: Record<string, string>;
  /** writes the prompt's token ids (and clears the generated ones) */
  setPrompt(tokens: readonly number[]): void;
  /** the logits the last step computed */
  readLogits(): Promise<Float32Array>;
  /** all token ids: prompt, then the generated ones */
  readTokens(): Promise<Uint32Array>;
  destroy(): void;
}

export interface BuildOptions {
  /** GEMM tile configurations (default: gemm.ts defaults) */
  gemm?: GemmChoice;
  /** attention tile configurations (default: the attention modules' defaults) */
  attention?: AttentionChoice;
  /**
   * How many times `timing` runs an operator that reads `bytes` of weights or KV cache per step
   * (over all layers): 1 (the default) is the step itself, n adds n - 1 copies. Only the operators
   * the calibration times on cold copies get them: the one-row GEMMs (decode projections, the LM
   * head) and decode attention.
   */
  coldCopies?: (op: string, bytes: number) => number;
  /** storage type of weights, activations and the KV cache (default f32; f16 needs shader-f16) */
  dtype?: KernelDtype;
}

const WG = 64;

export async function buildGpuMiniModel(ctx: GpuContext, config: MiniConfig, weights: MiniWeights, opts: BuildOptions = {}): Promise<GpuMiniModel> {
  validateMiniConfig(config);
  const dt = opts.dtype ?? 'f32';
  if (dt === 'f16' && !ctx.hasF16) throw new UserError('an f16 mini model needs the shader-f16 feature, which this adapter lacks');
  const EB = BYTES_PER[dt]; // bytes per stored element
  const c = config;
  const choice = opts.gemm ?? gemmChoiceFromMeasurements();
  const attnChoice = opts.attention ?? attentionChoiceFromMeasurements();
  const h = c.hidden;
  const hd = headDimOf(c);
  const qd = c.heads * hd;
  const kvd = c.kvHeads * hd;
  const qkvd = qd + 2 * kvd;
  const L = c.prompt;
  const cap = c.prompt + c.decode + 1;
  const owned: GPUBuffer[] = [];
  const own = (b: GPUBuffer) => (owned.push(b), b);
  const buf = (elements: number) => own(createBuffer(ctx, elements * EB));

  try {
    // --- weights, uploaded once per B layout a GEMM configuration asks for
    const weightBufs = new Map<string, GPUBuffer>();
    const weight = (key: string, data: Float32Array, k: number, n: number, layout: GemmLayoutB): GPUBuffer => {
      const id = `${key}|${layout}`;
      let b = weightBufs.get(id);
      if (!b) {
        b = own(uploadBuffer(ctx, weightLayout(data, k, n, layout, dt)));
        weightBufs.set(id, b);
      }
      return b;
    };
    const plain = (data: Float32Array) => own(uploadBuffer(ctx, encodeAs(data, dt)));
    const embedding = plain(weights.embedding);
    const layerNorms = weights.layers.map((lw) => ({ attn: plain(lw.attnNorm), mlp: plain(lw.mlpNorm) }));
    const finalNorm = plain(weights.finalNorm);
    const rope = own(uploadBuffer(ctx, Float32Array.from(ropeAngles(cap, hd)))); // f32 in every dtype

    // --- activations, sized for the prefill (decode uses row 0)
    const tokens = own(createBuffer(ctx, cap * 4, DEFAULT_USAGE));
    const x = buf(L * h);
    const delta = buf(L * h);
    const align = ctx.device.limits.minStorageBufferOffsetAlignment;
    const normed = buf(L * h + align / EB); // room for the final norm's padding (below)
    const qkv = buf(L * qkvd);
    const q = buf(L * qd);
    const attn = buf(L * qd);
    const gu = buf(L * 2 * c.ffn);
    const act = buf(L * c.ffn);
    const logits = buf(c.vocab);
    const attnShape = { numHeads: c.heads, numKvHeads: c.kvHeads, headDim: hd };
    const part = own(createBuffer(ctx, decodePartialBytes(ctx, attnShape, cap, attnChoice.decode)));
    const kCache = weights.layers.map(() => buf(cap * kvd));
    const vCache = weights.layers.map(() => buf(cap * kvd));
    // a decode attention copy reads its own (zero) cache: its time, not its output, is what counts
    const kvCopies = new Map<string, { k: GPUBuffer; v: GPUBuffer }>();
    const kvCopy = (l: number, j: number) => {
      const id = `${l}#${j}`;
      let kv = kvCopies.get(id);
      if (!kv) kvCopies.set(id, (kv = { k: buf(cap * kvd), v: buf(cap * kvd) }));
      return kv;
    };

    const copiesOf = (op: string, bytes: number) => Math.max(1, Math.round(opts.coldCopies?.(op, bytes) ?? 1));
    const gemmVariants: Record<string, string> = {};
    /**
     * The GEMM's dispatches, then those of its cold copies (one-row GEMMs only) reading copied
     * weights; `perStep`: how many such GEMMs a step runs (its layers), so the copies are sized
     * on the step's weights of this operator.
     */
    const gemm = async (
      op: string,
      phase: string,
      a: BufferRange,
      wKey: string,
      data: Float32Array,
      out: GPUBuffer,
      m: number,
      n: number,
      k: number,
      perStep: number,
    ): Promise<LabeledDispatch[]> => {
      const cfg = gemmConfigFor(choice, m);
      const split = m > 64 || choice.skinnySplit;
      const copies = m === 1 ? copiesOf(op, perStep * k * n * EB) : 1;
      const all: LabeledDispatch[] = [];
      let partials: GPUBuffer | undefined; // the copies share the original's split-K buffer
      for (let j = 0; j < copies; j++) {
        const g = await gemmDispatches(ctx, a, weight(j === 0 ? wKey : `${wKey}#${j}`, data, k, n, cfg.layoutB), out, { m, n, k }, cfg, split, partials, dt);
        owned.push(...g.scratch);
        partials ??= g.scratch[0];
        if (j === 0) gemmVariants[`${phase} ${op}`] = g.variant;
        all.push(...g.dispatches.map((d) => (j === 0 ? { ...d, op } : { ...d, op, copy: j })));
      }
      return all;
    };
    const elementwise = async (op: string, shader: string, constants: Record<string, number>, buffers: GPUBuffer[], workgroups: [number, number?]): Promise<LabeledDispatch> => {
      const pipeline = await miniPipeline(ctx, shader, constants, dt);
      return { op, pipeline, bindGroups: [bindBuffers(ctx, pipeline, buffers)], workgroups };
    };
    const threads = (n: number) => grid(ctx, Math.ceil(n / WG));

    /** One step of T tokens at positions pos0.. (prefill: pos0 = 0, T = prompt; decode: T = 1). */
    const step = async (T: number, pos0: number, phase: 'prefill' | 'decode'): Promise<LabeledDispatch[]> => {
      const params = own(paramsBuffer(ctx, [pos0, pos0 + T, 0, 0], ['u32', 'u32', 'u32', 'u32']));
      const out: LabeledDispatch[] = [];
      out.push(await elementwise('embedding', 'mini-embedding', { T, H4: h / 4, VOCAB: c.vocab }, [tokens, embedding, x, params], threads((T * h) / 4)));
      for (let l = 0; l < c.layers; l++) {
        const lw = weights.layers[l];
        const norm = async (op: string, add: number, w: GPUBuffer): Promise<LabeledDispatch> => ({
          op,
          ...(await rmsnormDispatch(ctx, { H4: h / 4, ADD: add, ROWS: T, EPS: RMS_EPS }, [x, delta, w, normed], dt)),
        });
        out.push(await norm('input_norm', l > 0 ? 1 : 0, layerNorms[l].attn));
        out.push(...(await gemm('qkv_proj', phase, normed, `wqkv${l}`, lw.wqkv, qkv, T, qkvd, h, c.layers)));
        out.push(await elementwise('rotary', 'mini-rotary', { T, QH: c.heads, KVH: c.kvHeads, HD2: hd / 2 }, [qkv, q, rope, params], threads(T * (hd / 2))));
        out.push(await elementwise('kv_cache_write', 'mini-kv-write', { T, QDIM4: qd / 4, KVDIM4: kvd / 4 }, [qkv, kCache[l], vCache[l], params], threads((T * kvd) / 4)));
        if (phase === 'prefill') {
          const a = await attentionPrefillDispatch(ctx, attnShape, T, { q, k: kCache[l], v: vCache[l], o: attn }, attnChoice.prefill, dt);
          owned.push(...a.uniforms);
          out.push(...a.dispatches.map((d) => ({ ...d, op: 'attention_prefill' })));
        } else {
          const copies = copiesOf('attention_decode', 2 * c.layers * (pos0 + 1) * kvd * EB);
          let uniforms: GPUBuffer[] | undefined; // the copies share the original's shape uniforms
          for (let j = 0; j < copies; j++) {
            const kv = j === 0 ? { k: kCache[l], v: vCache[l] } : kvCopy(l, j);
            const a = await attentionDecodeDispatches(ctx, attnShape, pos0 + 1, { q, ...kv, part, o: attn }, attnChoice.decode, uniforms, dt);
            if (!uniforms) owned.push(...a.uniforms);
            uniforms ??= a.uniforms;
            out.push(...a.dispatches.map((d) => (j === 0 ? { ...d, op: 'attention_decode' } : { ...d, op: 'attention_decode', copy: j })));
          }
        }
        out.push(...(await gemm('o_proj', phase, attn, `wo${l}`, lw.wo, delta, T, h, qd, c.layers)));
        out.push(await norm('post_attention_norm', 1, layerNorms[l].mlp));
        out.push(...(await gemm('gate_up_proj', phase, normed, `wgu${l}`, lw.wgu, gu, T, 2 * c.ffn, h, c.layers)));
        out.push(await elementwise('silu_mul', 'mini-silu-mul', { T, I4: c.ffn / 4 }, [gu, act], threads((T * c.ffn) / 4)));
        out.push(...(await gemm('down_proj', phase, act, `wdown${l}`, lw.wdown, delta, T, h, c.ffn, c.layers)));
      }
      // The final norm runs over every row, as serving engines do (vLLM normalises all hidden states,
      // then gathers the sampled rows) and as src/perf costs it; the LM head reads the last row in
      // place. Its output starts after OUT_PAD vec4s so that row sits at a legal storage binding
      // offset (a multiple of 16 bytes per row count alone is not one where the adapter asks 256).
      const lastRow = (T - 1) * h * EB;
      const padBytes = (align - (lastRow % align)) % align; // a multiple of a vec4: rows are vec4s
      const norm = await rmsnormDispatch(ctx, { H4: h / 4, ADD: 1, ROWS: T, OUT_PAD: padBytes / (4 * EB), EPS: RMS_EPS }, [x, delta, finalNorm, normed], dt);
      out.push({ op: 'final_norm', ...norm });
      out.push(...(await gemm('lm_head', phase, { buffer: normed, offset: padBytes + lastRow, size: h * EB }, 'lmHead', weights.lmHead, logits, 1, c.vocab, h, 1)));
      out.push(await elementwise('sampling', 'mini-argmax', { VOCAB: c.vocab, T }, [logits, tokens, params], [1]));
      return out;
    };

    const withoutCopies = (ds: LabeledDispatch[]) => ds.filter((d) => d.copy === undefined);
    const prefillTiming = await step(L, 0, 'prefill');
    const decodeTiming: LabeledDispatch[][] = [];
    for (let i = 0; i < c.decode; i++) decodeTiming.push(await step(1, L + i, 'decode'));

    return {
      config: c,
      prefill: withoutCopies(prefillTiming),
      decode: decodeTiming.map(withoutCopies),
      timing: { prefill: prefillTiming, decode: decodeTiming },
      gemmVariants,
      setPrompt(prompt) {
        if (prompt.length !== L) throw new Error(`prompt has ${prompt.length} tokens, the configuration ${L}`);
        const ids = new Uint32Array(cap);
        ids.set(prompt.map((t) => t >>> 0));
        ctx.device.queue.writeBuffer(tokens, 0, ids);
      },
      async readLogits() {
        return decodeFrom(await readBuffer(ctx, logits, c.vocab * EB), dt);
      },
      async readTokens() {
        return new Uint32Array(await readBuffer(ctx, tokens, cap * 4));
      },
      destroy() {
        for (const b of owned) b.destroy();
      },
    };
  } catch (err) {
    for (const b of owned) b.destroy();
    throw err;
  }
}
