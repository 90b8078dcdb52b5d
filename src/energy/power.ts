import type { Sourced } from '../hardware/types.js';
import type { StepCost } from '../perf/types.js';

/**
 * GPU power as a function of what the GPU is doing. Power rises from idle with the DRAM bandwidth
 * and the FLOP rate a step achieves (each as a fraction of its data-sheet peak):
 *
 *   P = idle + (memoryBoundW - idle) * uMem / memoryRefUtil + (tdp - idle) * uFlop / computeRefUtil
 *
 * capped at TDP. memoryBoundW is the measured decode (token-phase) power, reached at the bandwidth
 * utilisation the measured system's decode achieved (memoryRefUtil; where that is unknown, that of
 * a streaming kernel); TDP is the measured prefill (prompt-phase)
 * power, reached at the best GEMM utilisation (computeRefUtil). So compute-bound prefill draws near
 * TDP, memory-bound decode well below it, and decode power rises with batch as FLOPs per step grow;
 * steps that wait on launches or on tensor-parallel collectives achieve less and draw less.
 */
export interface PowerModel {
  acceleratorId: string;
  idleW: Sourced;
  tdpW: Sourced;
  memoryBoundW: Sourced;
  memoryRefUtil: Sourced;
  computeRefUtil: Sourced;
}

/** The device figures the power model is built from (from src/hardware or a PerfTarget). */
export interface PowerDevice {
  id: string;
  tdpW: Sourced;
  idlePowerW: Sourced;
}

/** Peaks the utilisations are measured against. */
export interface PowerPeaks {
  flopsPerS: number;
  memoryBytesPerS: number;
}

const SPLITWISE = 'Splitwise power model, configs/power_model/constant.yaml (hardware.md S8)';
/** the same characterisation's decode speed: the bandwidth use at which its token-phase power was drawn */
const SPLITWISE_TPOT = 'Splitwise perf_model.csv, Llama-2-70B fp16 batch 1 (validation-public.md section 1)';
const MAMF = 'stas00 MAMF BF16 efficiency (hardware.md B.1, S2)';

/** Where no decode measurement exists: decode power shares were measured on decode at ~60% of peak. */
const DECODE_REF_UTIL: Sourced = {
  value: 0.6,
  source: 'assumed: measured decode (Splitwise, 56-62% of peak bandwidth) is where decode power shares come from',
};

interface PowerDefaults {
  match: RegExp;
  memoryBoundW?: Sourced;
  memoryRefUtil: Sourced;
  computeRefUtil: Sourced;
}

// First match wins; the last row is the fallback for parts without phase measurements.
const DEFAULTS: PowerDefaults[] = [
  {
    match: /^a100/,
    memoryBoundW: { value: 250, source: `${SPLITWISE}: A100 token phase 250 W (measured on A100-80GB; assumed for every A100)` },
    memoryRefUtil: { value: 0.62, source: `${SPLITWISE_TPOT}: A100-80GB TP2 TPOT 54.86 ms for 69 GB of weights per GPU = 62% of 2.039 TB/s` },
    computeRefUtil: { value: 0.87, source: `${MAMF}: A100 SXM 271.2 / 312 TFLOPS` },
  },
  {
    match: /^h100/,
    memoryBoundW: { value: 380, source: `${SPLITWISE}: H100 token phase 380 W` },
    memoryRefUtil: { value: 0.56, source: `${SPLITWISE_TPOT}: H100 TP2 TPOT 37.00 ms for 69 GB of weights per GPU = 56% of 3.35 TB/s` },
    computeRefUtil: { value: 0.8, source: `${MAMF}: H100 SXM 794.5 / 989 TFLOPS` },
  },
  {
    match: /^h200/,
    memoryBoundW: { value: 300, source: 'Ma et al. arXiv 2605.11999: decode draws 137-300 W on a 700 W H200 (upper end: full decode)' },
    memoryRefUtil: DECODE_REF_UTIL,
    computeRefUtil: { value: 0.8, source: `${MAMF}: H200 "same as H100"` },
  },
  {
    match: /^mi3/,
    memoryRefUtil: DECODE_REF_UTIL,
    computeRefUtil: { value: 0.51, source: `${MAMF}: MI300X 668.4 / 1307 TFLOPS` },
  },
  {
    match: /./,
    memoryRefUtil: DECODE_REF_UTIL,
    computeRefUtil: { value: 0.8, source: 'hardware.md B.1: large-GEMM efficiency ~0.8 on recent NVIDIA parts' },
  },
];

/**
 * Decode power as a share of TDP where no phase measurement exists: Splitwise measured 63% (A100)
 * and 54% (H100); hardware.md: "measured decode power is 40-55% of TDP". 0.55 is the upper end,
 * because the reference point is decode at full streaming bandwidth.
 */
const DECODE_SHARE_OF_TDP = 0.55;

export function defaultPowerModel(device: PowerDevice): PowerModel {
  const d = DEFAULTS.find((row) => row.match.test(device.id)) ?? DEFAULTS[DEFAULTS.length - 1];
  const tdp = device.tdpW.value;
  return {
    acceleratorId: device.id,
    idleW: device.idlePowerW,
    tdpW: device.tdpW,
    memoryBoundW: d.memoryBoundW ?? {
      value: DECODE_SHARE_OF_TDP * tdp,
      source: 'assumed: 55% of TDP (Splitwise A100 63%, H100 54%; hardware.md "40-55% of TDP")',
    },
    memoryRefUtil: d.memoryRefUtil,
    computeRefUtil: d.computeRefUtil,
  };
}

/** The power fields a calibrated profile records (`profile.power`, written by `calibrate --power`). */
export interface MeasuredPower {
  source: string;
  sampledAt: string;
  model: { idleW: number; tdpW: number; memoryBoundW: number; memoryRefUtil: number; computeRefUtil: number };
}

/** The power model measured on the profiled GPU: replaces the catalog defaults for that target. */
export function profilePowerModel(power: MeasuredPower, acceleratorId: string): PowerModel {
  const m = power.model;
  const src = `calibrate --power, ${power.source}, ${power.sampledAt}`;
  return {
    acceleratorId,
    idleW: { value: m.idleW, source: `${src}: median idle power` },
    tdpW: { value: m.tdpW, source: `${src}: median power while compute-bound kernels ran (the model's cap)` },
    memoryBoundW: { value: m.memoryBoundW, source: `${src}: median power while memory-bound kernels ran` },
    memoryRefUtil: { value: m.memoryRefUtil, source: `${src}: median bandwidth use of those memory-bound kernels` },
    computeRefUtil: { value: m.computeRefUtil, source: `${src}: median FLOP-rate use of those compute-bound kernels` },
  };
}

/** Power of one GPU that achieves `uMem` of peak bandwidth and `uFlop` of peak FLOP/s. */
export function powerAtUtilisationW(model: PowerModel, uMem: number, uFlop: number): number {
  const idle = model.idleW.value;
  const tdp = model.tdpW.value;
  const p =
    idle +
    (model.memoryBoundW.value - idle) * (Math.max(0, uMem) / model.memoryRefUtil.value) +
    (tdp - idle) * (Math.max(0, uFlop) / model.computeRefUtil.value);
  return Math.min(tdp, p);
}

/** Average power of each GPU during one engine step (StepCost flops and bytes are per GPU). */
export function stepPowerW(model: PowerModel, step: StepCost, peaks: PowerPeaks): number {
  if (!(step.seconds > 0)) return model.idleW.value;
  const uMem = step.bytes / (step.seconds * peaks.memoryBytesPerS);
  const uFlop = step.flops / (step.seconds * peaks.flopsPerS);
  return powerAtUtilisationW(model, uMem, uFlop);
}

export const JOULES_PER_WH = 3600;
export const SECONDS_PER_DAY = 86_400;

/**
 * Fleet power of serving `queriesPerDay` requests of `energyJPerQuery` each, as the study's
 * Table IV computes it: energy per query x queries per day / 24 h, times PUE (1 in the study).
 */
export function fleetPowerW(energyJPerQuery: number, queriesPerDay: number, pue = 1): number {
  return ((energyJPerQuery * queriesPerDay) / SECONDS_PER_DAY) * pue;
}
