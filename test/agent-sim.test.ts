import { describe, expect, it } from 'vitest';
import { getModel } from '../src/models/index.js';
import { buildAgentTarget, chooseTp } from '../src/agents/setup.js';
import { simulateSession, StepCostCache } from '../src/agents/simulate.js';
import { runMonteCarlo } from '../src/agents/montecarlo.js';
import { generateSession } from '../src/agents/generate.js';
import { Rng } from '../src/agents/rng.js';
import { BENCHMARKS, WORKFLOWS, WORKFLOW_PRESET, BENCHMARK_PRESETS, successProbability } from '../src/agents/presets.js';
import { resolveTarget } from '../src/perf/target.js';
import type { Session } from '../src/agents/trace.js';

const t8 = buildAgentTarget({ model: getModel('llama-3.1-8b'), gpu: 'a100-sxm4-40gb' });
const mc = { queriesPerDay: 71.4e6, pue: 1, prefixCaching: true };

describe('workflow generators', () => {
  it('every preset number carries a source', () => {
    const walk = (o: unknown): void => {
      if (o && typeof o === 'object') {
        if ('value' in o && 'source' in o) expect(String((o as { source: string }).source).length).toBeGreaterThan(5);
        else for (const v of Object.values(o)) walk(v);
      }
    };
    walk(WORKFLOW_PRESET);
    walk(BENCHMARK_PRESETS);
  });

  it('seeded runs are reproducible and seeds differ', () => {
    const gen = (seed: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: 5 }, (_, i) => generateSession(rng, { workflow: 'lats', benchmark: 'hotpotqa', accuracy: 0.8 }, `e${i}`));
    };
    expect(gen(42)).toEqual(gen(42));
    expect(gen(42)).not.toEqual(gen(43));
    const run = (seed: number) =>
      runMonteCarlo(t8.sim, { generate: { workflow: 'reflexion', benchmark: 'webshop', accuracy: 0.5 } }, { ...mc, episodes: 30, seed }).summary;
    expect(run(5)).toEqual(run(5));
    expect(run(5).latencyS.mean).not.toBe(run(6).latencyS.mean);
  });

  it('sharegpt has no tools; tool workflows wait on the benchmark tools', () => {
    const rng = new Rng(1);
    for (const b of BENCHMARKS) {
      const s = generateSession(rng, { workflow: 'sharegpt', benchmark: b, accuracy: 0 }, 'x');
      expect(s.steps.every((st) => st.type === 'llm')).toBe(true);
      expect(s.steps).toHaveLength(1);
    }
    const react = runMonteCarlo(t8.sim, { generate: { workflow: 'react', benchmark: 'hotpotqa', accuracy: 0 } }, { ...mc, episodes: 50, seed: 1 }).summary;
    const webshop = runMonteCarlo(t8.sim, { generate: { workflow: 'react', benchmark: 'webshop', accuracy: 0 } }, { ...mc, episodes: 50, seed: 1 }).summary;
    expect(react.toolLatencyShare).toBeGreaterThan(0.2); // 1.2 s Wikipedia calls
    expect(webshop.toolLatencyShare).toBeLessThan(0.05); // 20 ms local pages
    expect(react.llmCalls.mean).toBeGreaterThan(1);
  });

  it('higher accuracy stops Reflexion and LATS sooner (stopping follows the study accuracy)', () => {
    expect(successProbability(0.38, 4)).toBeCloseTo(1 - Math.pow(0.62, 0.25), 12);
    for (const workflow of ['reflexion', 'lats'] as const) {
      const calls = (accuracy: number) =>
        runMonteCarlo(t8.sim, { generate: { workflow, benchmark: 'hotpotqa', accuracy } }, { ...mc, episodes: 60, seed: 2 }).summary.llmCalls.mean;
      expect(calls(0.9)).toBeLessThan(calls(0.3));
    }
  });
});

describe('prefix caching', () => {
  it('never increases prefill tokens, prefill time or KV memory, for any workflow and benchmark', () => {
    const cache = new StepCostCache(t8.sim);
    const rng = new Rng(11);
    for (const workflow of WORKFLOWS) {
      for (const benchmark of BENCHMARKS) {
        const s = generateSession(rng, { workflow, benchmark, accuracy: 0.5 }, 'x');
        const on = simulateSession(s, cache, { prefixCaching: true });
        const off = simulateSession(s, cache, { prefixCaching: false });
        expect(on.prefillTokens).toBeLessThanOrEqual(off.prefillTokens);
        expect(on.prefillS).toBeLessThanOrEqual(off.prefillS + 1e-12);
        expect(on.kvPeakBytes).toBeLessThanOrEqual(off.kvPeakBytes);
        expect(on.outputTokens).toBe(off.outputTokens);
      }
    }
  });

  it('LATS children share their prefix: 5 parallel calls hold one prompt with caching on', () => {
    const s: Session = { id: 'x', steps: [{ type: 'llm', inputTokens: 2000, cachedPrefixTokens: 1800, outputTokens: 100, parallel: 5 }] };
    const cache = new StepCostCache(t8.sim);
    const on = simulateSession(s, cache, { prefixCaching: true });
    const off = simulateSession(s, cache, { prefixCaching: false });
    const kvTok = t8.sim.kvBytesPerToken;
    // 1792 cached tokens (whole 16-token blocks) shared, 208 fresh + 100 generated per child
    expect(on.kvPeakBytes).toBe((1792 + 5 * (208 + 100)) * kvTok);
    expect(off.kvPeakBytes).toBe(5 * 2100 * kvTok);
    expect(on.prefillTokens).toBe(5 * 208);
    expect(on.llmCalls).toBe(5);
  });
});

describe('simulator', () => {
  it('costs a hand-written trace: prefill + decode via stepCost, tools at idle power, overlap hides tool time', () => {
    const cache = new StepCostCache(t8.sim);
    const one: Session = { id: 'a', steps: [{ type: 'llm', inputTokens: 1000, outputTokens: 101 }] };
    const r = simulateSession(one, cache, { prefixCaching: true, decodeChunk: 1 });
    const pre = t8.sim.stepCost({ prefill: [{ tokens: 1008, pastTokens: 0 }], decode: [] }).seconds;
    expect(r.prefillS).toBeCloseTo(pre, 9);
    const d = t8.sim.stepCost({ prefill: [], decode: [{ pastTokens: 1050 }] }).seconds;
    expect(r.decodeS).toBeCloseTo(100 * d, 3);
    const withTool = simulateSession({ id: 'b', steps: [...one.steps, { type: 'tool', seconds: 2 }] }, cache, { prefixCaching: true, decodeChunk: 1 });
    expect(withTool.latencyS).toBeCloseTo(r.latencyS + 2, 9);
    expect(withTool.gpuIdleS).toBeCloseTo(2, 12);
    expect(withTool.energyJ - r.energyJ).toBeCloseTo(2 * t8.sim.power.idleW.value, 6);
    // a tool that started with the decode and is shorter than it costs no wait at all
    const overlapped = simulateSession({ id: 'c', steps: [...one.steps, { type: 'tool', seconds: 0.1, overlap: true }] }, cache, { prefixCaching: true, decodeChunk: 1 });
    expect(overlapped.latencyS).toBeCloseTo(r.latencyS, 9);
    expect(overlapped.toolS).toBe(0.1);
  });

  it('decode chunking changes results by well under 1%', () => {
    const rng = new Rng(9);
    const s = generateSession(rng, { workflow: 'react', benchmark: 'hotpotqa', accuracy: 0 }, 'x');
    const cache = new StepCostCache(t8.sim);
    const exact = simulateSession(s, cache, { prefixCaching: true, decodeChunk: 1 });
    const fast = simulateSession(s, cache, { prefixCaching: true, decodeChunk: 16 });
    expect(Math.abs(fast.latencyS / exact.latencyS - 1)).toBeLessThan(0.01);
    expect(Math.abs(fast.energyJ / exact.energyJ - 1)).toBeLessThan(0.01);
  });

  it('chooses the smallest tensor-parallel degree that fits (70B on A100-40GB needs 8)', () => {
    const a100 = resolveTarget({ gpu: 'a100-sxm4-40gb' });
    expect(chooseTp(getModel('llama-3.1-8b'), a100, 'vllm', 'bf16', 'bf16', 8192)).toBe(1);
    expect(chooseTp(getModel('llama-3.1-70b'), a100, 'vllm', 'bf16', 'bf16', 8192)).toBe(8);
    expect(t8.tp).toBe(1);
    expect(t8.tpSource).toBe('smallest that fits');
  });

  it('8B and 70B episodes of a workflow are the same sessions (presets are not per model)', () => {
    const t70 = buildAgentTarget({ model: getModel('llama-3.1-70b'), gpu: 'a100-sxm4-40gb' });
    const opts = { ...mc, episodes: 20, seed: 4 };
    const gen = { generate: { workflow: 'react' as const, benchmark: 'hotpotqa' as const, accuracy: 0 } };
    const a = runMonteCarlo(t8.sim, gen, opts).summary;
    const b = runMonteCarlo(t70.sim, gen, opts).summary;
    expect(a.llmCalls).toEqual(b.llmCalls);
    expect(a.inputTokens).toEqual(b.inputTokens);
    expect(b.latencyS.mean).toBeGreaterThan(a.latencyS.mean);
    expect(b.energyWh.mean).toBeGreaterThan(a.energyWh.mean);
  });
});

describe('parameter provenance', () => {
  it('classifies every preset parameter and names the fitted one', async () => {
    const { listParameters } = await import('../src/agents/presets.js');
    const all = listParameters();
    expect(all.length).toBeGreaterThan(40);
    for (const p of all) expect(['study', 'other source', 'assumed', 'fitted']).toContain(p.origin);
    const fitted = all.filter((p) => p.origin === 'fitted').map((p) => p.name);
    expect(fitted).toEqual(['reflexion.maxTrials']);
    expect(all.find((p) => p.name === 'benchmark.hotpotqa.toolLatencyS')?.origin).toBe('study');
  });
});

describe('chunked prefill', () => {
  it('splits a prompt past the engine step budget into steps that attend to the earlier chunks', () => {
    const cache = new StepCostCache(t8.sim);
    expect(t8.sim.maxPrefillTokensPerStep).toBe(8192);
    const r = simulateSession({ id: 'long', steps: [{ type: 'llm', inputTokens: 20000, outputTokens: 1 }] }, cache, { prefixCaching: true, record: true });
    const prefills = (r.segments ?? []).filter((s) => s.kind === 'prefill');
    expect(prefills).toHaveLength(3); // 8192 + 8192 + 3616
    const c = (tokens: number, past: number) => t8.sim.stepCost({ prefill: [{ tokens, pastTokens: past }], decode: [] }).seconds;
    expect(r.prefillS).toBeCloseTo(c(8192, 0) + c(8192, 8192) + c(3616, 16384), 9);
    expect(r.prefillS).toBeGreaterThan(c(20000, 0) * 0.9);
  });
});
