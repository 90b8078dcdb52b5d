import { kvBytesPerToken, parameterCounts } from './params.js';
import type { ModelSpec } from './types.js';

/** A flat, JSON-friendly row of a model (for `--json` listings and tables). */
export interface ModelSummary {
  id: string;
  name: string;
  family: ModelSpec['family'];
  layers: number;
  hiddenSize: number;
  heads: number;
  kvHeads: number;
  totalParams: number;
  activeParams: number;
  /** K and V of one token in 16-bit precision */
  kvBytesPerToken16: number;
  maxContextTokens: number;
  experts: string | null;
  source: string;
}

export function summarizeModel(spec: ModelSpec): ModelSummary {
  const p = parameterCounts(spec);
  return {
    id: spec.id,
    name: spec.name,
    family: spec.family,
    layers: spec.numLayers,
    hiddenSize: spec.hiddenSize,
    heads: spec.numHeads,
    kvHeads: spec.numKvHeads,
    totalParams: p.total,
    activeParams: p.active,
    kvBytesPerToken16: kvBytesPerToken(spec, 2),
    maxContextTokens: spec.maxContextTokens,
    experts: spec.moe ? `${spec.moe.expertsPerToken} of ${spec.moe.numExperts}` : null,
    source: spec.source,
  };
}
