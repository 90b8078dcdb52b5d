import type { AcceleratorSpec, Dtype, ReferenceEfficiency } from '../hardware/types.js';
import { fitPeak, type Fit, type Profile, type ProfilePower } from '../profile/schema.js';
import { UserError } from '../errors.js';
import { getAccelerator, referenceEfficiency } from '../hardware/index.js';
import { readProfile } from '../profile/io.js';
import type { CausalTile } from '../profile/causal.js';

/**
 * Efficiency of a kernel class as a function of its work w (FLOPs or bytes):
 * eff(w) = effMax * w / (w + halfWork). Time at rate R is then (w + halfWork) / (R * effMax):
 * affine in w, which is what lets predict() sum decode steps exactly.
 */
export interface EffCurve {
  effMax: number;
  halfWork: number;
  /**
   * The same ramp as a fixed time, where it was measured as one (calibrated profiles): the cost
   * model then derives halfWork from the rate it applies the curve to, so one fit serves every dtype.
   */
  fixedS?: number;
}

/** An efficiency curve and whether its work is counted in FLOPs (compute side) or bytes (memory side). */
export interface ClassCurve {
  unit: 'flops' | 'bytes';
  curve: EffCurve;
  /** the other roof's curve, where the class was fitted on both (e.g. skinny GEMMs) */
  secondary?: { unit: 'flops' | 'bytes'; curve: EffCurve };
  /**
   * Prefill attention: the kernel's tile, where the curve was fitted on the causal work a tiled
   * kernel computes (src/profile/causal.ts); absent: on the exact causal pairs.
   */
  causalTile?: CausalTile;
}

/** Tensor-parallel link of the target, null when it has none (tp must then be 1). */
export interface PerfInterconnect {
  kind: string;
  /** per-GPU one-direction bandwidth, bytes/s */
  bytesPerS: number;
  /** latency of one collective step, seconds */
  latencyS: number;
  maxGpus: number;
}

/** What the predictor needs of a device, whether from a data sheet or a calibrated profile. */
export interface PerfTarget {
  id: string;
  name: string;
  kind: 'reference' | 'profile';
  /** dense peak FLOP/s per dtype; absent where the device has no such unit */
  peakFlopsPerS: Partial<Record<Dtype, number>>;
  memoryBytes: number;
  memoryBytesPerS: number;
  /** GEMM compute efficiency (work in FLOPs) per compute dtype, `default` for the rest */
  gemm: Partial<Record<Dtype, EffCurve>> & { default: EffCurve };
  /**
   * GEMMs with few rows (decode), where measured; else `gemm` applies. A curve fitted in bytes
   * (skinny GEMMs stream their weights) bounds the memory side, one in FLOPs the compute side.
   */
  gemmSkinny: ClassCurve | null;
  /** memory-side efficiency of every kernel (work in bytes) */
  memory: EffCurve;
  attentionPrefill: ClassCurve;
  attentionDecode: ClassCurve;
  /** norms (RMSNorm, fused add + norm), where measured; else `elementwise`, then `memory` apply */
  norm: ClassCurve | null;
  /** element-wise kernels (activations, rotary, cache writes, gathers; sampling without its own class), where measured */
  elementwise: ClassCurve | null;
  /** sampling (greedy argmax over the logits), where measured; else `elementwise` applies */
  sampling: ClassCurve | null;
  /** GPU-side cost of one kernel launch, seconds */
  kernelLaunchS: number;
  interconnect: PerfInterconnect | null;
  /** passed through for the energy model */
  tdpW: number | null;
  idlePowerW: number | null;
  /** the power model measured on this device (`calibrate --power`), where the profile has one */
  measuredPower: ProfilePower | null;
  /** where the figures come from */
  sources: string[];
}

function finite(x: number, what: string): number {
  if (!Number.isFinite(x) || x < 0) throw new UserError(`invalid ${what}: ${x}`);
  return x;
}

/** The reference (uncalibrated) target of a catalog accelerator. */
export function targetFromAccelerator(spec: AcceleratorSpec, refEff: ReferenceEfficiency): PerfTarget {
  const peak: Partial<Record<Dtype, number>> = {};
  for (const [dtype, rate] of Object.entries(spec.peakFlopsPerS) as [Dtype, { value: number } | null][]) {
    if (rate && rate.value > 0) peak[dtype] = rate.value;
  }
  const half = finite(refEff.gemmHalfFlops.value, `${spec.id} gemmHalfFlops`);
  // the falloff is a fixed per-GEMM time where the profile gives one: halfWork scales with the dtype's rate
  const halfFor = (dtype: Dtype, effMax: number) =>
    refEff.gemmFixedS && peak[dtype] ? refEff.gemmFixedS.value * peak[dtype]! * effMax : half;
  const gemm: PerfTarget['gemm'] = { default: { effMax: refEff.gemmEffMax.default.value, halfWork: half } };
  for (const dtype of Object.keys(peak) as Dtype[]) {
    const effMax = (refEff.gemmEffMax[dtype] ?? refEff.gemmEffMax.default).value;
    gemm[dtype] = { effMax, halfWork: halfFor(dtype, effMax) };
  }
  const memory: EffCurve = { effMax: refEff.memoryEffMax.value, halfWork: refEff.memoryHalfBytes.value };
  // flash-style attention shares the GEMM falloff with its own ceiling; decode attention streams the KV cache
  const attention: EffCurve = { effMax: refEff.attentionEffMax.value, halfWork: gemm.bf16?.halfWork ?? half };
  const ic = spec.interconnect;
  return {
    id: spec.id,
    name: spec.name,
    kind: 'reference',
    peakFlopsPerS: peak,
    memoryBytes: spec.memoryBytes.value,
    memoryBytesPerS: spec.memoryBytesPerS.value,
    gemm,
    gemmSkinny: null,
    memory,
    attentionPrefill: { unit: 'flops', curve: attention },
    attentionDecode: { unit: 'bytes', curve: memory },
    norm: null,
    elementwise: null,
    sampling: null,
    kernelLaunchS: refEff.kernelLaunchS.value,
    interconnect:
      ic.kind === 'none' || ic.maxGpus <= 1
        ? null
        : { kind: ic.kind, bytesPerS: ic.bytesPerS.value, latencyS: ic.latencyS.value, maxGpus: ic.maxGpus },
    tdpW: spec.tdpW.value,
    idlePowerW: spec.idlePowerW.value,
    measuredPower: null,
    sources: [
      `peaks: ${spec.peakFlopsPerS.bf16?.source ?? spec.memoryBytesPerS.source}`,
      `bandwidth: ${spec.memoryBytesPerS.source}`,
      `gemm: ${refEff.gemmEffMax.default.source}; falloff: ${refEff.gemmHalfFlops.source}`,
      `memory: ${refEff.memoryEffMax.source}`,
      `attention: ${refEff.attentionEffMax.source}`,
      `launch: ${refEff.kernelLaunchS.source}`,
    ],
  };
}

/**
 * Converts a profile fit to an efficiency curve; `rate` is the ceiling its roofline time used.
 * time = fixedS + roofline / effMax  <=>  halfWork = fixedS * rate * effMax. The calibration times
 * one dispatch per iteration, so a fit's fixed time already holds one dispatch overhead; the cost
 * model adds the launch cost per kernel itself, so that part is taken out here (else counted twice).
 */
function curveOfFit(fit: Pick<Fit, 'effMax' | 'fixedS'>, rate: number, dispatchOverheadS: number): EffCurve {
  const fixedS = Math.max(0, fit.fixedS - dispatchOverheadS);
  return { effMax: fit.effMax, halfWork: fixedS * rate * fit.effMax, fixedS };
}

/** A class fit as the predictor's curve(s): its primary roof and, where fitted, the other one. */
function classCurveOfFit(fit: Fit, rates: { flops: number; bytes: number }, dispatchOverheadS: number): ClassCurve {
  const out: ClassCurve = { unit: fit.workUnit, curve: curveOfFit(fit, rates[fit.workUnit], dispatchOverheadS) };
  if (fit.secondary) {
    const u = fit.secondary.workUnit;
    out.secondary = { unit: u, curve: curveOfFit({ effMax: fit.secondary.effMax, fixedS: fit.fixedS }, rates[u], dispatchOverheadS) };
  }
  if (fit.causalTile) out.causalTile = fit.causalTile;
  return out;
}

export interface ProfileTargetOptions {
  /** device memory in bytes; default: the adapter's largest buffer (a lower bound) */
  memoryBytes?: number;
  id?: string;
  /**
   * The kernels' storage type: 'f16' takes each class's curve from the profile's f16 fits
   * (`dtypeFits.f16`) where it has one, for a model whose kernels read and write f16; default f32.
   */
  dtype?: 'f32' | 'f16';
}

/**
 * A calibrated WebGPU profile as a target. The f32 FMA ceiling is the compute peak for fp32, the f16
 * ceiling (where measured, else f32) for the 16-bit and narrower formats, which WGSL can only
 * compute after widening; there is no interconnect, so tp must be 1. With `dtype: 'f16'` the classes
 * measured in f16 take their f16 curves (for fp16/bf16 models), the others keep their f32 ones.
 */
export function targetFromProfile(profile: Profile, options: ProfileTargetOptions = {}): PerfTarget {
  const c = profile.ceilings;
  const f32 = c.fmaF32FlopsPerS;
  const f16 = c.fmaF16FlopsPerS ?? f32;
  const peak: Partial<Record<Dtype, number>> = { fp32: f32, tf32: f32, bf16: f16, fp16: f16, fp8: f16, int8: f16, int4: f16 };
  const bw = c.memoryBytesPerS;
  const half = options.dtype === 'f16';
  const f16Fits = profile.dtypeFits?.f16 ?? {};
  if (half && Object.keys(f16Fits).length === 0) {
    throw new UserError('the profile has no f16 measurements (an adapter without shader-f16, or a quick calibration without --f16): it cannot cost an f16 model');
  }
  // an f16 target: the classes measured in f16 take those curves, the others keep their f32 ones
  const fits = half ? { ...profile.fits, ...f16Fits } : profile.fits;
  // the FLOP rate a class's fit was taken against: halfWork = fixedS x rate x effMax holds at it
  const flopsRateOf = (cls: string) => (half && f16Fits[cls] ? fitPeak(cls, 'f16', c) : f32);
  const flopsCurve = (fit: Fit | undefined, rate: number, fallback: EffCurve): EffCurve =>
    fit && fit.workUnit === 'flops' ? curveOfFit(fit, rate, c.dispatchOverheadS) : fallback;
  const classCurve = (cls: string, fallback: ClassCurve): ClassCurve => {
    const fit = fits[cls];
    return fit ? classCurveOfFit(fit, { flops: flopsRateOf(cls), bytes: bw }, c.dispatchOverheadS) : fallback;
  };
  const memory: EffCurve = fits.stream && fits.stream.workUnit === 'bytes' ? curveOfFit(fits.stream, bw, c.dispatchOverheadS) : { effMax: 1, halfWork: 0 };
  // norms, element-wise kernels and sampling: their own curves where measured, else streams (cost.ts)
  const vectorCurve = (cls: string): ClassCurve | null => (fits[cls] ? classCurve(cls, { unit: 'bytes', curve: memory }) : null);
  const gemmDefault = flopsCurve(profile.fits.gemm, f16, { effMax: 1, halfWork: 0 });
  const gemm: PerfTarget['gemm'] = { default: gemmDefault };
  // f16 kernels cost fp16 and bf16 GEMMs (both on the f16 peak, cost.ts); `default` keeps the f32 fit
  if (half && f16Fits.gemm) gemm.fp16 = gemm.bf16 = flopsCurve(f16Fits.gemm, f16, gemmDefault);
  const skinny = fits['gemm-skinny'] ? classCurve('gemm-skinny', { unit: 'flops', curve: gemmDefault }) : null;
  const limits = profile.device.limits ?? {};
  const memoryBytes = options.memoryBytes ?? limits.maxBufferSize ?? limits.maxStorageBufferBindingSize;
  if (!memoryBytes || memoryBytes <= 0) {
    throw new UserError('the profile does not record device memory (limits.maxBufferSize): give --memory-gib');
  }
  return {
    id: options.id ?? `profile:${profile.device.description || profile.device.architecture || profile.device.vendor}${half ? ':f16' : ''}`,
    name: `${profile.device.description || profile.device.vendor} (${profile.device.backend}, calibrated ${profile.createdAt}${half ? ', f16 curves' : ''})`,
    kind: 'profile',
    peakFlopsPerS: peak,
    memoryBytes,
    memoryBytesPerS: bw,
    gemm,
    gemmSkinny: skinny,
    memory,
    attentionPrefill: classCurve('attention-prefill', { unit: 'flops', curve: gemmDefault }),
    attentionDecode: classCurve('attention-decode', { unit: 'bytes', curve: memory }),
    norm: vectorCurve('norm'),
    elementwise: vectorCurve('elementwise'),
    sampling: vectorCurve('sampling'),
    kernelLaunchS: c.dispatchOverheadS,
    interconnect: null,
    tdpW: profile.power?.model.tdpW ?? null,
    idlePowerW: profile.power?.model.idleW ?? null,
    measuredPower: profile.power ?? null,
    sources: [
      `calibrated profile (${profile.timing}, ${profile.toggles}) created ${profile.createdAt}`,
      ...(half ? [`curves: the profile's f16 points where measured (${Object.keys(f16Fits).sort().join(', ')})`] : []),
    ],
  };
}

/** Peak FLOP/s for a compute dtype, falling back to the 16-bit tensor rate, then fp32. */
export function peakFor(target: PerfTarget, dtype: Dtype): number {
  const p = target.peakFlopsPerS;
  const r = p[dtype] ?? p.bf16 ?? p.fp16 ?? p.fp32;
  if (!r) throw new UserError(`target ${target.id} has no compute peak for ${dtype}`);
  return r;
}

export interface ResolveTargetOptions {
  /** catalog accelerator id (reference profile) */
  gpu?: string;
  /** path of a calibrated profile; wins over `gpu` */
  profile?: string;
  /** device memory for a profile target, bytes */
  memoryBytes?: number;
  /** a profile target's kernel storage type (ProfileTargetOptions.dtype); default f32 */
  dtype?: ProfileTargetOptions['dtype'];
}

/** The target a command names: a calibrated profile file, or a catalog accelerator's reference profile. */
export function resolveTarget(options: ResolveTargetOptions): PerfTarget {
  if (options.profile) return targetFromProfile(readProfile(options.profile), { memoryBytes: options.memoryBytes, dtype: options.dtype });
  if (!options.gpu) throw new UserError('give --gpu ID (see roofcast devices) or --profile FILE');
  return targetFromAccelerator(getAccelerator(options.gpu), referenceEfficiency(options.gpu));
}
