import { describe, expect, it } from 'vitest';
import { getModel, listModels, parameterCounts, kvBytesPerToken } from '../src/models/index.js';
import { resolveTarget, type PerfTarget } from '../src/perf/target.js';
import { createCostContext, stepCost } from '../src/perf/cost.js';
import {
  expectedExpertsTouched,
  flopsPerTokenShort,
  kvBytesPerTokenPerGpu,
  kvBytesPerTokenTotal,
  parameterBreakdown,
  weightsBytesPerGpu,
} from '../src/perf/graph.js';
import { checkFits, kvBytesForBatch, memoryPlan } from '../src/perf/memory.js';
import { getEngine } from '../src/perf/engines.js';
import { predict, sumMaxAffine } from '../src/perf/predict.js';
import { UserError } from '../src/errors.js';
import type { Workload } from '../src/perf/types.js';

const h100 = resolveTarget({ gpu: 'h100-sxm' });
const l8b = getModel('llama-3.1-8b');
const w = (over: Partial<Workload> = {}): Workload => ({
  batch: 1,
  inputTokens: 1024,
  outputTokens: 128,
  weightDtype: 'bf16',
  kvDtype: 'bf16',
  ...over,
});

describe('golden counts (hand-computed)', () => {
  it('Llama-3.1-8B parameters, FLOPs per token and KV bytes per token', () => {
    // per layer: qkv 4096*(4096+2*1024) + o 4096*4096 + mlp 3*4096*14336 + 2 norms of 4096
    const perLayer = 4096 * 6144 + 4096 * 4096 + 3 * 4096 * 14336 + 2 * 4096;
    expect(perLayer).toBe(218_112_000);
    const p = parameterBreakdown(l8b);
    expect(p.total).toBe(32 * perLayer + 2 * 128256 * 4096 + 4096); // 8,030,261,248
    // a token multiplies by every layer weight and the LM head, not the embedding table
    expect(flopsPerTokenShort(l8b)).toBe(2 * (32 * perLayer + 128256 * 4096 + 4096));
    expect(kvBytesPerTokenTotal(l8b, 'bf16')).toBe(131_072);
    expect(kvBytesPerTokenTotal(l8b, 'fp8')).toBe(65_536);
  });

  it('a decode step at short context costs ~2 x active params FLOPs', () => {
    const ctx = createCostContext({ model: l8b, target: h100, engine: 'vllm' });
    const s = stepCost(ctx, { prefill: [], decode: [{ pastTokens: 0 }] });
    const expected = flopsPerTokenShort(l8b);
    expect(s.flops / expected).toBeGreaterThan(0.999);
    expect(s.flops / expected).toBeLessThan(1.01);
    // bytes: every weight read once (16-bit) except the embedding table, of which one row is read
    const p = parameterBreakdown(l8b);
    expect(s.bytes / ((p.total - p.embedding) * 2)).toBeGreaterThan(0.999);
    expect(s.bytes / ((p.total - p.embedding) * 2)).toBeLessThan(1.01);
  });

  it('weights per GPU: TP splits layers and vocabulary, int4 and fp8 shrink the layers', () => {
    const full = weightsBytesPerGpu(l8b, 'bf16', 1);
    expect(full).toBe(parameterBreakdown(l8b).total * 2);
    const half = weightsBytesPerGpu(l8b, 'bf16', 2);
    // norms are replicated: a little more than half
    expect(half).toBeGreaterThan(full / 2);
    expect(half).toBeLessThan(full / 2 + 1e6);
    // fp8 layers, 16-bit embedding + LM head: 6.98e9 + 2*525e6*2 + norms
    const fp8 = weightsBytesPerGpu(l8b, 'fp8', 1);
    expect(fp8).toBeCloseTo(32 * (218_112_000 - 8192) + 32 * 8192 * 2 + 2 * 128256 * 4096 * 2 + 4096 * 2, -1);
    expect(weightsBytesPerGpu(l8b, 'int4', 1)).toBeLessThan(fp8);
  });

  it('MoE: total parameters for memory, active for FLOPs; experts touched grows to all', () => {
    const mix = getModel('mixtral-8x7b');
    const p = parameterBreakdown(mix);
    expect(p.total / 1e9).toBeGreaterThan(46);
    expect(p.total / 1e9).toBeLessThan(47.5);
    expect(p.active / 1e9).toBeGreaterThan(12.5);
    expect(p.active / 1e9).toBeLessThan(13.5);
    expect(expectedExpertsTouched(8, 2, 1)).toBeCloseTo(2, 10);
    expect(expectedExpertsTouched(8, 2, 1000)).toBeCloseTo(8, 6);
    expect(expectedExpertsTouched(128, 8, 4)).toBeLessThan(32);
    // decode at batch 1 reads ~active weights, batch 256 reads all experts
    const ctx = createCostContext({ model: mix, target: resolveTarget({ gpu: 'h100-sxm' }), engine: 'vllm', tp: 2 });
    const one = stepCost(ctx, { prefill: [], decode: [{ pastTokens: 0 }] });
    const many = stepCost(ctx, { prefill: [], decode: Array.from({ length: 256 }, () => ({ pastTokens: 0 })) });
    expect(one.bytes).toBeLessThan((p.active * 2) / 2 * 1.05);
    expect(many.bytes).toBeGreaterThan((p.total * 2) / 2 * 0.98);
  });

  it('agrees with the model catalog on every built-in model', () => {
    for (const m of listModels()) {
      const mine = parameterBreakdown(m);
      const theirs = parameterCounts(m);
      // the catalog leaves out a shared expert's 1-wide gate; none of the built-ins has one
      if (!m.moe || m.moe.sharedExpertIntermediateSize === 0) expect(mine.total, m.id).toBe(theirs.total);
      // FLOP-bearing parameters: every layer's active weights, the LM head (tied or not), the final norm
      expect(mine.active, m.id).toBe(m.numLayers * theirs.perLayerActive + theirs.lmHead + m.hiddenSize);
      expect(kvBytesPerTokenTotal(m, 'bf16'), m.id).toBe(kvBytesPerToken(m, 2));
    }
  });

  it('KV per GPU with TP and replication of KV heads', () => {
    expect(kvBytesPerTokenPerGpu(l8b, 'bf16', 2)).toBe(65_536);
    // 8 KV heads over tp 16 would replicate: never below one head per GPU
    const l405 = getModel('llama-3.1-405b');
    expect(kvBytesPerTokenPerGpu(l405, 'bf16', 8)).toBe((2 * 126 * 1 * 128 * 2));
  });
});

describe('sumMaxAffine', () => {
  it('equals the brute-force sum for random lines', () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 300; i++) {
      const cA = rnd() * 1e-6, cB = rnd() * 1e-4, mA = rnd() * 1e-6, mB = rnd() * 1e-4, floor = rnd() * 3e-4;
      const x0 = Math.floor(rnd() * 500) + 1;
      const x1 = x0 + Math.floor(rnd() * 700);
      let brute = 0;
      for (let x = x0; x <= x1; x++) brute += Math.max(floor, cA * x + cB, mA * x + mB);
      expect(sumMaxAffine(cA, cB, mA, mB, floor, x0, x1)).toBeCloseTo(brute, 12);
    }
  });
});

describe('stepCost', () => {
  const ctx = createCostContext({ model: l8b, target: h100, engine: 'vllm' });
  it('parts add up to the step time and the breakdown lists the operators', () => {
    const s = stepCost(ctx, { prefill: [{ tokens: 512, pastTokens: 0 }], decode: [{ pastTokens: 100 }, { pastTokens: 2000 }] }, { breakdown: true });
    expect(s.computeS + s.memoryS + s.overheadS + s.communicationS).toBeCloseTo(s.seconds, 12);
    expect(s.ops.reduce((a, o) => a + o.seconds, 0)).toBeCloseTo(s.seconds, 12);
    const names = s.ops.map((o) => o.op);
    for (const n of ['qkv_proj', 'attention_prefill', 'attention_decode', 'gate_up_proj', 'lm_head', 'engine_step']) expect(names).toContain(n);
    expect(s.ops.find((o) => o.op === 'qkv_proj')!.bound).toBe('compute');
  });
  it('decode is memory-bound at batch 1 and slower with more context', () => {
    const a = stepCost(ctx, { prefill: [], decode: [{ pastTokens: 100 }] }, { breakdown: true });
    expect(a.ops.find((o) => o.op === 'down_proj')!.bound).toBe('memory');
    const b = stepCost(ctx, { prefill: [], decode: [{ pastTokens: 100_000 }] });
    expect(b.seconds).toBeGreaterThan(a.seconds);
  });
  it('the final norm moves what one layer\'s fused add + norm moves', () => {
    const s = stepCost(ctx, { prefill: [{ tokens: 64, pastTokens: 0 }], decode: [] }, { breakdown: true });
    const op = (name: string) => s.ops.find((o) => o.op === name)!;
    expect(op('final_norm').bytes * l8b.numLayers).toBeCloseTo(op('input_norm').bytes, 6);
    expect(op('final_norm').flops * l8b.numLayers).toBeCloseTo(op('input_norm').flops, 6);
  });
  it('rejects malformed steps', () => {
    expect(() => stepCost(ctx, { prefill: [{ tokens: 0, pastTokens: 0 }], decode: [] })).toThrow(UserError);
    expect(() => stepCost(ctx, { prefill: [], decode: [{ pastTokens: -1 }] })).toThrow(UserError);
  });
});

describe('predict properties', () => {
  const withBandwidth = (t: PerfTarget, f: number): PerfTarget => ({ ...t, memoryBytesPerS: t.memoryBytesPerS * f });
  it('more bandwidth never slows decode', () => {
    for (const model of ['llama-3.1-8b', 'mixtral-8x7b', 'qwen2.5-7b']) {
      for (const batch of [1, 16, 128]) {
        let prev = Infinity;
        for (const f of [0.5, 1, 1.5, 2, 4]) {
          const r = predict({ model: getModel(model), target: withBandwidth(h100, f), engine: 'vllm', tp: model === 'mixtral-8x7b' ? 2 : 1, workload: w({ batch }) });
          expect(r.tpotS).toBeLessThanOrEqual(prev);
          prev = r.tpotS;
        }
      }
    }
  });
  it('decode time per token grows with context', () => {
    let prev = 0;
    for (const input of [128, 1024, 8192, 32768, 100_000]) {
      const r = predict({ model: l8b, target: h100, engine: 'vllm', workload: w({ inputTokens: input, batch: 4 }) });
      expect(r.tpotS).toBeGreaterThan(prev);
      prev = r.tpotS;
    }
  });
  it('tensor parallelism splits weights per GPU and speeds up 70B decode', () => {
    const l70 = getModel('llama-3.1-70b');
    const r2 = predict({ model: l70, target: h100, engine: 'vllm', tp: 4, workload: w() });
    const r4 = predict({ model: l70, target: h100, engine: 'vllm', tp: 8, workload: w() });
    expect(r4.weightsBytesPerGpu / r2.weightsBytesPerGpu).toBeCloseTo(0.5, 2);
    expect(r4.tpotS).toBeLessThan(r2.tpotS);
    expect(r4.breakdown.some((b) => b.bound === 'communication')).toBe(true);
  });
  it('throughput mode maximises tokens/s and never exceeds memory', () => {
    for (const [model, tp, input, output] of [
      ['llama-3.1-8b', 1, 128, 128],
      ['llama-3.1-8b', 1, 20000, 2000],
      ['llama-3.1-70b', 4, 1000, 1000],
      ['qwen3-30b-a3b', 1, 2048, 512],
    ] as const) {
      const spec = getModel(model);
      const engine = getEngine('trtllm');
      const r = predict({ model: spec, target: h100, engine, tp, workload: w({ inputTokens: input, outputTokens: output, weightDtype: 'fp8', kvDtype: 'fp8' }), mode: 'throughput' });
      const plan = memoryPlan(spec, h100, engine, tp, 'fp8', 'fp8');
      expect(r.fits).toBe(true);
      expect(plan.weightsBytesPerGpu + plan.reserveBytesPerGpu + kvBytesForBatch(plan, r.batch, input + output)).toBeLessThanOrEqual(plan.usableBytes);
      const one = predict({ model: spec, target: h100, engine, tp, workload: w({ inputTokens: input, outputTokens: output, weightDtype: 'fp8', kvDtype: 'fp8' }) });
      expect(r.outputTokensPerS).toBeGreaterThanOrEqual(one.outputTokensPerS);
    }
  });
  it('the ideal engine is never slower than a real one', () => {
    for (const engine of ['vllm', 'vllm-legacy', 'trtllm'] as const) {
      const real = predict({ model: l8b, target: h100, engine, workload: w() });
      const ideal = predict({ model: l8b, target: h100, engine: 'ideal', workload: w() });
      expect(ideal.e2eS).toBeLessThan(real.e2eS);
    }
  });
  it('latency-mode JSON fields and breakdown sums', () => {
    const r = predict({ model: l8b, target: h100, engine: 'vllm', workload: w() });
    expect(r.kvBytesPerToken).toBe(131_072);
    expect(r.e2eS).toBeCloseTo(r.ttftS + r.tpotS * 127, 9);
    const pre = r.breakdown.filter((b) => b.phase === 'prefill').reduce((a, b) => a + b.seconds, 0);
    const dec = r.breakdown.filter((b) => b.phase === 'decode').reduce((a, b) => a + b.seconds, 0);
    expect(pre).toBeCloseTo(r.ttftS, 9);
    expect(dec / r.tpotS).toBeGreaterThan(0.999);
    expect(dec / r.tpotS).toBeLessThan(1.001);
  });
});

describe('bad input gives one-line UserErrors', () => {
  const oneLine = (f: () => unknown, pattern: RegExp) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(pattern);
    expect((err as Error).message).not.toMatch(/\n/);
  };
  it('unknown ids, sizes, tp', () => {
    oneLine(() => getEngine('sglang'), /unknown engine 'sglang'/);
    oneLine(() => resolveTarget({ gpu: 'h900' }), /h900/);
    oneLine(() => predict({ model: l8b, target: h100, engine: 'vllm', workload: w({ batch: 0 }) }), /batch/);
    oneLine(() => predict({ model: l8b, target: h100, engine: 'vllm', workload: w({ inputTokens: -5 }) }), /input/);
    oneLine(() => predict({ model: l8b, target: h100, engine: 'vllm', tp: 3, workload: w() }), /tp 3/);
    oneLine(() => predict({ model: l8b, target: { ...h100, interconnect: null }, engine: 'vllm', tp: 2, workload: w() }), /no GPU interconnect/);
    oneLine(() => predict({ model: l8b, target: h100, engine: 'vllm', workload: w({ weightDtype: 'fp4' as never }) }), /dtype/);
  });
  it('a model that does not fit names the smallest tp that would', () => {
    const l405 = getModel('llama-3.1-405b');
    oneLine(() => predict({ model: l405, target: h100, engine: 'vllm', workload: w({ weightDtype: 'fp8', kvDtype: 'fp8' }) }), /use --tp 8/);
    oneLine(() => checkFits(getModel('llama-3.1-70b'), h100, getEngine('vllm'), 1, 'bf16', 'bf16', 2048), /use --tp 4 or more/);
    oneLine(() => predict({ model: l405, target: h100, engine: 'vllm', tp: 8, workload: w() }), /does not fit even at tp 8/);
  });
});
