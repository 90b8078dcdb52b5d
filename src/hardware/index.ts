import { UserError } from '../errors.js';
import { unknownIdMessage } from '../models/closest.js';
import { ACCELERATOR_CATALOG } from './catalog.js';
import { buildReferenceEfficiency } from './reference.js';
import type { AcceleratorSpec, Dtype, ReferenceEfficiency } from './types.js';

export type { AcceleratorSpec, Dtype, InterconnectSpec, PeakRates, ReferenceEfficiency, Sourced } from './types.js';
export { DTYPE_BYTES } from './types.js';

const BY_ID = new Map(ACCELERATOR_CATALOG.map((a) => [a.id, a]));

export function listAccelerators(): AcceleratorSpec[] {
  return [...ACCELERATOR_CATALOG];
}

export function acceleratorIds(): string[] {
  return ACCELERATOR_CATALOG.map((a) => a.id);
}

/** A catalog accelerator by id; unknown ids throw a one-line UserError listing the known ones. */
export function getAccelerator(id: string): AcceleratorSpec {
  const spec = BY_ID.get(id) ?? BY_ID.get(id.toLowerCase());
  if (!spec) throw new UserError(unknownIdMessage('accelerator', id, acceleratorIds()));
  return spec;
}

/** The reference (uncalibrated) efficiency profile of a catalog accelerator. */
export function referenceEfficiency(id: string): ReferenceEfficiency {
  const eff = buildReferenceEfficiency(getAccelerator(id));
  // every catalog part has a plan (a test enforces it); this guards a future entry without one
  if (!eff) throw new UserError(`accelerator '${id}' has no reference profile`);
  return eff;
}

/** Best large-GEMM efficiency for a dtype, falling back to the profile's default. */
export function gemmEffMax(eff: ReferenceEfficiency, dtype: Dtype): number {
  return (eff.gemmEffMax[dtype] ?? eff.gemmEffMax.default).value;
}

/** Dense peak for a dtype, or a UserError naming the part when it has no such unit. */
export function peakFlopsPerS(spec: AcceleratorSpec, dtype: Dtype): number {
  const peak = spec.peakFlopsPerS[dtype];
  if (!peak) throw new UserError(`accelerator '${spec.id}' has no ${dtype} tensor rate (see 'roofcast devices')`);
  return peak.value;
}

/**
 * Small-GEMM half-work (FLOPs) for a dtype: the profile's fixed per-GEMM time times that dtype's
 * achieved rate (peak x effMax), so that FP8 on H100 and BF16 on H100 share one measured overhead;
 * the profile's single gemmHalfFlops where it has no fixed time or the part lacks the dtype.
 */
export function gemmHalfFlopsFor(spec: AcceleratorSpec, eff: ReferenceEfficiency, dtype: Dtype): number {
  const peak = spec.peakFlopsPerS[dtype];
  if (!eff.gemmFixedS || !peak) return eff.gemmHalfFlops.value;
  return eff.gemmFixedS.value * peak.value * gemmEffMax(eff, dtype);
}
export { summarizeAccelerator, type AcceleratorSummary } from './summary.js';
