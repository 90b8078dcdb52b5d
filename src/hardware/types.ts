/** A figure taken from outside (a data sheet, a paper, a benchmark), with where it came from. */
export interface Sourced<T = number> {
  value: T;
  /** short citation: document, table or file, e.g. "NVIDIA H100 datasheet (hardware.md S1)" */
  source: string;
}

/** Weight / activation / KV number formats the cost model knows. */
export type Dtype = 'fp32' | 'tf32' | 'bf16' | 'fp16' | 'fp8' | 'int8' | 'int4';

export const DTYPE_BYTES: Record<Dtype, number> = {
  fp32: 4,
  tf32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
  int4: 0.5,
};

/** Dense (non-sparse) peak rates, FLOP/s (or OP/s for integers); null where the part has no such unit. */
export type PeakRates = Record<Dtype, Sourced<number> | null>;

export interface InterconnectSpec {
  kind: 'nvlink' | 'infinity-fabric' | 'pcie' | 'none';
  /** per-GPU bandwidth in one direction, bytes/s */
  bytesPerS: Sourced<number>;
  /** fixed latency of one collective step, seconds */
  latencyS: Sourced<number>;
  /** largest number of GPUs in one scale-up domain (tensor-parallel group) */
  maxGpus: number;
}

/** A datacenter (or consumer) accelerator as its data sheet and public measurements describe it. */
export interface AcceleratorSpec {
  /** kebab-case id, e.g. h100-sxm */
  id: string;
  name: string;
  vendor: 'nvidia' | 'amd' | 'intel' | 'google';
  peakFlopsPerS: PeakRates;
  memoryBytes: Sourced<number>;
  memoryBytesPerS: Sourced<number>;
  l2Bytes: Sourced<number> | null;
  /** last-level cache when it is not the L2 (AMD Infinity Cache); absent otherwise */
  llcBytes?: Sourced<number>;
  interconnect: InterconnectSpec;
  tdpW: Sourced<number>;
  idlePowerW: Sourced<number>;
}

/**
 * How close real kernels get to the data sheet on this part: the reference (uncalibrated) profile.
 * Fractions are of the data-sheet peak; each has a source or says it is a stated default.
 */
export interface ReferenceEfficiency {
  /** best large-GEMM efficiency per dtype (fraction of peak); fall back to `default` */
  gemmEffMax: Partial<Record<Dtype, Sourced<number>>> & { default: Sourced<number> };
  /** GEMM work (FLOPs) at which efficiency is half of effMax: the small-shape falloff */
  gemmHalfFlops: Sourced<number>;
  /**
   * The same falloff as a fixed per-GEMM time t0 = halfFlops / (peak x effMax), which does not depend
   * on the dtype: halfFlops for dtype d is t0 x peak[d] x effMax[d] (see gemmHalfFlopsFor).
   */
  gemmFixedS?: Sourced<number>;
  /** achievable fraction of peak memory bandwidth on streaming kernels */
  memoryEffMax: Sourced<number>;
  /** bytes moved at which bandwidth efficiency is half of memoryEffMax */
  memoryHalfBytes: Sourced<number>;
  /** attention kernels' fraction of the tensor peak (flash-style prefill) */
  attentionEffMax: Sourced<number>;
  /** GPU-side cost of launching one kernel, seconds */
  kernelLaunchS: Sourced<number>;
}
