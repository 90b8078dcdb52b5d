import type { AcceleratorSpec, Dtype } from './types.js';

/** A flat, JSON-friendly row of the figures people compare (for `--json` listings and tables). */
export interface AcceleratorSummary {
  id: string;
  name: string;
  vendor: AcceleratorSpec['vendor'];
  bf16FlopsPerS: number | null;
  fp8FlopsPerS: number | null;
  memoryBytes: number;
  memoryBytesPerS: number;
  /** data-sheet ridge point for bf16: FLOPs per DRAM byte above which a kernel is compute-bound */
  bf16RidgeFlopsPerByte: number | null;
  interconnect: string;
  linkBytesPerS: number;
  maxGpus: number;
  tdpW: number;
  idlePowerW: number;
}

const rate = (spec: AcceleratorSpec, d: Dtype) => spec.peakFlopsPerS[d]?.value ?? null;

export function summarizeAccelerator(spec: AcceleratorSpec): AcceleratorSummary {
  const bf16 = rate(spec, 'bf16') ?? rate(spec, 'fp16');
  return {
    id: spec.id,
    name: spec.name,
    vendor: spec.vendor,
    bf16FlopsPerS: bf16,
    fp8FlopsPerS: rate(spec, 'fp8'),
    memoryBytes: spec.memoryBytes.value,
    memoryBytesPerS: spec.memoryBytesPerS.value,
    bf16RidgeFlopsPerByte: bf16 === null ? null : bf16 / spec.memoryBytesPerS.value,
    interconnect: spec.interconnect.kind,
    linkBytesPerS: spec.interconnect.bytesPerS.value,
    maxGpus: spec.interconnect.maxGpus,
    tdpW: spec.tdpW.value,
    idlePowerW: spec.idlePowerW.value,
  };
}
