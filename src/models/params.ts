import type { ModelSpec, ParameterCounts } from './types.js';

/**
 * Parameters of one decoder layer: attention (q, k, v, o, optional qkv bias and per-head q/k norms),
 * the feed-forward block (gated MLP with 3 matrices, or routed experts + router + shared expert) and
 * the two RMSNorms. `active` counts only the experts one token is routed to.
 */
function layerParams(spec: ModelSpec): { total: number; active: number } {
  const h = spec.hiddenSize;
  const qWidth = spec.numHeads * spec.headDim;
  const kvWidth = spec.numKvHeads * spec.headDim;
  let attention = h * qWidth + 2 * h * kvWidth + qWidth * h;
  if (spec.qkvBias) attention += qWidth + 2 * kvWidth;
  if (spec.qkNorm) attention += 2 * spec.headDim;
  const norms = 2 * h;
  const common = attention + norms;
  if (!spec.moe) {
    const mlp = 3 * h * spec.intermediateSize;
    return { total: common + mlp, active: common + mlp };
  }
  const m = spec.moe;
  const expert = 3 * h * m.expertIntermediateSize;
  const router = h * m.numExperts;
  const shared = 3 * h * m.sharedExpertIntermediateSize;
  return {
    total: common + m.numExperts * expert + router + shared,
    active: common + m.expertsPerToken * expert + router + shared,
  };
}

/**
 * Total (memory) and active-per-token (traffic, FLOPs) parameter counts.
 * `lmHead` is the size of the output projection (vocab x hidden), which every token multiplies by
 * even when it shares storage with the embedding; `total` and `active` count it only when untied.
 */
export function parameterCounts(spec: ModelSpec): ParameterCounts {
  const layer = layerParams(spec);
  const embedding = spec.vocabSize * spec.hiddenSize;
  const lmHead = spec.vocabSize * spec.hiddenSize;
  const separateHead = spec.tiedEmbeddings ? 0 : lmHead;
  const finalNorm = spec.hiddenSize;
  return {
    total: embedding + separateHead + finalNorm + spec.numLayers * layer.total,
    active: embedding + separateHead + finalNorm + spec.numLayers * layer.active,
    embedding,
    lmHead,
    perLayerTotal: layer.total,
    perLayerActive: layer.active,
  };
}

/** KV-cache bytes per token of context: K and V, every layer, every KV head. */
export function kvBytesPerToken(spec: ModelSpec, kvBytesPerElement: number): number {
  return 2 * spec.numLayers * spec.numKvHeads * spec.headDim * kvBytesPerElement;
}
