import { describe, expect, it } from 'vitest';
import { resolveModel } from '../src/models/index.js';
import {
  BlockPool,
  buildArrivals,
  buildInstance,
  kneeQps,
  parseServeTrace,
  parseSweep,
  serveAt,
  servePoint,
  serveUnloaded,
  sharedPrefixTokens,
  simulateServing,
  type ServeConfig,
  type ServeInstance,
  type ServeRun,
  type SessionSource,
} from '../src/serving/index.js';
import type { Session } from '../src/agents/trace.js';
import { stepCost } from '../src/perf/cost.js';

const model = resolveModel('llama-3.1-8b');
const a100: ServeInstance = buildInstance({ model, gpu: 'a100-sxm4-40gb' });
const react = (seed: number): SessionSource => ({
  kind: 'generate',
  seed,
  options: { workflow: 'react', benchmark: 'hotpotqa', accuracy: 0.5 },
});
const lats: SessionSource = { kind: 'generate', seed: 3, options: { workflow: 'lats', benchmark: 'hotpotqa', accuracy: 0.8 } };
const on = { prefixCaching: true, chunkedPrefill: true, record: true };
const off = { prefixCaching: false, chunkedPrefill: true, record: true };

function run(instance: ServeInstance, source: SessionSource, qps: number, sessions: number, options = on): ServeRun {
  return simulateServing(instance, buildArrivals(source, qps, { sessions }), qps, options);
}

/** Checks every conservation law of a run; returns the run for more checks. */
function checkInvariants(r: ServeRun, instance: ServeInstance, arrivals: Session[]): ServeRun {
  // every session ends, every LLM call (each parallel child) finishes exactly once
  expect(r.completedSessions).toBe(arrivals.length);
  const expected = new Map<string, number>();
  arrivals.forEach((s, i) => {
    let call = 0;
    for (const st of s.steps) {
      if (st.type !== 'llm') continue;
      for (let c = 0; c < (st.parallel ?? 1); c++) expected.set(`${i}/${call}/${c}`, st.outputTokens);
      call++;
    }
  });
  const seen = new Set<string>();
  for (const q of r.requests!) {
    const key = `${q.session}/${q.call}/${q.child}`;
    expect(seen.has(key), `request ${key} finished twice`).toBe(false);
    seen.add(key);
    expect(q.generated).toBe(expected.get(key));
    // every prompt token prefilled once or served from cache; every output token but the last computed once
    expect(q.promptPrefilled + q.promptCached).toBe(q.promptTokens);
    expect(q.outputComputed + q.outputCached).toBe(q.outputTokens - 1);
    expect(q.finishS).toBeGreaterThanOrEqual(q.firstTokenS);
    expect(q.firstTokenS).toBeGreaterThan(q.enqueueS);
  }
  expect(seen.size).toBe(expected.size);
  expect(r.llmCalls).toBe(expected.size);
  // the tokens the steps costed are exactly those the requests account for
  const t = r.tokens;
  expect(t.stepTokens).toBe(t.prefilled + t.decoded + t.recomputed);
  expect(t.prefilled + t.cached).toBe(t.prompt);
  // KV blocks never exceed the pool
  expect(r.maxUsedBlocks).toBeLessThanOrEqual(instance.numBlocks);
  for (const s of r.stepRecords!) expect(s.usedBlocks).toBeLessThanOrEqual(instance.numBlocks);
  // energy is the integral of power over contiguous segments covering [0, makespan]
  let tS = 0;
  let j = 0;
  for (const s of r.stepRecords!) {
    expect(s.startS).toBeCloseTo(tS, 9);
    tS = s.startS + s.seconds;
    j += s.powerW * s.seconds * instance.tp;
  }
  expect(tS).toBeCloseTo(r.makespanS, 9);
  expect(r.energyJ).toBeCloseTo(j, 6);
  // and it is divided among the sessions without loss
  expect(r.sessionEnergyJ!.reduce((a, b) => a + b, 0)).toBeCloseTo(r.energyJ, 6);
  expect(r.gpuUtilisation).toBeGreaterThan(0);
  expect(r.gpuUtilisation).toBeLessThanOrEqual(1 + 1e-12);
  return r;
}

const sessionsOf = (source: SessionSource, qps: number, n: number) => buildArrivals(source, qps, { sessions: n }).map((a) => a.session);

describe('serving simulator invariants', () => {
  it('ReAct under load: nothing lost, tokens and energy conserved, pool respected', () => {
    const r = checkInvariants(run(a100, react(1), 2, 80), a100, sessionsOf(react(1), 2, 80));
    expect(r.prefixHitRate).toBeGreaterThan(0.5); // ReAct re-sends its growing context
    expect(r.tokens.recomputed).toBe(0);
  });

  it('LATS parallel children share their prompt blocks and still conserve tokens', () => {
    const r = checkInvariants(run(a100, lats, 0.5, 4), a100, sessionsOf(lats, 0.5, 4));
    expect(r.llmCalls).toBeGreaterThan(4 * 5);
  });

  it('a small KV pool forces preemption (recompute) and never goes over the pool', () => {
    const small: ServeInstance = { ...a100, numBlocks: 700 };
    for (const options of [on, off]) {
      const r = checkInvariants(run(small, react(2), 8, 60, options), small, sessionsOf(react(2), 8, 60));
      expect(r.preemptions).toBeGreaterThan(0);
      expect(r.tokens.recomputed).toBeGreaterThan(0);
      expect(r.maxUsedBlocks).toBeLessThanOrEqual(700);
    }
  });

  it('the same seed gives the same run, another seed another', () => {
    const a = servePoint(run(a100, react(7), 3, 40));
    const b = servePoint(run(a100, react(7), 3, 40));
    const c = servePoint(run(a100, react(8), 3, 40));
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
  });

  it('prefix caching on never prefills more than off, and saves KV memory and latency', () => {
    for (const [source, qps, n] of [[react(4), 1, 60], [lats, 0.3, 4]] as const) {
      const withCache = run(a100, source, qps, n, on);
      const without = run(a100, source, qps, n, off);
      expect(without.tokens.cached).toBe(0);
      expect(withCache.tokens.prefilled).toBeLessThan(without.tokens.prefilled);
      expect(withCache.tokens.prefilled + withCache.tokens.recomputed).toBeLessThanOrEqual(without.tokens.prefilled + without.tokens.recomputed);
      expect(withCache.ttftS.p50).toBeLessThan(without.ttftS.p50);
    }
  });

  it('steps last what src/perf stepCost gives for their mix', () => {
    const one = parseServeTrace(JSON.stringify({ arrivalS: 1, steps: [{ type: 'llm', inputTokens: 300, outputTokens: 3 }] }));
    const r = simulateServing(a100, buildArrivals(one, 0, { sessions: 1 }), 0, on);
    const busy = r.stepRecords!.filter((s) => s.tokens > 0);
    expect(r.stepRecords![0]).toMatchObject({ startS: 0, seconds: 1, tokens: 0 }); // idle until the arrival
    expect(busy.map((s) => s.tokens)).toEqual([300, 1, 1]);
    expect(busy[0].seconds).toBeCloseTo(stepCost(a100.ctx, { prefill: [{ tokens: 300, pastTokens: 0 }], decode: [] }).seconds, 12);
    expect(busy[1].seconds).toBeCloseTo(stepCost(a100.ctx, { prefill: [], decode: [{ pastTokens: 300 }] }).seconds, 12);
    expect(busy[2].seconds).toBeCloseTo(stepCost(a100.ctx, { prefill: [], decode: [{ pastTokens: 301 }] }).seconds, 12);
    expect(r.latencyS.p50).toBeCloseTo(busy[0].seconds + busy[1].seconds + busy[2].seconds, 12);
    expect(r.ttftS.p50).toBeCloseTo(busy[0].seconds, 12);
  });

  it('counts cache hits in whole computed blocks of the previous call', () => {
    // call 1 computes 100 + 20 - 1 = 119 tokens: 7 full blocks; call 2 declares 120 cached tokens
    const trace = parseServeTrace(
      JSON.stringify({
        id: 's',
        steps: [
          { type: 'llm', inputTokens: 100, outputTokens: 20 },
          { type: 'tool', seconds: 1 },
          { type: 'llm', inputTokens: 200, cachedPrefixTokens: 120, outputTokens: 10 },
        ],
      }),
    );
    const r = simulateServing(a100, buildArrivals(trace, 1, { sessions: 1 }), 1, on);
    const [first, second] = r.requests!;
    expect(first.promptCached).toBe(0);
    expect(second.promptCached).toBe(7 * 16);
    expect(second.promptPrefilled).toBe(200 - 112);
  });

  it('sessions of one workflow share the system prompt across requests', () => {
    const sessions = sessionsOf(react(5), 1, 30);
    expect(sharedPrefixTokens(sessions)).toBe(1540); // the 5-shot HotpotQA ReAct prompt
    const r = run(a100, react(5), 0.2, 30);
    // every first call after the first session finds the system prompt cached
    const firstCalls = r.requests!.filter((q) => q.call === 0 && q.session > 0);
    for (const q of firstCalls) expect(q.promptCached).toBeGreaterThanOrEqual(Math.floor(1540 / 16) * 16);
  });

  it('a tool call releases the GPU: another session runs during it', () => {
    const longTool = parseServeTrace(
      [
        { id: 'a', arrivalS: 0, steps: [{ type: 'llm', inputTokens: 500, outputTokens: 50 }, { type: 'tool', seconds: 30 }, { type: 'llm', inputTokens: 600, outputTokens: 5 }] },
        { id: 'b', arrivalS: 2, steps: [{ type: 'llm', inputTokens: 500, outputTokens: 50 }] },
      ]
        .map((x) => JSON.stringify(x))
        .join('\n'),
    );
    const r = simulateServing(a100, buildArrivals(longTool, 0, { sessions: 2 }), 0, on);
    const b = r.requests!.find((q) => q.session === 1)!;
    expect(b.enqueueS).toBe(2);
    expect(b.finishS).toBeLessThan(5); // not behind session a's 30 s tool
    expect(r.gpuUtilisation).toBeLessThan(0.2);
  });

  it('chunked prefill keeps steps within the token budget; off, a long prompt runs whole', () => {
    const longPrompt = parseServeTrace(JSON.stringify({ steps: [{ type: 'llm', inputTokens: 3000, outputTokens: 4 }] }));
    const small: ServeInstance = { ...a100, maxBatchedTokens: 1024 };
    const chunked = simulateServing(small, buildArrivals(longPrompt, 1, { sessions: 3 }), 1, on);
    for (const s of chunked.stepRecords!) expect(s.tokens).toBeLessThanOrEqual(1024);
    const whole = simulateServing(small, buildArrivals(longPrompt, 1, { sessions: 3 }), 1, { ...on, chunkedPrefill: false });
    expect(Math.max(...whole.stepRecords!.map((s) => s.tokens))).toBeGreaterThanOrEqual(3000 - 16 * Math.floor(2999 / 16));
    expect(whole.stepRecords!.some((s) => s.tokens > 1024)).toBe(true);
  });

  it('respects max_num_seqs', () => {
    const four: ServeInstance = { ...a100, maxSeqs: 4 };
    const r = run(four, react(6), 4, 40);
    expect(r.meanBatch).toBeLessThanOrEqual(4);
    checkInvariants(r, four, sessionsOf(react(6), 4, 40));
  });

  it('latency rises with load and the knee sits below saturation', () => {
    const config: ServeConfig = { instance: a100, source: react(9), span: { durationS: 120 }, options: { prefixCaching: true, chunkedPrefill: true } };
    const unloaded = serveUnloaded(config, 40);
    const low = serveAt(config, 0.5);
    const high = serveAt(config, 6);
    expect(unloaded.meanBatch).toBeLessThan(1.5); // one session at a time
    expect(high.latencyS.p95).toBeGreaterThan(low.latencyS.p95);
    expect(high.throughputQps).toBeLessThan(6);
    const knee = kneeQps([low, high], unloaded.latencyS.p95, 2);
    expect(knee).toBe(0.5);
  });
});

describe('serving helpers', () => {
  it('BlockPool: reference counts, LRU eviction of freed cached blocks, no over-allocation', () => {
    const pool = new BlockPool(3, true);
    const a = pool.allocate();
    const b = pool.allocate();
    pool.register(a, 11);
    pool.register(b, 22);
    pool.release(b);
    pool.release(a); // a freed last: b is the least recently freed
    expect(pool.lookup(11)).toBe(a);
    pool.touch(a); // a hit takes a back off the free queue
    expect(pool.refCount(a)).toBe(1);
    expect(pool.isFree(a)).toBe(false);
    pool.allocate(); // the never-used block first
    const reused = pool.allocate(); // then the least recently freed: b, whose content is dropped
    expect(reused).toBe(b);
    expect(pool.lookup(22)).toBe(-1);
    expect(pool.lookup(11)).toBe(a);
    expect(() => pool.allocate()).toThrow(/exhausted/);
    expect(() => new BlockPool(2, false).release(0)).toThrow(/released more often/);
  });

  it('BlockPool key table survives many inserts and removals', () => {
    const pool = new BlockPool(64, true);
    const held: number[] = [];
    for (let i = 0; i < 5000; i++) {
      if (held.length === 64) pool.release(held.shift()!);
      const blk = pool.allocate();
      pool.register(blk, i * 2 ** 21 + (i % 7));
      held.push(blk);
      // every block still held is found under its key
      if (i % 97 === 0) for (let k = Math.max(0, i - 63); k <= i; k++) expect(pool.lookup(k * 2 ** 21 + (k % 7))).toBeGreaterThanOrEqual(0);
    }
  });

  it('parses sweeps and rejects bad ones', () => {
    expect(parseSweep('0.5:2:0.5')).toEqual([0.5, 1, 1.5, 2]);
    expect(parseSweep('0.1:0.3:0.1')).toEqual([0.1, 0.2, 0.3]);
    for (const bad of ['1:2', 'a:2:1', '0:2:1', '2:1:1', '1:2:0', '1:1000:1']) expect(() => parseSweep(bad)).toThrow();
  });

  it('the knee is the last load before p95 leaves the band', () => {
    const pt = (qps: number, p95: number) => ({ qps, latencyS: { mean: 0, p50: 0, p95, p99: 0 } });
    expect(kneeQps([pt(1, 10), pt(2, 15), pt(3, 25), pt(4, 12)], 10, 2)).toBe(2);
    expect(kneeQps([pt(1, 30)], 10, 2)).toBeNull();
  });

  it('trace arrival times: replayed when on every line, refused when on some', () => {
    const steps = [{ type: 'llm', inputTokens: 10, outputTokens: 2 }];
    const t = parseServeTrace([{ arrivalS: 5, steps }, { arrivalS: 1, steps }].map((x) => JSON.stringify(x)).join('\n'));
    expect(buildArrivals(t, 99, { sessions: 1 }).map((a) => a.arrivalS)).toEqual([1, 5]);
    expect(() => parseServeTrace([{ arrivalS: 5, steps }, { steps }].map((x) => JSON.stringify(x)).join('\n'), 'f.jsonl')).toThrow(/f\.jsonl: 1 of 2/);
    expect(() => parseServeTrace(JSON.stringify({ arrivalS: -1, steps }), 'f.jsonl')).toThrow(/f\.jsonl:1: arrivalS/);
    expect(() => parseServeTrace(JSON.stringify({ steps: [{ type: 'llm', inputTokens: 0, outputTokens: 1 }] }), 'f.jsonl')).toThrow(/f\.jsonl:1: steps\[0\]\.inputTokens/);
  });

  it('refuses a call larger than the whole KV pool', () => {
    const tiny: ServeInstance = { ...a100, numBlocks: 10 };
    const big = parseServeTrace(JSON.stringify({ steps: [{ type: 'llm', inputTokens: 500, outputTokens: 10 }] }));
    expect(() => simulateServing(tiny, buildArrivals(big, 1, { sessions: 1 }), 1, on)).toThrow(/needs 32 KV blocks; the pool holds 10/);
  });
});
