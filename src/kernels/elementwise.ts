/**
 * The mini transformer's small kernels (shaders/mini-*.wgsl) as calibration kernels: fused residual
 * add + RMSNorm (class 'norm'), SwiGLU activation, rotary, KV-cache append and embedding gather
 * (class 'elementwise'), greedy argmax (class 'sampling'). Same shaders, override constants and dispatch geometry as
 * src/kernels/transformer.ts, so what the suite measures is what the mini transformer runs.
 * FLOP and byte counts are those the predictor charges for the matching operator (src/perf/cost.ts,
 * activations and weights in the kernel's dtype: 4 bytes for f32, 2 for f16), so a class fitted on
 * them applies to the predicted ops. f16 kernels store f16 and compute in f32 (`alias E` in the
 * shaders, see miniPipeline).
 */
import type { GpuContext } from '../gpu/device.js';
import { createBuffer, poisonBuffer, readBuffer, uploadBuffer, POISON_F16, POISON_F32 } from '../gpu/buffers.js';
import { bindBuffers, createPipelineChecked, loadWgsl } from '../gpu/pipeline.js';
import { runOnce, type Dispatch } from '../gpu/timing.js';
import type { KernelDtype, KernelRun } from './types.js';
import { decodeFrom, encodeAs, freshSeed, maxRelError, maxScaledError, mulberry32, randomFloat32, roundToHalf, toHalfArray, tolerance } from './verify.js';
import { BYTES_PER, grid, paramsBuffer, withElementType } from './common.js';
import { UserError } from '../errors.js';
import { ropeAngles, RMS_EPS } from './transformer-cpu.js';
import { lanesSupported } from './attention-common.js';

export type ElementwiseOp = 'rmsnorm' | 'silu-mul' | 'rotary' | 'kv-write' | 'embedding' | 'argmax';
export const ELEMENTWISE_OPS: readonly ElementwiseOp[] = ['rmsnorm', 'silu-mul', 'rotary', 'kv-write', 'embedding', 'argmax'];

/** The src/perf operator each kernel stands for (rmsnorm: input_norm, post_attention_norm, final_norm). */
export const PREDICTOR_OP: Record<ElementwiseOp, string> = {
  rmsnorm: 'input_norm',
  'silu-mul': 'silu_mul',
  rotary: 'rotary',
  'kv-write': 'kv_cache_write',
  embedding: 'embedding',
  argmax: 'sampling',
};

/**
 * A step's shape; each op reads the fields it needs:
 * rmsnorm rows x hidden; silu-mul rows x ffn; rotary and kv-write rows x (heads + 2 kvHeads) x
 * headDim; embedding rows x hidden from a vocab-row table; argmax one row of vocab logits.
 */
export interface ElementwiseShape {
  /** tokens in the step (T); argmax ignores it (one row, as the mini transformer samples) */
  rows: number;
  hidden?: number;
  ffn?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  vocab?: number;
  /** position of the first row (rotary angle, KV-cache row, token slot); default 0 */
  pos0?: number;
}

/**
 * kernelClass the profile fits group the op by. Greedy argmax is a reduction, not a stream: one
 * workgroup over the row costs a fixed ~10 us plus a per-logit rate unlike the streaming ops'
 * (on lavapipe it sat 48% under the element-wise curve at 1500 logits, 41% over at 128k), so it
 * gets its own 'sampling' class.
 */
export function elementwiseClass(op: ElementwiseOp): 'norm' | 'elementwise' | 'sampling' {
  if (op === 'argmax') return 'sampling';
  return op === 'rmsnorm' ? 'norm' : 'elementwise';
}

const WG = 64;
/**
 * Below this many rows RMSNorm runs one subgroup per row: with one invocation per row, fewer rows
 * than a subgroup's 8 lanes leave lanes idle. From 8 rows on the per-row kernel fills its lanes and
 * was faster at every shape timed on lavapipe (Xeon VM: 48x192 24.0 vs 31.0 us, 32x256 21.8 vs
 * 27.2 us, 640x320 0.93 vs 1.06 ms; 1 row x 2048: 12.0 vs 8.5 us the other way).
 */
export const RMSNORM_LANES_MAX_ROWS = 8;

export interface RmsnormConstants {
  H4: number;
  ADD: number;
  ROWS: number;
  ROW0?: number;
  /** vec4s of the output before its row 0 */
  OUT_PAD?: number;
  EPS: number;
}

/**
 * The RMSNorm dispatch the mini transformer and the calibration both run: one invocation per row
 * (mini-rmsnorm.wgsl), or for few rows on subgroups of exactly 8 one subgroup per row
 * (mini-rmsnorm-lanes.wgsl), so a decode row is not normalised by a single lane.
 */
export async function rmsnormDispatch(ctx: GpuContext, constants: RmsnormConstants, buffers: GPUBuffer[], dtype: KernelDtype = 'f32'): Promise<Dispatch> {
  const lanes = constants.ROWS < RMSNORM_LANES_MAX_ROWS && lanesSupported(ctx);
  const pipeline = await miniPipeline(ctx, lanes ? 'mini-rmsnorm-lanes' : 'mini-rmsnorm', { ...constants }, dtype);
  const workgroups: [number, number?] = lanes ? [constants.ROWS] : grid(ctx, Math.ceil(constants.ROWS / WG));
  return { pipeline, bindGroups: [bindBuffers(ctx, pipeline, buffers)], workgroups };
}

/** A shaders/mini-*.wgsl pipeline with its storage type `E` set to the dtype. */
export function miniPipeline(ctx: GpuContext, shader: string, constants: Record<string, number>, dtype: KernelDtype): Promise<GPUComputePipeline> {
  if (dtype === 'f16' && !ctx.hasF16) throw new UserError(`f16 ${shader} needs the shader-f16 feature, which this adapter lacks`);
  return createPipelineChecked(ctx, withElementType(loadWgsl(shader), 'E', dtype), constants);
}

function need(op: ElementwiseOp, shape: ElementwiseShape, field: keyof ElementwiseShape): number {
  const v = shape[field];
  if (v === undefined || !Number.isInteger(v) || v < (field === 'pos0' ? 0 : 1)) {
    throw new Error(`${op}: shape needs ${field} as a whole number >= ${field === 'pos0' ? 0 : 1}, got ${v}`);
  }
  return v;
}

/** The fields an op uses, checked (multiples of 4 where the shader reads vec4s). */
export function opShape(op: ElementwiseOp, shape: ElementwiseShape): Record<string, number> {
  const pos0 = shape.pos0 === undefined ? 0 : need(op, shape, 'pos0');
  const mult4 = (name: string, v: number) => {
    if (v % 4 !== 0) throw new Error(`${op}: ${name} ${v} is not a multiple of 4`);
    return v;
  };
  switch (op) {
    case 'rmsnorm':
      return { rows: need(op, shape, 'rows'), hidden: mult4('hidden', need(op, shape, 'hidden')) };
    case 'silu-mul':
      return { rows: need(op, shape, 'rows'), ffn: mult4('ffn', need(op, shape, 'ffn')) };
    case 'rotary':
    case 'kv-write':
      return {
        rows: need(op, shape, 'rows'),
        heads: need(op, shape, 'heads'),
        kvHeads: need(op, shape, 'kvHeads'),
        headDim: mult4('headDim', need(op, shape, 'headDim')),
        pos0,
      };
    case 'embedding':
      return { rows: need(op, shape, 'rows'), hidden: mult4('hidden', need(op, shape, 'hidden')), vocab: need(op, shape, 'vocab'), pos0 };
    case 'argmax':
      return { vocab: need(op, shape, 'vocab'), pos0 };
  }
}

/** FLOPs and bytes the predictor charges for the op (src/perf/cost.ts addOp) in the dtype. */
export function elementwiseWork(op: ElementwiseOp, shape: ElementwiseShape, dtype: KernelDtype = 'f32'): { flops: number; bytes: number } {
  const s = opShape(op, shape);
  const ACT = BYTES_PER[dtype]; // activation bytes
  const WEIGHT = BYTES_PER[dtype]; // weight (norm weight, embedding table) bytes
  switch (op) {
    case 'rmsnorm': // read x and delta, write x and out; the weight once
      return { flops: 5 * s.rows * s.hidden, bytes: 4 * s.rows * s.hidden * ACT + WEIGHT * s.hidden };
    case 'silu-mul': // read gate and up, write out
      return { flops: 4 * s.rows * s.ffn, bytes: 3 * s.rows * s.ffn * ACT };
    case 'rotary': {
      const width = (s.heads + s.kvHeads) * s.headDim; // q and k are rotated: read and written once
      return { flops: 6 * s.rows * width, bytes: 2 * s.rows * width * ACT };
    }
    case 'kv-write': // read k and v, write them to the caches
      return { flops: 0, bytes: s.rows * 2 * s.kvHeads * s.headDim * (ACT + ACT) };
    case 'embedding': // read a table row, write x
      return { flops: 0, bytes: s.rows * s.hidden * (WEIGHT + ACT) };
    case 'argmax': // the predictor's sampling: 8 bytes and 5 flops per logit, whatever the dtype
      return { flops: 5 * s.vocab, bytes: 8 * s.vocab };
  }
}

export interface ElementwiseOptions {
  /** storage type of activations and weights (default f32; f16 needs shader-f16) */
  dtype?: KernelDtype;
  /**
   * Test hook: alters the read-back outputs (in place, in the order the op lists them) before they
   * are compared, to show that verify() detects a wrong element.
   */
  tamper?: (output: Float32Array | Uint32Array | Uint16Array, index: number) => void;
}

/** Result of comparing several outputs: the worst relative error and whether all are in tolerance. */
function judge(errors: number[], dtype: KernelDtype): { relError: number; ok: boolean } {
  const relError = Math.max(...errors);
  return { relError, ok: relError <= tolerance(dtype) };
}

/**
 * Inputs and outputs in the kernel's storage type: `values` draws inputs as the GPU will hold them
 * (f16-rounded for f16), so the reference computes on exactly those; `upload`, `write` and `read`
 * convert; `bytes` sizes a buffer; `poison` fills one with the dtype's NaN.
 */
function storageIo(ctx: GpuContext, dtype: KernelDtype) {
  const half = dtype === 'f16';
  return {
    values(n: number, rng: () => number, lo?: number, hi?: number): Float32Array {
      const v = randomFloat32(n, rng, lo, hi);
      return half ? v.map(roundToHalf) : v;
    },
    upload: (data: Float32Array) => uploadBuffer(ctx, encodeAs(data, dtype)),
    write: (b: GPUBuffer, data: Float32Array) => ctx.device.queue.writeBuffer(b, 0, encodeAs(data, dtype)),
    bytes: (n: number) => n * BYTES_PER[dtype],
    poison: (b: GPUBuffer, n: number) => poisonBuffer(ctx, b, n * BYTES_PER[dtype], half ? POISON_F16 : POISON_F32),
    read: async (b: GPUBuffer, n: number): Promise<Float32Array> => decodeFrom(await readBuffer(ctx, b, n * BYTES_PER[dtype]), dtype),
    /** the elements' bit patterns, for exact copies */
    async bits(b: GPUBuffer, n: number): Promise<Uint32Array | Uint16Array> {
      const raw = await readBuffer(ctx, b, n * BYTES_PER[dtype]);
      return half ? new Uint16Array(raw) : new Uint32Array(raw);
    },
    bitsOf: (data: Float32Array): Uint32Array | Uint16Array => (half ? toHalfArray(data) : new Uint32Array(data.buffer, data.byteOffset, data.length)),
    poisonBits: half ? POISON_F16 & 0xffff : POISON_F32,
  };
}

interface OpRun {
  iteration: Dispatch[];
  buffers: GPUBuffer[];
  check(): Promise<{ relError: number; ok: boolean }>;
}

export async function prepareElementwise(
  ctx: GpuContext,
  op: ElementwiseOp,
  shape: ElementwiseShape,
  opts: ElementwiseOptions = {},
): Promise<KernelRun> {
  const s = opShape(op, shape);
  const rng = mulberry32(freshSeed());
  const threads = (n: number) => grid(ctx, Math.ceil(n / WG));
  const dtype = opts.dtype ?? 'f32';
  const io = storageIo(ctx, dtype);
  const pipe = (shader: string, constants: Record<string, number>) => miniPipeline(ctx, shader, constants, dtype);
  const stepParams = (pos0: number, rows: number) => paramsBuffer(ctx, [pos0, pos0 + rows, 0, 0], ['u32', 'u32', 'u32', 'u32']);
  const read = io.read;
  const tamperWith = <A extends Float32Array | Uint32Array | Uint16Array>(a: A, i: number): A => (opts.tamper?.(a, i), a);

  let r: OpRun;
  switch (op) {
    case 'rmsnorm': {
      const T = s.rows;
      const h = s.hidden;
      const xData = io.values(T * h, rng);
      const dData = io.values(T * h, rng);
      const wData = io.values(h, rng, 0.5, 1.5);
      const x = io.upload(xData);
      const delta = io.upload(dData);
      const w = io.upload(wData);
      const out = createBuffer(ctx, io.bytes(T * h));
      const iteration = [await rmsnormDispatch(ctx, { H4: h / 4, ADD: 1, ROWS: T, EPS: RMS_EPS }, [x, delta, w, out], dtype)];
      r = {
        iteration,
        buffers: [x, delta, w, out],
        async check() {
          // x is updated in place (the residual stream): restore it so every verify starts alike
          io.write(x, xData);
          io.poison(out, T * h);
          await runOnce(ctx, iteration);
          const gotX = tamperWith(await read(x, T * h), 0);
          const gotOut = tamperWith(await read(out, T * h), 1);
          const wantX = new Float64Array(T * h);
          const wantOut = new Float64Array(T * h);
          for (let t = 0; t < T; t++) {
            let ss = 0;
            for (let i = 0; i < h; i++) {
              const v = xData[t * h + i] + dData[t * h + i];
              wantX[t * h + i] = dtype === 'f16' ? roundToHalf(v) : v; // the sum as stored
              ss += v * v;
            }
            const inv = 1 / Math.sqrt(ss / h + RMS_EPS);
            for (let i = 0; i < h; i++) wantOut[t * h + i] = wantX[t * h + i] * inv * wData[i];
          }
          return judge([maxRelError(gotX, wantX), maxRelError(gotOut, wantOut)], dtype);
        },
      };
      break;
    }
    case 'silu-mul': {
      const T = s.rows;
      const I = s.ffn;
      const guData = io.values(T * 2 * I, rng, -3, 3);
      const gu = io.upload(guData);
      const out = createBuffer(ctx, io.bytes(T * I));
      const pipeline = await pipe('mini-silu-mul', { T, I4: I / 4 });
      const iteration = [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [gu, out])], workgroups: threads((T * I) / 4) }];
      r = {
        iteration,
        buffers: [gu, out],
        async check() {
          io.poison(out, T * I);
          await runOnce(ctx, iteration);
          const got = tamperWith(await read(out, T * I), 0);
          const want = new Float64Array(T * I);
          for (let t = 0; t < T; t++) {
            for (let i = 0; i < I; i++) {
              const g = guData[t * 2 * I + i];
              want[t * I + i] = (g / (1 + Math.exp(-g))) * guData[t * 2 * I + I + i];
            }
          }
          return judge([maxRelError(got, want)], dtype);
        },
      };
      break;
    }
    case 'rotary': {
      const { rows: T, heads: QH, kvHeads: KVH, headDim: hd, pos0 } = s;
      const half = hd / 2;
      const rowWidth = (QH + 2 * KVH) * hd;
      const qd = QH * hd;
      const qkvData = io.values(T * rowWidth, rng);
      const ropeData = Float32Array.from(ropeAngles(pos0 + T, hd));
      const qkv = io.upload(qkvData);
      const q = createBuffer(ctx, io.bytes(T * qd));
      const rope = uploadBuffer(ctx, ropeData);
      const params = stepParams(pos0, T);
      const pipeline = await pipe('mini-rotary', { T, QH, KVH, HD2: half });
      const iteration = [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [qkv, q, rope, params])], workgroups: threads(T * half) }];
      r = {
        iteration,
        buffers: [qkv, q, rope, params],
        async check() {
          io.write(qkv, qkvData); // k is rotated in place
          io.poison(q, T * qd);
          await runOnce(ctx, iteration);
          const gotQ = tamperWith(await read(q, T * qd), 0);
          const gotQkv = tamperWith(await read(qkv, T * rowWidth), 1);
          // reference on the f32 cos/sin the shader reads; error judged against |x1 c| + |x2 s|
          const wantQ = new Float64Array(T * qd);
          const scaleQ = new Float64Array(T * qd);
          const wantQkv = Float64Array.from(qkvData);
          const scaleQkv = Float64Array.from(qkvData, Math.abs);
          for (let t = 0; t < T; t++) {
            for (let hh = 0; hh < QH + KVH; hh++) {
              const src = t * rowWidth + hh * hd; // q heads, then k heads, in the fused row
              for (let e = 0; e < half; e++) {
                const c = ropeData[((pos0 + t) * half + e) * 2];
                const sn = ropeData[((pos0 + t) * half + e) * 2 + 1];
                const x1 = qkvData[src + e];
                const x2 = qkvData[src + e + half];
                const [want, scale, base] = hh < QH ? [wantQ, scaleQ, (t * QH + hh) * hd] : [wantQkv, scaleQkv, src];
                want[base + e] = x1 * c - x2 * sn;
                want[base + e + half] = x2 * c + x1 * sn;
                scale[base + e] = Math.abs(x1 * c) + Math.abs(x2 * sn);
                scale[base + e + half] = Math.abs(x2 * c) + Math.abs(x1 * sn);
              }
            }
          }
          return judge([maxScaledError(gotQ, wantQ, scaleQ), maxScaledError(gotQkv, wantQkv, scaleQkv)], dtype);
        },
      };
      break;
    }
    case 'kv-write': {
      const { rows: T, heads: QH, kvHeads: KVH, headDim: hd, pos0 } = s;
      const qd = QH * hd;
      const kvd = KVH * hd;
      const rowWidth = qd + 2 * kvd;
      const cap = pos0 + T;
      const qkvData = io.values(T * rowWidth, rng);
      const qkv = io.upload(qkvData);
      const kc = createBuffer(ctx, io.bytes(cap * kvd));
      const vc = createBuffer(ctx, io.bytes(cap * kvd));
      const params = stepParams(pos0, T);
      const pipeline = await pipe('mini-kv-write', { T, QDIM4: qd / 4, KVDIM4: kvd / 4 });
      const iteration = [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [qkv, kc, vc, params])], workgroups: threads((T * kvd) / 4) }];
      r = {
        iteration,
        buffers: [qkv, kc, vc, params],
        async check() {
          io.poison(kc, cap * kvd);
          io.poison(vc, cap * kvd);
          await runOnce(ctx, iteration);
          const errors: number[] = [];
          for (const [i, cache, offset] of [[0, kc, qd], [1, vc, qd + kvd]] as const) {
            const got = tamperWith(await io.bits(cache, cap * kvd), i);
            const bits = io.bitsOf(qkvData);
            // rows pos0.. hold the new k (v) bit for bit; the rows before stay untouched
            let bad = 0;
            for (let j = 0; j < pos0 * kvd; j++) if (got[j] !== io.poisonBits) bad++;
            for (let t = 0; t < T; t++) {
              for (let j = 0; j < kvd; j++) if (got[(pos0 + t) * kvd + j] !== bits[t * rowWidth + offset + j]) bad++;
            }
            errors.push(bad ? Infinity : 0);
          }
          return judge(errors, dtype);
        },
      };
      break;
    }
    case 'embedding': {
      const { rows: T, hidden: h, vocab: V, pos0 } = s;
      const tokenData = Uint32Array.from({ length: pos0 + T }, () => Math.floor(rng() * V));
      const tableData = io.values(V * h, rng);
      const tokens = uploadBuffer(ctx, tokenData);
      const table = io.upload(tableData);
      const x = createBuffer(ctx, io.bytes(T * h));
      const params = stepParams(pos0, T);
      const pipeline = await pipe('mini-embedding', { T, H4: h / 4, VOCAB: V });
      const iteration = [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [tokens, table, x, params])], workgroups: threads((T * h) / 4) }];
      r = {
        iteration,
        buffers: [tokens, table, x, params],
        async check() {
          io.poison(x, T * h);
          await runOnce(ctx, iteration);
          const got = tamperWith(await read(x, T * h), 0);
          const want = new Float64Array(T * h);
          for (let t = 0; t < T; t++) {
            const tok = tokenData[pos0 + t];
            for (let i = 0; i < h; i++) want[t * h + i] = tableData[tok * h + i];
          }
          return judge([maxRelError(got, want)], dtype);
        },
      };
      break;
    }
    case 'argmax': {
      const { vocab: V, pos0 } = s;
      const logitData = io.values(V, rng, -8, 8);
      const logits = io.upload(logitData);
      const slots = pos0 + 2;
      const tokens = createBuffer(ctx, slots * 4);
      const params = stepParams(pos0, 1);
      // one token per step: the token slot pos0 + T with T = 1, one workgroup as in the mini model
      const pipeline = await pipe('mini-argmax', { VOCAB: V, T: 1 });
      const iteration = [{ pipeline, bindGroups: [bindBuffers(ctx, pipeline, [logits, tokens, params])], workgroups: [1] as [number] }];
      r = {
        iteration,
        buffers: [logits, tokens, params],
        async check() {
          poisonBuffer(ctx, tokens, slots * 4);
          await runOnce(ctx, iteration);
          const got = tamperWith(new Uint32Array(await readBuffer(ctx, tokens, slots * 4)), 0);
          let best = 0; // lowest index among equal maxima, as the shader breaks ties
          for (let i = 1; i < V; i++) if (logitData[i] > logitData[best]) best = i;
          let bad = got[pos0 + 1] === best ? 0 : 1;
          for (let j = 0; j < slots; j++) if (j !== pos0 + 1 && got[j] !== POISON_F32) bad++;
          return judge([bad ? Infinity : 0], dtype);
        },
      };
      break;
    }
  }
  const { flops, bytes } = elementwiseWork(op, shape, dtype);
  const run = r;
  return {
    kernel: op,
    kernelClass: elementwiseClass(op),
    shape: s,
    dtype,
    flops,
    bytes,
    iteration: run.iteration,
    verify: () => run.check(),
    destroy() {
      for (const b of run.buffers) b.destroy();
    },
  };
}
