import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import type { ModelFamily, ModelSpec } from './types.js';
import { validateModel } from './validate.js';

/** model_type values and the HF architecture class of each family we can cost. */
const FAMILIES: Record<ModelFamily, string> = {
  llama: 'LlamaForCausalLM',
  mistral: 'MistralForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  mixtral: 'MixtralForCausalLM',
  qwen3_moe: 'Qwen3MoeForCausalLM',
};
export const SUPPORTED_HF_ARCHITECTURES: readonly string[] = Object.entries(FAMILIES).map(
  ([type, arch]) => `${type} (${arch})`,
);

const count = z.number().int().positive();
const optionalCount = count.nullable().optional();

const baseSchema = z.object({
  model_type: z.string().optional(),
  architectures: z.array(z.string()).optional(),
});

const denseSchema = z.object({
  hidden_size: count,
  num_hidden_layers: count,
  num_attention_heads: count,
  // absent in early configs: then every head has its own K and V (HF default)
  num_key_value_heads: optionalCount,
  head_dim: optionalCount,
  intermediate_size: count,
  vocab_size: count,
  max_position_embeddings: count,
  // the HF default is false for every supported family
  tie_word_embeddings: z.boolean().optional(),
  attention_bias: z.boolean().optional(),
  sliding_window: optionalCount,
  use_sliding_window: z.boolean().optional(),
});

const mixtralSchema = z.object({ num_local_experts: count, num_experts_per_tok: count });
const qwen3MoeSchema = z.object({
  num_experts: count,
  num_experts_per_tok: count,
  moe_intermediate_size: count,
  decoder_sparse_step: count.optional(),
  mlp_only_layers: z.array(z.number().int()).optional(),
});

function parseWith<T>(schema: z.ZodType<T>, raw: Record<string, unknown>, file: string): T {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue.path.join('.');
  const value = field in raw ? JSON.stringify(raw[field]) : undefined;
  const what = value === undefined ? 'is missing' : `is invalid (${value}): ${issue.message}`;
  throw new UserError(`${file}: field '${field}' ${what}`);
}

function familyOf(raw: z.infer<typeof baseSchema>, file: string): ModelFamily {
  const type = raw.model_type;
  if (type !== undefined && type in FAMILIES) return type as ModelFamily;
  if (type === undefined) {
    for (const arch of raw.architectures ?? []) {
      const hit = (Object.keys(FAMILIES) as ModelFamily[]).find((f) => FAMILIES[f] === arch);
      if (hit) return hit;
    }
  }
  const seen = type ?? raw.architectures?.join(', ') ?? 'no model_type';
  throw new UserError(`${file}: architecture '${seen}' is not supported; supported: ${SUPPORTED_HF_ARCHITECTURES.join(', ')}`);
}

/** kebab-case id from the folder holding config.json (HF snapshots) or from the file name. */
function idFromPath(file: string): string {
  const base = basename(file);
  const stem = base === 'config.json' ? basename(dirname(file)) : base.replace(/\.json$/i, '');
  const id = stem
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .replace(/\.{2,}/g, '.');
  return id === '' ? 'custom-model' : id;
}

/** Maps a parsed config.json object to a ModelSpec; `file` names it in errors and in `source`. */
export function modelFromHfConfig(raw: unknown, file: string): ModelSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new UserError(`${file}: expected a JSON object (a Hugging Face config.json)`);
  }
  const obj = raw as Record<string, unknown>;
  const family = familyOf(parseWith(baseSchema, obj, file), file);
  const c = parseWith(denseSchema, obj, file);
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    throw new UserError(
      `${file}: field 'num_key_value_heads' (${numKvHeads}) must divide num_attention_heads (${c.num_attention_heads})`,
    );
  }
  if (c.head_dim == null && c.hidden_size % c.num_attention_heads !== 0) {
    throw new UserError(`${file}: field 'head_dim' is missing and hidden_size is not a multiple of num_attention_heads`);
  }
  // Mistral always applies sliding_window when set; Qwen only with use_sliding_window
  const window = family === 'mistral' || family === 'mixtral' || c.use_sliding_window ? c.sliding_window : null;
  const spec: ModelSpec = {
    id: idFromPath(file),
    name: basename(file) === 'config.json' ? basename(dirname(file)) || file : basename(file),
    family,
    source: `${file} (Hugging Face config.json)`,
    hiddenSize: c.hidden_size,
    numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads,
    numKvHeads,
    headDim: c.head_dim ?? c.hidden_size / c.num_attention_heads,
    intermediateSize: c.intermediate_size,
    vocabSize: c.vocab_size,
    tiedEmbeddings: c.tie_word_embeddings ?? false,
    // Qwen2 hard-codes a bias on q, k and v; the others follow attention_bias
    qkvBias: family === 'qwen2' ? true : (c.attention_bias ?? false),
    qkNorm: family === 'qwen3' || family === 'qwen3_moe',
    maxContextTokens: c.max_position_embeddings,
  };
  if (window != null && window < c.max_position_embeddings) spec.slidingWindowTokens = window;
  if (family === 'mixtral') {
    const m = parseWith(mixtralSchema, obj, file);
    spec.moe = {
      numExperts: m.num_local_experts,
      expertsPerToken: m.num_experts_per_tok,
      expertIntermediateSize: c.intermediate_size,
      sharedExpertIntermediateSize: 0,
    };
  } else if (family === 'qwen3_moe') {
    const m = parseWith(qwen3MoeSchema, obj, file);
    if ((m.decoder_sparse_step ?? 1) !== 1 || (m.mlp_only_layers ?? []).length > 0) {
      throw new UserError(`${file}: field 'decoder_sparse_step'/'mlp_only_layers': mixed dense and MoE layers are not supported`);
    }
    spec.moe = {
      numExperts: m.num_experts,
      expertsPerToken: m.num_experts_per_tok,
      expertIntermediateSize: m.moe_intermediate_size,
      sharedExpertIntermediateSize: 0,
    };
  }
  try {
    return validateModel(spec);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`${file}: ${e.message}`);
    throw e;
  }
}

/** Reads and validates a Hugging Face config.json of a supported family. */
export function readHfConfig(path: string): ModelSpec {
  if (!existsSync(path)) throw new UserError(`${path}: no such file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read (${(e as Error).message.split('\n')[0]})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  return modelFromHfConfig(raw, path);
}
