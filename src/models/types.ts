/**
 * A decoder-only transformer architecture: everything the cost model needs, nothing about weights.
 * Built-in entries live in catalog.ts; Hugging Face config.json files are read by hf-config.ts.
 */
export type ModelFamily = 'llama' | 'mistral' | 'qwen2' | 'qwen3' | 'mixtral' | 'qwen3_moe';

export interface MoeSpec {
  numExperts: number;
  /** experts each token is routed to (top-k) */
  expertsPerToken: number;
  /** FFN width of one expert */
  expertIntermediateSize: number;
  /** FFN width of an always-on shared expert, 0 when there is none */
  sharedExpertIntermediateSize: number;
}

export interface ModelSpec {
  /** kebab-case id, e.g. llama-3.1-8b */
  id: string;
  name: string;
  family: ModelFamily;
  /** where the architecture figures come from (the model's config.json) */
  source: string;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** dense gated-MLP width (ignored for layers that are MoE) */
  intermediateSize: number;
  vocabSize: number;
  tiedEmbeddings: boolean;
  /** bias on the q, k, v projections (Qwen2) */
  qkvBias: boolean;
  /** per-head RMSNorm on q and k (Qwen3) */
  qkNorm: boolean;
  maxContextTokens: number;
  /** present for mixture-of-experts models (every layer MoE) */
  moe?: MoeSpec;
  /** sliding-window attention span in tokens (the KV cache never holds more); absent = full attention */
  slidingWindowTokens?: number;
}

/** Parameter counts: total for memory, active (per token) for traffic and FLOPs. */
export interface ParameterCounts {
  total: number;
  active: number;
  embedding: number;
  lmHead: number;
  perLayerTotal: number;
  perLayerActive: number;
}
