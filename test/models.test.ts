import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import {
  getModel,
  kvBytesPerToken,
  listModels,
  parameterCounts,
  readHfConfig,
  resolveModel,
  summarizeModel,
  validateModel,
  type ModelSpec,
} from '../src/models/index.js';

const FIX = join(import.meta.dirname, 'fixtures', 'models');

/** Expects `fn` to throw a UserError whose message is one line and matches `pattern`. */
function expectUserError(fn: () => unknown, pattern: RegExp): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const msg = (e as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(pattern);
    return msg;
  }
  throw new Error('expected a UserError');
}

describe('model catalog', () => {
  it('holds every id the issue requires, kebab-case and unique, each valid and sourced', () => {
    const ids = listModels().map((m) => m.id);
    for (const id of [
      'llama-3.1-8b', 'llama-3.1-70b', 'llama-3.3-70b', 'llama-3.1-405b', 'llama-2-7b', 'llama-2-70b',
      'llama-3.2-1b', 'llama-3.2-3b', 'mistral-7b', 'qwen2.5-7b', 'qwen2.5-72b', 'mixtral-8x7b', 'qwen3-30b-a3b',
    ]) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const m of listModels()) {
      expect(m.id).toMatch(/^[a-z0-9]+(?:[.-][a-z0-9]+)*$/);
      expect(m.source).toMatch(/config\.json/);
      expect(() => validateModel(m)).not.toThrow();
    }
  });

  it('unknown ids give a one-line error listing the known ids and the closest one', () => {
    const msg = expectUserError(() => getModel('llama-3.1-8'), /unknown model 'llama-3.1-8'/);
    expect(msg).toContain("did you mean 'llama-3.1-8b'");
    expect(msg).toContain('qwen3-30b-a3b');
    expect(expectUserError(() => getModel('gpt-4'), /known: /)).not.toContain('did you mean');
  });
});

describe('parameter counts (hand-computed from the architecture, checked against published totals)', () => {
  // Llama-3.1-8B by hand: embedding and head 128256*4096 each; per layer q,o 4096^2, k,v 4096*1024,
  // MLP 3*4096*14336, two norms of 4096; 32 layers; final norm 4096.
  it('Llama-3.1-8B is exactly 8,030,261,248 parameters', () => {
    const h = 4096;
    const layer = 2 * h * h + 2 * h * 1024 + 3 * h * 14336 + 2 * h;
    const byHand = 2 * 128256 * h + 32 * layer + h;
    const p = parameterCounts(getModel('llama-3.1-8b'));
    expect(byHand).toBe(8_030_261_248);
    expect(p.total).toBe(byHand);
    expect(p.active).toBe(p.total);
    expect(p.perLayerTotal).toBe(layer);
  });

  // Published totals are rounded; the tolerance is one unit of the last published digit.
  const published: [string, number, number, number, number][] = [
    // id, total, tolerance, active, tolerance  (model cards / release posts)
    ['llama-3.1-8b', 8.03e9, 0.01e9, 8.03e9, 0.01e9],
    ['llama-3.1-70b', 70.6e9, 0.1e9, 70.6e9, 0.1e9],
    ['llama-3.1-405b', 405.9e9, 0.1e9, 405.9e9, 0.1e9],
    ['llama-3.2-1b', 1.24e9, 0.01e9, 1.24e9, 0.01e9],
    ['llama-3.2-3b', 3.21e9, 0.01e9, 3.21e9, 0.01e9],
    ['mixtral-8x7b', 46.7e9, 0.1e9, 12.9e9, 0.1e9],
    ['qwen3-30b-a3b', 30.5e9, 0.1e9, 3.3e9, 0.1e9],
    ['qwen3-235b-a22b', 235e9, 1e9, 22e9, 1e9],
  ];
  for (const [id, total, tolT, active, tolA] of published) {
    it(`${id}: total ${total / 1e9}B, active ${active / 1e9}B`, () => {
      const p = parameterCounts(getModel(id));
      expect(Math.abs(p.total - total)).toBeLessThanOrEqual(tolT);
      expect(Math.abs(p.active - active)).toBeLessThanOrEqual(tolA);
    });
  }

  it('MoE: active counts only the routed experts; dense: active equals total', () => {
    const mix = getModel('mixtral-8x7b');
    const p = parameterCounts(mix);
    const expert = 3 * 4096 * 14336;
    expect(p.perLayerTotal - p.perLayerActive).toBe((8 - 2) * expert);
    expect(p.total - p.active).toBe(32 * 6 * expert);
  });

  it('tied embeddings are stored once but the LM head still has vocab x hidden weights', () => {
    const tied = getModel('llama-3.2-1b');
    const untied: ModelSpec = { ...tied, id: 'untied', tiedEmbeddings: false };
    const a = parameterCounts(tied);
    const b = parameterCounts(untied);
    expect(a.lmHead).toBe(128256 * 2048);
    expect(b.total - a.total).toBe(128256 * 2048);
  });

  it('Qwen2 q/k/v bias and Qwen3 q/k norms are counted', () => {
    const q = getModel('qwen2.5-7b');
    const noBias = parameterCounts({ ...q, qkvBias: false });
    expect(parameterCounts(q).perLayerTotal - noBias.perLayerTotal).toBe(28 * 128 + 2 * 4 * 128);
    const q3 = getModel('qwen3-8b');
    expect(parameterCounts(q3).perLayerTotal - parameterCounts({ ...q3, qkNorm: false }).perLayerTotal).toBe(2 * 128);
  });
});

describe('KV bytes per token', () => {
  it('Llama-3.1-8B in bf16 is 131,072 bytes (2 * 32 layers * 8 heads * 128 * 2 bytes)', () => {
    expect(kvBytesPerToken(getModel('llama-3.1-8b'), 2)).toBe(131_072);
  });
  it('scales with the element size and the KV-head count', () => {
    expect(kvBytesPerToken(getModel('llama-3.1-70b'), 1)).toBe(2 * 80 * 8 * 128);
    expect(kvBytesPerToken(getModel('llama-2-7b'), 2)).toBe(2 * 32 * 32 * 128 * 2);
    expect(kvBytesPerToken(getModel('qwen3-30b-a3b'), 2)).toBe(2 * 48 * 4 * 128 * 2);
  });
});

describe('validateModel', () => {
  const base = getModel('llama-3.1-8b');
  it('refuses zero, negative and fractional sizes and heads that do not divide', () => {
    expectUserError(() => validateModel({ ...base, hiddenSize: 0 }), /hiddenSize/);
    expectUserError(() => validateModel({ ...base, numLayers: -1 }), /numLayers/);
    expectUserError(() => validateModel({ ...base, headDim: 64.5 }), /headDim/);
    expectUserError(() => validateModel({ ...base, numKvHeads: 5 }), /multiple of numKvHeads/);
    expectUserError(() => validateModel({ ...base, id: 'Bad Id' }), /kebab-case/);
    const moe = getModel('mixtral-8x7b');
    expectUserError(() => validateModel({ ...moe, moe: { ...moe.moe!, expertsPerToken: 9 } }), /exceeds/);
  });
});

describe('Hugging Face config.json reader', () => {
  it('reads a Llama 3.1 config into the same architecture as the catalog entry', () => {
    const m = readHfConfig(join(FIX, 'Llama-3.1-8B', 'config.json'));
    expect(m.id).toBe('llama-3.1-8b');
    expect(m.family).toBe('llama');
    const cat = getModel('llama-3.1-8b');
    for (const k of ['hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'intermediateSize', 'vocabSize', 'tiedEmbeddings', 'maxContextTokens'] as const) {
      expect(m[k]).toBe(cat[k]);
    }
    expect(parameterCounts(m).total).toBe(8_030_261_248);
  });

  it('maps mistral (with its sliding window), qwen2 (qkv bias), qwen3 (qk norm)', () => {
    const mistral = readHfConfig(join(FIX, 'Mistral-7B-v0.1', 'config.json'));
    expect(mistral.family).toBe('mistral');
    expect(mistral.slidingWindowTokens).toBe(4096);
    const qwen2 = readHfConfig(join(FIX, 'Qwen2.5-7B-Instruct', 'config.json'));
    expect(qwen2.qkvBias).toBe(true);
    expect(qwen2.slidingWindowTokens).toBeUndefined(); // use_sliding_window is false
    expect(parameterCounts(qwen2).total).toBe(parameterCounts(getModel('qwen2.5-7b')).total);
    const qwen3 = readHfConfig(join(FIX, 'Qwen3-8B', 'config.json'));
    expect(qwen3.qkNorm).toBe(true);
    expect(qwen3.qkvBias).toBe(false);
    expect(parameterCounts(qwen3).total).toBe(parameterCounts(getModel('qwen3-8b')).total);
  });

  it('maps the two MoE families to total and active counts matching the catalog', () => {
    const mix = readHfConfig(join(FIX, 'Mixtral-8x7B-v0.1', 'config.json'));
    expect(mix.moe).toEqual({ numExperts: 8, expertsPerToken: 2, expertIntermediateSize: 14336, sharedExpertIntermediateSize: 0 });
    expect(parameterCounts(mix)).toEqual(parameterCounts(getModel('mixtral-8x7b')));
    const q = readHfConfig(join(FIX, 'Qwen3-30B-A3B', 'config.json'));
    expect(q.headDim).toBe(128); // explicit head_dim, not hidden/heads = 64
    expect(parameterCounts(q)).toEqual(parameterCounts(getModel('qwen3-30b-a3b')));
  });

  it('refuses other architectures with the list of supported ones', () => {
    const msg = expectUserError(() => readHfConfig(join(FIX, 'gpt2.json')), /gpt2\.json: architecture 'gpt2' is not supported/);
    for (const t of ['llama', 'mistral', 'qwen2', 'qwen3', 'mixtral', 'qwen3_moe']) expect(msg).toContain(t);
  });

  it('names the file and the field on bad input', () => {
    expectUserError(() => readHfConfig(join(FIX, 'malformed.json')), /malformed\.json: not valid JSON/);
    expectUserError(() => readHfConfig(join(FIX, 'missing-field.json')), /missing-field\.json: field 'num_hidden_layers' is missing/);
    expectUserError(() => readHfConfig(join(FIX, 'negative-size.json')), /negative-size\.json: field 'hidden_size' is invalid \(-8\)/);
    expectUserError(() => readHfConfig(join(FIX, 'bad-kv-heads.json')), /bad-kv-heads\.json: field 'num_key_value_heads'/);
    expectUserError(() => readHfConfig(join(FIX, 'nope.json')), /nope\.json: no such file/);
  });

  it('refuses a JSON value that is not an object and Qwen3-MoE with dense layers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-models-'));
    const arr = join(dir, 'array.json');
    writeFileSync(arr, '[1, 2]');
    expectUserError(() => readHfConfig(arr), /expected a JSON object/);
    const mixed = join(dir, 'mixed.json');
    const raw = JSON.parse(readFileSync(join(FIX, 'Qwen3-30B-A3B', 'config.json'), 'utf8'));
    raw.mlp_only_layers = [0, 1];
    writeFileSync(mixed, JSON.stringify(raw));
    expectUserError(() => readHfConfig(mixed), /mixed dense and MoE layers/);
  });
});

describe('resolveModel', () => {
  it('reads paths and snapshot folders as HF configs, anything else as an id', () => {
    expect(resolveModel('qwen2.5-72b').id).toBe('qwen2.5-72b');
    expect(resolveModel(join(FIX, 'Qwen3-8B', 'config.json')).family).toBe('qwen3');
    expect(resolveModel(join(FIX, 'Mixtral-8x7B-v0.1')).moe?.numExperts).toBe(8);
    expectUserError(() => resolveModel('missing/config.json'), /no such file/);
    expectUserError(() => resolveModel('mistral-8b'), /unknown model/);
  });
});

describe('summarizeModel', () => {
  it('reports total and active parameters and 16-bit KV bytes per token', () => {
    const s = summarizeModel(getModel('mixtral-8x7b'));
    expect(s.totalParams).toBe(46_702_792_704);
    expect(s.activeParams).toBeLessThan(s.totalParams);
    expect(s.kvBytesPerToken16).toBe(131_072);
    expect(s.experts).toBe('2 of 8');
    expect(summarizeModel(getModel('llama-2-7b')).experts).toBeNull();
  });
});
