/**
 * `roofcast selfcheck`: the closed loop on the local adapter. The mini transformer
 * (src/kernels/transformer.ts) is costed by the same src/perf predictor that serves datacenter
 * targets, with the calibrated profile as the target and the 'webgpu' engine (dispatch overhead
 * from the profile, no host overhead), then run on the GPU: whole steps in one compute pass (GPU
 * timestamps and wall clock), and again with every operator (its dispatches of all layers, repeated)
 * in its own timestamped pass for the time per operator, under the calibration's conditions: cold
 * copies for the operators it times on copies (the model's `timing` steps), and a short
 * operator's pass after an untimed one of the same. Predicted and measured time are compared in
 * total and per operator class.
 */
import type { GpuContext } from '../gpu/device.js';
import type { Profile } from '../profile/schema.js';
import { createCostContext, stepCost, type CostContext } from '../perf/cost.js';
import { targetFromProfile } from '../perf/target.js';
import type { OpCost } from '../perf/types.js';
import { buildGpuMiniModel, type LabeledDispatch } from '../kernels/transformer.js';
import { randomPrompt, randomWeights } from '../kernels/transformer-cpu.js';
import { miniModelSpec, type MiniConfig } from '../kernels/transformer-config.js';
import { gemmChoiceFromMeasurements } from '../kernels/mini-gemm.js';
import { attentionChoiceFromMeasurements } from '../kernels/mini-attention.js';
import { runOnce, timeIteration } from '../gpu/timing.js';
import { prepareMixbench } from '../kernels/fma.js';
import { prepareStream, STREAM_VARIANTS, variantName } from '../kernels/stream.js';
import type { KernelDtype, KernelRun } from '../kernels/types.js';
import { kernelRepeats, timeSequences, timeStep, warmRepeats } from './selfcheck-timing.js';
import { runSuite, type SuiteProgress } from './runner.js';
import { coldCopyCount, coldCopyPlan } from './copies.js';
import { buildProfile, hostInfo, profileHostCpu } from './profile.js';
import { median } from './fit.js';

/** Operator classes the comparison is reported by (src/perf operator names -> class). */
export const OP_CLASSES: Record<string, string> = {
  qkv_proj: 'gemm',
  o_proj: 'gemm',
  gate_up_proj: 'gemm',
  down_proj: 'gemm',
  lm_head: 'lm-head',
  attention_prefill: 'attention',
  attention_decode: 'attention',
  input_norm: 'norm',
  post_attention_norm: 'norm',
  final_norm: 'norm',
  embedding: 'elementwise',
  rotary: 'elementwise',
  kv_cache_write: 'elementwise',
  silu_mul: 'elementwise',
  sampling: 'sampling',
};

export function opClass(op: string): string {
  return OP_CLASSES[op] ?? 'other';
}

export interface PredictedVsMeasured {
  predicted: number;
  measured: number;
}

export interface OpComparison {
  phase: 'prefill' | 'decode';
  class: string;
  predictedS: number;
  measuredS: number;
}

export interface SelfcheckResult {
  config: MiniConfig;
  /** storage type of the model's weights, activations and KV cache */
  dtype: KernelDtype;
  /** the step in seconds: prefill of the whole prompt */
  prefillS: PredictedVsMeasured & { wallS: number };
  /** mean over the decode steps */
  decodeStepS: PredictedVsMeasured & { wallS: number };
  /** per phase and operator class (prefill: the one step; decode: mean per step) */
  ops: OpComparison[];
  /** per operator name, same units */
  opsDetail: (OpComparison & { op: string })[];
  gemmVariants: Record<string, string>;
  dispatches: { prefill: number; decodeStep: number };
  repeats: number;
  /** cost of an empty timestamped pass, taken out of each per-kernel time (null without timestamps) */
  passOverheadS: number | null;
}

export interface SelfcheckOptions {
  /** timed repeats of the whole prefill + decode sequence (median kept); default 5 (the CLI: 7) */
  repeats?: number;
  seed?: number;
  /** the model's storage type (default f32); f16 is costed on the profile's f16 curves */
  dtype?: KernelDtype;
  onProgress?(p: SuiteProgress): void;
}

export function relError(p: PredictedVsMeasured): number {
  return (p.predicted - p.measured) / p.measured;
}

/**
 * The predictor's cost of the mini model's steps on the profile (webgpu engine): fp32 weights and
 * KV cache for f32, fp16 for f16 on the profile's curves measured in f16.
 */
export function predictMini(profile: Profile, config: MiniConfig, dtype: KernelDtype = 'f32'): { costCtx: CostContext; prefill: OpCost[]; decode: OpCost[][] } {
  const format = dtype === 'f16' ? 'fp16' : 'fp32';
  const target = targetFromProfile(profile, { dtype });
  const costCtx = createCostContext({ model: miniModelSpec(config), target, engine: 'webgpu', weightDtype: format, kvDtype: format });
  const prefill = stepCost(costCtx, { prefill: [{ tokens: config.prompt, pastTokens: 0 }], decode: [] }, { breakdown: true }).ops;
  const decode = Array.from({ length: config.decode }, (_, i) =>
    stepCost(costCtx, { prefill: [], decode: [{ pastTokens: config.prompt + i }] }, { breakdown: true }).ops,
  );
  return { costCtx, prefill, decode };
}


function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/**
 * One step's dispatches grouped by operator name, in step order within each (every layer's, each
 * followed by its cold copies); `share`: the part of a sequence's time that is the step's own
 * (1 / copies).
 */
interface OpSequences {
  ops: string[];
  sequences: LabeledDispatch[][];
  share: number[];
}

function opSequences(dispatches: readonly LabeledDispatch[]): OpSequences {
  const byName = new Map<string, LabeledDispatch[]>();
  for (const d of dispatches) {
    const list = byName.get(d.op) ?? [];
    list.push(d);
    byName.set(d.op, list);
  }
  const sequences = [...byName.values()];
  const share = sequences.map((seq) => seq.filter((d) => d.copy === undefined).length / seq.length);
  return { ops: [...byName.keys()], sequences, share };
}

/**
 * Most copies of one operator's dispatches over a check: copies x layers x steps. Every copy holds
 * a bind group per dispatch, layer and step, and lavapipe maps memory for each: tiny with the
 * plan's 512 copies reached 58,000 of the 65,530 maps a Linux process may hold, and crashed past
 * them. With this bound the three named configurations hold about 14,000 (narrow-deep's decode
 * attention gets 22 copies, 6.4 MB, where the plan asks for 58; past the 2 MiB L2 either way).
 */
export const SELFCHECK_COPY_SETS = 2048;

/**
 * Cold copies per operator as the calibration gives them (src/calibrate/copies.ts): an operator
 * whose reads over all layers already fill the adapter's plan gets none, the rest enough to fill
 * it, within SELFCHECK_COPY_SETS.
 */
export function selfcheckCopies(ctx: GpuContext, config: MiniConfig): (op: string, bytes: number) => number {
  const plan = coldCopyPlan(ctx.report);
  const most = Math.max(1, Math.floor(SELFCHECK_COPY_SETS / (config.layers * (config.decode + 1))));
  return (_op, bytes) => (bytes >= plan.bytes ? 1 : Math.min(most, coldCopyCount(bytes, plan)));
}

/** Timed and untimed (warm-up) repeats of each operator's sequence, sized from a first timing. */
interface OpPlan {
  repeats: number[];
  warm: number[];
}

/** Sizing timings per step: the fastest of them sizes each operator's pass (a slow one would size it short). */
const PLAN_SAMPLES = 3;

async function planOps(ctx: GpuContext, step: OpSequences): Promise<OpPlan> {
  let firstS: number[] = [];
  for (let k = 0; k < PLAN_SAMPLES; k++) {
    const s = (await timeSequences(ctx, step.sequences)).seconds;
    firstS = k === 0 ? s : firstS.map((t, i) => Math.min(t, s[i]));
  }
  const repeats = kernelRepeats(firstS);
  return { repeats, warm: warmRepeats(firstS, repeats) };
}

/** Times every operator of a step (all its layers' dispatches, repeated in one pass): seconds per step by name. */
async function timeOps(ctx: GpuContext, step: OpSequences, plan: OpPlan): Promise<{ byOp: Map<string, number>; passOverheadS: number }> {
  const t = await timeSequences(ctx, step.sequences, plan.repeats, plan.warm);
  return { byOp: new Map(step.ops.map((op, i) => [op, t.seconds[i] * step.share[i]])), passOverheadS: t.passOverheadS };
}

function sumOps(steps: OpCost[][]): Map<string, number> {
  const out = new Map<string, number>();
  for (const ops of steps) for (const o of ops) out.set(o.op, (out.get(o.op) ?? 0) + o.seconds / steps.length);
  return out;
}

function compareOps(phase: 'prefill' | 'decode', predicted: Map<string, number>, measured: Map<string, number>) {
  const detail: (OpComparison & { op: string })[] = [];
  for (const op of new Set([...predicted.keys(), ...measured.keys()])) {
    detail.push({ phase, op, class: opClass(op), predictedS: predicted.get(op) ?? 0, measuredS: measured.get(op) ?? 0 });
  }
  const classes = new Map<string, OpComparison>();
  for (const d of detail) {
    const c = classes.get(d.class) ?? { phase, class: d.class, predictedS: 0, measuredS: 0 };
    c.predictedS += d.predictedS;
    c.measuredS += d.measuredS;
    classes.set(d.class, c);
  }
  return { detail, classes: [...classes.values()] };
}

/**
 * Prefill timings per repeat, of the whole step and of each operator. A decode step's time is a
 * mean over the decode steps, the prefill's one step: on lavapipe narrow-deep's prefill (one pass
 * of 104 dispatches) took 19-44 ms in 20 runs back to back, and wide-shallow's prefill attention
 * 2.7-2.9 ms with one run in five at 3.6-4.4, so a median of 7 single samples moved by 15-45% from
 * one check to the next.
 */
export const PREFILL_SAMPLES = 3;

/** One configuration's model on the GPU, timed one repeat at a time (see selfcheckConfigs). */
interface ConfigCheck {
  runRepeat(): Promise<void>;
  result(): SelfcheckResult;
  destroy(): void;
}

async function prepareCheck(ctx: GpuContext, profile: Profile, config: MiniConfig, seed: number, dtype: KernelDtype): Promise<ConfigCheck> {
  const predicted = predictMini(profile, config, dtype);
  const weights = randomWeights(config, seed);
  const prompt = randomPrompt(config, seed);
  const model = await buildGpuMiniModel(ctx, config, weights, {
    gemm: gemmChoiceFromMeasurements(profile.measurements, dtype),
    attention: attentionChoiceFromMeasurements(profile.measurements, dtype),
    coldCopies: selfcheckCopies(ctx, config),
    dtype,
  });
  const prefillSeq = opSequences(model.timing.prefill);
  const decodeSeq = model.timing.decode.map(opSequences);
  // warm-up: first use of every pipeline and buffer; then a first per-operator timing sizes each
  // operator's repeats in its timed pass and its untimed warm-up (kernelRepeats, warmRepeats)
  let prefillPlan: OpPlan = { repeats: [], warm: [] };
  const decodePlans: OpPlan[] = [];
  try {
    model.setPrompt(prompt);
    await runOnce(ctx, model.prefill);
    for (const d of model.decode) await runOnce(ctx, d);
    if (ctx.hasTimestamps) {
      model.setPrompt(prompt);
      prefillPlan = await planOps(ctx, prefillSeq);
      for (const d of decodeSeq) decodePlans.push(await planOps(ctx, d));
    }
  } catch (err) {
    model.destroy();
    throw err;
  }
  const prefillGpu: number[] = [];
  const prefillWall: number[] = [];
  const decodeGpu: number[][] = model.decode.map(() => []);
  const decodeWall: number[][] = model.decode.map(() => []);
  const prefillOps: Map<string, number>[] = [];
  const decodeOps: Map<string, number>[][] = model.decode.map(() => []);
  const passOverhead: number[] = [];
  let repeats = 0;
  return {
    async runRepeat() {
      // whole steps, one pass each; the prefill PREFILL_SAMPLES times (it rewrites the same cache)
      for (let k = 0; k < PREFILL_SAMPLES; k++) {
        model.setPrompt(prompt);
        const p = await timeStep(ctx, model.prefill);
        prefillGpu.push(p.gpuS ?? p.wallS);
        prefillWall.push(p.wallS);
      }
      for (let i = 0; i < model.decode.length; i++) {
        const d = await timeStep(ctx, model.decode[i]);
        decodeGpu[i].push(d.gpuS ?? d.wallS);
        decodeWall[i].push(d.wallS);
      }
      // the same steps operator by operator
      if (ctx.hasTimestamps) {
        model.setPrompt(prompt);
        for (let k = 0; k < PREFILL_SAMPLES; k++) {
          const pk = await timeOps(ctx, prefillSeq, prefillPlan);
          passOverhead.push(pk.passOverheadS);
          prefillOps.push(pk.byOp);
        }
        for (let i = 0; i < model.decode.length; i++) {
          const dk = await timeOps(ctx, decodeSeq[i], decodePlans[i]);
          passOverhead.push(dk.passOverheadS);
          decodeOps[i].push(dk.byOp);
        }
      }
      repeats++;
    },
    result() {
      const medianOps = (runs: Map<string, number>[]): Map<string, number> => {
        const out = new Map<string, number>();
        if (runs.length === 0) return out;
        for (const op of runs[0].keys()) out.set(op, median(runs.map((m) => m.get(op) ?? 0)));
        return out;
      };
      const decodeMeasuredOps = new Map<string, number>();
      for (const steps of decodeOps) {
        for (const [op, s] of medianOps(steps)) decodeMeasuredOps.set(op, (decodeMeasuredOps.get(op) ?? 0) + s / decodeOps.length);
      }
      const pre = compareOps('prefill', sumOps([predicted.prefill]), medianOps(prefillOps));
      const dec = config.decode > 0 ? compareOps('decode', sumOps(predicted.decode), decodeMeasuredOps) : { detail: [], classes: [] };
      const total = (ops: OpCost[]) => ops.reduce((a, o) => a + o.seconds, 0);
      return {
        config,
        dtype,
        prefillS: { predicted: total(predicted.prefill), measured: median(prefillGpu), wallS: median(prefillWall) },
        decodeStepS: {
          predicted: mean(predicted.decode.map(total)),
          measured: mean(decodeGpu.map(median)),
          wallS: mean(decodeWall.map(median)),
        },
        ops: [...pre.classes, ...dec.classes],
        opsDetail: [...pre.detail, ...dec.detail],
        gemmVariants: model.gemmVariants,
        dispatches: { prefill: model.prefill.length, decodeStep: model.decode[0]?.length ?? 0 },
        repeats,
        passOverheadS: passOverhead.length ? median(passOverhead) : null,
      };
    },
    destroy() {
      model.destroy();
    },
  };
}

/**
 * Predicts, runs and compares configurations on the open adapter. The repeats take turns across
 * the configurations (repeat 1 of each, then repeat 2 of each, ...), so every configuration's
 * median spans the whole check: on a shared machine whose speed moves for seconds at a time, one
 * configuration timed in a single slow stretch would otherwise carry all of it.
 */
export async function selfcheckConfigs(
  ctx: GpuContext,
  profile: Profile,
  configs: readonly MiniConfig[],
  opts: SelfcheckOptions = {},
): Promise<SelfcheckResult[]> {
  const repeats = Math.max(1, Math.round(opts.repeats ?? 5));
  const seed = opts.seed ?? 1;
  const checks: ConfigCheck[] = [];
  try {
    for (const config of configs) checks.push(await prepareCheck(ctx, profile, config, seed, opts.dtype ?? 'f32'));
    let done = 0;
    for (let r = 0; r < repeats; r++) {
      for (let i = 0; i < checks.length; i++) {
        opts.onProgress?.({ done, total: repeats * checks.length, label: `${configs[i].name} repeat ${r + 1}/${repeats}` });
        await checks[i].runRepeat();
        done++;
      }
    }
    opts.onProgress?.({ done, total: repeats * checks.length, label: 'done' });
    return checks.map((c) => c.result());
  } finally {
    for (const c of checks) c.destroy();
  }
}

/** Predicts, runs and compares one configuration on the open adapter. */
export async function selfcheckConfig(ctx: GpuContext, profile: Profile, config: MiniConfig, opts: SelfcheckOptions = {}): Promise<SelfcheckResult> {
  return (await selfcheckConfigs(ctx, profile, [config], opts))[0];
}

/**
 * A quick calibration of the open adapter (the calibrate command's suite), when no profile is
 * given; `f16`: with the f16 points an f16 model is costed on (GEMM, attention, small kernels).
 */
export async function quickProfile(ctx: GpuContext, onProgress?: (p: SuiteProgress) => void, f16 = false): Promise<Profile> {
  const result = await runSuite(ctx, { mode: 'quick', onProgress, f16 });
  return buildProfile(ctx.report, ctx.toggles, result.timingMethod, result.measurements, {
    mode: 'quick',
    version: 'selfcheck',
    elapsedS: result.elapsedS,
    failures: result.failures,
    host: hostInfo(),
  });
}

/**
 * Where a CPU adapter's profile was measured on another CPU model than this host's, the reason in
 * one line (the profile then describes another machine); null where they match or are not known.
 */
export function profileHostMismatch(ctx: GpuContext, profile: Profile): string | null {
  if (ctx.report.architecture !== 'software') return null;
  const then = profileHostCpu(profile);
  const now = hostInfo().cpu;
  return then && then !== now ? `the profile was measured on host CPU '${then}', this host is '${now}': a CPU adapter's speed is its host's` : null;
}

/** How fast the adapter runs now against when the profile was measured (ratio > 1: faster now). */
export interface MachineDrift {
  /** profile seconds / seconds now of the same compute-bound mixbench case */
  compute: number | null;
  /** the same for the profile's stream-copy case nearest 16 MiB */
  memory: number | null;
}

/**
 * Re-times one compute-bound and one memory-bound case of the profile, same kernel and shape. On a
 * shared or throttling machine the speed drifts between calibration and selfcheck; the prediction
 * is not rescaled by it (the profile is what it is), but the report says how far the machine moved.
 */
export async function measureDrift(ctx: GpuContext, profile: Profile): Promise<MachineDrift> {
  const ratio = async (run: KernelRun, profileS: number): Promise<number | null> => {
    try {
      if (!(await run.verify()).ok) return null;
      const t = await timeIteration(ctx, run.iteration, { repeats: 7, warmup: 1 });
      return profileS / t.medianS;
    } finally {
      run.destroy();
    }
  };
  const mix = profile.measurements
    .filter((m) => m.kernel === 'mixbench-f32' && Number(m.shape.fmas) >= 64)
    .sort((a, b) => Number(a.shape.fmas) - Number(b.shape.fmas))[0];
  const copies = profile.measurements.filter((m) => m.kernel === 'stream-copy' && !m.shape.tuning && m.variant);
  const target = 16 * 2 ** 20;
  const copy = copies.sort((a, b) => Math.abs(Math.log(Number(a.shape.workingSetBytes) / target)) - Math.abs(Math.log(Number(b.shape.workingSetBytes) / target)))[0];
  const variant = copy ? STREAM_VARIANTS.find((v) => variantName(v) === copy.variant) : undefined;
  return {
    compute: mix ? await ratio(await prepareMixbench(ctx, { elems: Number(mix.shape.elems), fmas: Number(mix.shape.fmas) }, 'f32'), mix.seconds) : null,
    memory: copy && variant ? await ratio(await prepareStream(ctx, 'copy', { elems: Number(copy.shape.elems) }, variant), copy.seconds) : null,
  };
}
