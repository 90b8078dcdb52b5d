import type { AcceleratorSpec, Dtype, ReferenceEfficiency, Sourced } from './types.js';

/**
 * Reference (uncalibrated) efficiency profiles: how close real kernels get to the data sheet.
 * Measured fractions come from hardware.md Part B; elsewhere a default whose source says so.
 */
function s(value: number, source: string): Sourced<number> {
  return { value, source };
}

const B1 = 'hardware.md B.1';
const B2 = 'hardware.md B.2';

// ---- large-GEMM plateau (fraction of the dense data-sheet peak) ----
const NVIDIA_DEFAULT_GEMM = s(0.75, 'default: 0.75 for NVIDIA parts without a measurement (hardware.md B.1 measured 0.73-0.87 across NVIDIA parts)');

// ---- small-GEMM falloff: eff(w) = effMax * w / (w + halfFlops), w = 2*M*N*K ----
// Solving effMax * w / (w + half) = f for the measured fraction f at w gives half = w * (effMax / f - 1).
const W1024 = 2 * 1024 ** 3;
function halfFromPoint(effMax: number, fraction: number): number {
  return W1024 * (effMax / fraction - 1);
}
// H100 FP8 1024^3: 274 TFLOPS = 13.85% of 1978.9; effMax FP8 0.709 (MAMF 1402.6)
const H100_FP8_EFF = 1402.6 / 1978.9;
const H100_HALF = halfFromPoint(H100_FP8_EFF, 274 / 1978.9);
// A100 FP16 1024^3: 119 TFLOPS = 38% of 312; effMax FP16 0.822 (Azure 16384^3, 256.5)
const A100_FP16_EFF = 256.5 / 312;
const A100_HALF = halfFromPoint(A100_FP16_EFF, 119 / 312);
// MI300X FP8 1024^3: 53 TFLOPS = 2% of 2614.9; effMax FP8 0.443 (Azure 6144x12288x12288, 1159.5)
const MI300X_FP8_EFF = 1159.5 / 2614.9;
const MI300X_HALF = halfFromPoint(MI300X_FP8_EFF, 53 / 2614.9);
// Written as fixed time: half / (peak * effMax) is the per-GEMM overhead the falloff stands for.
const H100_FIXED_S = H100_HALF / (1402.6e12);
const A100_FIXED_S = A100_HALF / (256.5e12);
const NVIDIA_FIXED_S = (H100_FIXED_S + A100_FIXED_S) / 2;
const MI300X_FIXED_S = MI300X_HALF / 1159.5e12;

const fmt = (x: number) => x.toExponential(3);
const H100_HALF_SRC = `derived: H100 FP8 1024^3 at 274 TFLOPS (13.8% of peak) with effMax 0.709 -> half = w*(effMax/f-1) = ${fmt(H100_HALF)} FLOPs (${B1} [S6])`;
const A100_HALF_SRC = `derived: A100 FP16 1024^3 at 119 TFLOPS (38% of peak) with effMax 0.822 -> half = w*(effMax/f-1) = ${fmt(A100_HALF)} FLOPs (${B1} [S6])`;
const MI300X_HALF_SRC = `derived: MI300X FP8 1024^3 at 53 TFLOPS (2% of peak) with effMax 0.443 -> half = ${fmt(MI300X_HALF)} FLOPs (${B1} [S6])`;

/** Default falloff for parts without small-shape data: a fixed per-GEMM time times the part's achieved bf16 rate. */
function scaledHalf(spec: AcceleratorSpec, effMax: number, fixedS: number, from: string): Sourced<number> {
  const peak = (spec.peakFlopsPerS.bf16 ?? spec.peakFlopsPerS.fp16)!.value;
  return s(
    fixedS * peak * effMax,
    `default: ${(fixedS * 1e6).toFixed(1)} us fixed per-GEMM time (${from}) x this part's achieved bf16 rate (${B1})`,
  );
}

// ---- memory streaming ----
const MEMORY_DEFAULT = s(0.85, `default: 0.85 (${B2} rule of thumb: 0.85-0.90 x peak on H100/H200/A100)`);
// A streaming kernel moving B bytes takes B/BW + t0 (ramp-up and tail); half of the plateau at B = BW * t0.
const MEMORY_RAMP_S = 2e-6;
function memoryHalf(spec: AcceleratorSpec, effMax: number): Sourced<number> {
  return s(
    spec.memoryBytesPerS.value * effMax * MEMORY_RAMP_S,
    'default: achieved bandwidth x 2 us of kernel ramp-up and tail (a few MB on HBM parts; DRAM latency ~400 cycles, hardware.md B.5)',
  );
}

// ---- attention and launch ----
// Flash-style prefill attention reaches less of the tensor peak than a plain GEMM: softmax and
// masking run on the vector units between the two matmuls, and causal tiles are half empty.
const ATTENTION_FRACTION_OF_GEMM = 0.6;
function attention(gemmBf16: number): Sourced<number> {
  return s(
    ATTENTION_FRACTION_OF_GEMM * gemmBf16,
    'default: 0.6 x the bf16 GEMM plateau (FlashAttention-2 forward reaches ~50-70% of A100 peak per its paper, U: recalled; serving kernels at short causal lengths do worse)',
  );
}
const LAUNCH = s(3e-6, 'hardware.md B.4: ~2-4 us GPU-side dispatch per kernel (B200 launch vs graph replay [S21]); midpoint');

interface Plan {
  gemm: Partial<Record<Dtype, Sourced<number>>> & { default: Sourced<number> };
  half: (spec: AcceleratorSpec, bf16Eff: number) => Sourced<number>;
  /** fixed per-GEMM time behind `half` */
  fixed: Sourced<number>;
  memory: Sourced<number>;
}

const us = (x: number) => `${(x * 1e6).toFixed(2)} us`;
const H100_FIXED = s(H100_FIXED_S, `derived: H100 FP8 1024^3 half-work / (1978.9 TFLOPS x 0.709) = ${us(H100_FIXED_S)} (${B1} [S6])`);
const A100_FIXED = s(A100_FIXED_S, `derived: A100 FP16 1024^3 half-work / (312 TFLOPS x 0.822) = ${us(A100_FIXED_S)} (${B1} [S6])`);
const MI300X_FIXED = s(MI300X_FIXED_S, `derived: MI300X FP8 1024^3 half-work / (2614.9 TFLOPS x 0.443) = ${us(MI300X_FIXED_S)} (${B1} [S6])`);
const NVIDIA_FIXED = s(NVIDIA_FIXED_S, `default: mean of the H100 (${us(H100_FIXED_S)}) and A100 (${us(A100_FIXED_S)}) fixed per-GEMM times (${B1} [S6])`);

const h100Half = (spec: AcceleratorSpec) =>
  s(H100_HALF, spec.id === 'h100-sxm' ? H100_HALF_SRC : `${H100_HALF_SRC}; applied to this Hopper part`);
const a100Half = (spec: AcceleratorSpec) =>
  s(A100_HALF, spec.id === 'a100-sxm4-80gb' ? A100_HALF_SRC : `${A100_HALF_SRC}; applied to this A100 part`);
const nvidiaDefaultHalf = (spec: AcceleratorSpec, eff: number) =>
  scaledHalf(spec, eff, NVIDIA_FIXED_S, 'mean of the H100 FP8 and A100 FP16 1024^3 derivations');

const A100_GEMM = {
  bf16: s(271.2 / 312, `${B1}: MAMF A100 SXM BF16 271.2 of 312 TFLOPS [S2]`),
  fp16: s(A100_FP16_EFF, `${B1}: Azure cuBLASLt A100-SXM4-80GB FP16 16384^3 256.5 of 312 TFLOPS [S6]`),
  default: NVIDIA_DEFAULT_GEMM,
};
const A100_MEMORY = s(1.61 / 2.039, `${B2}: STREAM copy 1.61 of 2.039 TB/s, A100 SXM 80GB [S6]`);

const PLANS: Record<string, Plan> = {
  'h100-sxm': {
    gemm: {
      bf16: s(794.5 / 989.4, `${B1}: MAMF H100 SXM BF16 794.5 of 989.4 TFLOPS [S2]`),
      fp16: s(794.5 / 989.4, `${B1}: MAMF H100 SXM BF16 794.5 TFLOPS, same tensor path as FP16 [S2]`),
      fp8: s(H100_FP8_EFF, `${B1}: MAMF H100 SXM FP8 e4m3 1402.6 of 1978.9 TFLOPS [S2]`),
      default: NVIDIA_DEFAULT_GEMM,
    },
    half: h100Half,
    fixed: H100_FIXED,
    memory: s(2.9 / 3.35, `${B2}: STREAM copy 2.90 of 3.35 TB/s, H100 SXM [S6]`),
  },
  'h100-pcie': { gemm: { default: NVIDIA_DEFAULT_GEMM }, half: h100Half, fixed: H100_FIXED, memory: MEMORY_DEFAULT },
  'h100-nvl': { gemm: { default: NVIDIA_DEFAULT_GEMM }, half: h100Half, fixed: H100_FIXED, memory: MEMORY_DEFAULT },
  'h200-sxm': {
    gemm: {
      bf16: s(0.8, `${B1}: MAMF H200 BF16 "same as H100" ~80% (stas00 note) [S2]; 769-798 TFLOPS at 8192^3 (hardware.md, further ceilings)`),
      fp16: s(0.8, `${B1}: as bf16, same tensor path [S2]`),
      fp8: s(1453.4 / 1979, `${B1}: MAMF H200 SXM FP8 1453.4 of 1979 TFLOPS [S2]`),
      default: NVIDIA_DEFAULT_GEMM,
    },
    half: () => s(H100_HALF, `${H100_HALF_SRC}; H200 has the same die`),
    fixed: H100_FIXED,
    memory: s(4.01 / 4.8, `${B2}: STREAM copy 4.01 of 4.8 TB/s, H200 SXM [S6]`),
  },
  'a100-sxm4-40gb': { gemm: A100_GEMM, half: a100Half, fixed: A100_FIXED, memory: s(A100_MEMORY.value, `${A100_MEMORY.source}; applied to the 40GB part`) },
  'a100-sxm4-80gb': { gemm: A100_GEMM, half: a100Half, fixed: A100_FIXED, memory: A100_MEMORY },
  'a100-pcie-80gb': {
    gemm: {
      bf16: s(252.9 / 312, `${B1}: MAMF A100 PCIe BF16 252.9 of 312 TFLOPS [S2]`),
      fp16: s(252.9 / 312, `${B1}: as bf16 (MAMF A100 PCIe), same tensor path [S2]`),
      default: NVIDIA_DEFAULT_GEMM,
    },
    half: a100Half,
    fixed: A100_FIXED,
    memory: s(A100_MEMORY.value, `${A100_MEMORY.source}; applied to the PCIe 80GB part (same HBM2e)`),
  },
  b200: {
    gemm: {
      bf16: s(1745 / 2250, `${B1}: MAMF B200 SXM BF16 1745 of 2250 TFLOPS [S2]`),
      fp16: s(1745 / 2250, `${B1}: as bf16, same tensor path [S2]`),
      fp8: s(3432.5 / 4500, `${B1}: MAMF B200 FP8 3432.5 of 4500 TFLOPS [S2]`),
      default: NVIDIA_DEFAULT_GEMM,
    },
    half: nvidiaDefaultHalf,
    fixed: NVIDIA_FIXED,
    memory: s(7.35 / 8, `${B2}: GB200 7.35 of 8.0 TB/s ("92% efficiency", Microsoft blog [S15]); same GPU and HBM3e as B200`),
  },
  gb200: {
    gemm: {
      bf16: s(1822 / 2500, `${B1}: MAMF GB200 BF16 1822 of 2500 TFLOPS [S2]`),
      fp16: s(1822 / 2500, `${B1}: as bf16, same tensor path [S2]`),
      fp8: s(2906.9 / 5000, `${B1}: Azure ND GB200 v6 FP8 16384^3 2906.9 of 5000 TFLOPS [S6]`),
      default: NVIDIA_DEFAULT_GEMM,
    },
    half: nvidiaDefaultHalf,
    fixed: NVIDIA_FIXED,
    memory: s(7.35 / 8, `${B2}: GB200 7.35 of 8.0 TB/s (Microsoft blog [S15])`),
  },
  l40s: { gemm: { default: NVIDIA_DEFAULT_GEMM }, half: nvidiaDefaultHalf, fixed: NVIDIA_FIXED, memory: MEMORY_DEFAULT },
  l4: { gemm: { default: NVIDIA_DEFAULT_GEMM }, half: nvidiaDefaultHalf, fixed: NVIDIA_FIXED, memory: MEMORY_DEFAULT },
  a10g: { gemm: { default: NVIDIA_DEFAULT_GEMM }, half: nvidiaDefaultHalf, fixed: NVIDIA_FIXED, memory: MEMORY_DEFAULT },
  'v100-sxm2': { gemm: { default: NVIDIA_DEFAULT_GEMM }, half: nvidiaDefaultHalf, fixed: NVIDIA_FIXED, memory: MEMORY_DEFAULT },
  'rtx-4090': { gemm: { default: NVIDIA_DEFAULT_GEMM }, half: nvidiaDefaultHalf, fixed: NVIDIA_FIXED, memory: MEMORY_DEFAULT },
  // MI300X: the current MAMF row (668.4 TFLOPS, 0.51, ROCm 6.3) is a mean over iterations like every
  // other MAMF row; the earlier 781.9 (0.60, ROCm 6.2) was likely a max, so 0.51 is the like-for-like figure.
  mi300x: {
    gemm: {
      bf16: s(668.4 / 1307.4, `${B1}: MAMF MI300X BF16 668.4 of 1307.4 TFLOPS, mean (ROCm 6.3) [S2]; earlier 781.9 was likely a max`),
      fp16: s(668.4 / 1307.4, `${B1}: as bf16 (MAMF MI300X) [S2]`),
      fp8: s(MI300X_FP8_EFF, `${B1}: Azure hipBLASLt MI300X FP8 6144x12288x12288 1159.5 of 2614.9 TFLOPS [S6]`),
      default: s(668.4 / 1307.4, `${B1}: MI300X BF16 MAMF figure used for other dtypes [S2]`),
    },
    half: () => s(MI300X_HALF, MI300X_HALF_SRC),
    fixed: MI300X_FIXED,
    memory: s(4.11 / 5.3, `${B2}: STREAM copy 4.11 of 5.3 TB/s, MI300X [S6]`),
  },
  mi325x: {
    gemm: {
      bf16: s(784.9 / 1307.4, `${B1}: MAMF MI325X BF16 784.9 of 1307.4 TFLOPS (ROCm 6.2.4, 1000 W) [S2]`),
      fp16: s(784.9 / 1307.4, `${B1}: as bf16 (MAMF MI325X) [S2]`),
      default: s(784.9 / 1307.4, `${B1}: MI325X BF16 MAMF figure used for other dtypes [S2]`),
    },
    half: (spec, eff) => scaledHalf(spec, eff, MI300X_FIXED_S, 'MI300X FP8 1024^3 derivation, same compute die'),
    fixed: s(MI300X_FIXED_S, `${MI300X_FIXED.source}; applied to MI325X (same compute die)`),
    memory: s(4.11 / 5.3, `${B2}: MI300X STREAM copy 4.11 of 5.3 TB/s [S6], applied to MI325X (same die)`),
  },
};

export const REFERENCE_ACCELERATOR_IDS: readonly string[] = Object.keys(PLANS);

/** Builds the reference profile of a catalog part (undefined when the part has no plan). */
export function buildReferenceEfficiency(spec: AcceleratorSpec): ReferenceEfficiency | undefined {
  const plan = PLANS[spec.id];
  if (!plan) return undefined;
  const bf16Eff = (plan.gemm.bf16 ?? plan.gemm.fp16 ?? plan.gemm.default).value;
  return {
    gemmEffMax: plan.gemm,
    gemmHalfFlops: plan.half(spec, bf16Eff),
    gemmFixedS: plan.fixed,
    memoryEffMax: plan.memory,
    memoryHalfBytes: memoryHalf(spec, plan.memory.value),
    attentionEffMax: attention(bf16Eff),
    kernelLaunchS: LAUNCH,
  };
}
