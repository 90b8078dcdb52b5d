import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { paretoFront, dominates } from '../src/report/pareto.js';
import { markPareto, operatingPoint, rankRows, type CompareRow, type InstanceModel, type QueryShape } from '../src/report/compare.js';
import { BUILTIN_PRICES, parsePriceFile, priceTable, readPriceFile } from '../src/hardware/prices.js';
import { acceleratorIds } from '../src/hardware/index.js';
import { UserError } from '../src/errors.js';

const FIX = 'test/fixtures/prices';

function roofcast(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function row(gpu: string, p95: number, energy: number, cost: number | null, gpus = 1): CompareRow {
  return {
    gpu,
    tp: 1,
    latencyS: { p50: p95 / 2, p95 },
    energyWhPerQuery: energy,
    gpusNeeded: gpus,
    costPerMillionQueries: cost,
    fleetPowerW: 100,
    pareto: false,
    rank: 0,
    batch: 1,
    maxBatch: 1,
    capacityQps: 1,
    instances: gpus,
    utilisation: 1,
    servedQps: 1,
    energyWhPerQueryAlone: null,
    llmCallsPerQuery: 1,
    inputTokensPerCall: 100,
    outputTokensPerCall: 10,
    price: null,
  };
}

describe('Pareto front', () => {
  it('keeps exactly the non-dominated points of a constructed set', () => {
    // a: fast and dear, b: slow and cheap, c: dominated by a, d: the same as a (both kept), e: worst on all
    const pts = [
      [1, 1, 10],
      [5, 2, 2],
      [2, 1, 10],
      [1, 1, 10],
      [6, 3, 11],
    ];
    expect(paretoFront(pts)).toEqual([true, true, false, true, false]);
  });

  it('treats a missing cost as infinitely expensive', () => {
    // the unpriced row is fastest, so it stays on the front; it cannot knock out the priced one
    expect(paretoFront([[1, 1, null], [2, 1, 5]])).toEqual([true, true]);
    // but it is dominated by a row as fast and as frugal that has a price
    expect(paretoFront([[1, 1, null], [1, 1, 5]])).toEqual([false, true]);
  });

  it('dominates needs one strict improvement', () => {
    expect(dominates([1, 2], [1, 2])).toBe(false);
    expect(dominates([1, 2], [1, 3])).toBe(true);
    expect(dominates([0, 4], [1, 3])).toBe(false);
  });
});

describe('ranking', () => {
  it('ranks by cost with unpriced rows last, ties broken by p95', () => {
    const rows = [row('x', 3, 1, 20), row('y', 1, 1, null), row('z', 2, 1, 10), row('w', 1, 1, 20)];
    rankRows(rows, 'cost');
    expect(rows.map((r) => r.gpu)).toEqual(['z', 'w', 'x', 'y']);
    expect(rows.map((r) => r.rank)).toEqual([1, 2, 3, 4]);
  });

  it('ranks by latency, energy or GPU count on request', () => {
    const rows = [row('a', 3, 0.1, 5, 4), row('b', 1, 0.3, 9, 2), row('c', 2, 0.2, 7, 1)];
    expect(rankRows([...rows], 'latency').map((r) => r.gpu)).toEqual(['b', 'c', 'a']);
    expect(rankRows([...rows], 'energy').map((r) => r.gpu)).toEqual(['a', 'c', 'b']);
    expect(rankRows([...rows], 'gpus').map((r) => r.gpu)).toEqual(['c', 'b', 'a']);
  });

  it('marks the front on rows', () => {
    const rows = [row('fast', 1, 0.5, 30), row('cheap', 4, 0.4, 10), row('bad', 5, 0.6, 40)];
    markPareto(rows);
    expect(rows.map((r) => r.pareto)).toEqual([true, true, false]);
  });
});

describe('operating point', () => {
  // time of a batch of b calls: 1 + 0.1 b seconds at 1000 W for the instance of 2 GPUs (idle 100 W each)
  const inst: InstanceModel = {
    tp: 2,
    idleW: 100,
    maxBatch: 256,
    call: (b: number) => ({ seconds: 1 + 0.1 * b, energyJ: 1000 * (1 + 0.1 * b) }),
  };
  const shape: QueryShape = {
    llmCalls: 1,
    inputTokens: 100,
    freshTokens: 100,
    outputTokens: 10,
    aloneLatencyS: { p50: 1.1, p95: 1.1 },
    busyFraction: 1,
    aloneEnergyWh: null,
  };

  it('capacity is the largest batch within the bound; instances cover the demand', () => {
    const op = operatingPoint(inst, shape, 21, 5)!;
    expect(op.maxBatch).toBe(40); // latency 1 + 0.1 x 40 = 5 s
    expect(op.capacityQps).toBeCloseTo(40 / 5, 12);
    expect(op.instances).toBe(3); // ceil(21 / 8)
    // each instance carries 7 q/s: the smallest b with b / (1 + 0.1 b) >= 7 is 24
    expect(op.batch).toBe(24);
    expect(op.latencyS.p95).toBeCloseTo(3.4, 12);
    const u = 7 / (24 / 3.4);
    expect(op.utilisation).toBeCloseTo(u, 12);
    const fleet = 3 * (u * 1000 + (1 - u) * 2 * 100);
    expect(op.fleetPowerW).toBeCloseTo(fleet, 9);
    expect(op.energyWhPerQuery).toBeCloseTo(fleet / 21 / 3600, 12);
  });

  it('without a demand, one instance runs at capacity; without a bound, at the memory limit', () => {
    const op = operatingPoint(inst, shape, undefined, undefined)!;
    expect(op.instances).toBe(1);
    expect(op.batch).toBe(256);
    expect(op.servedQps).toBeCloseTo(256 / 26.6, 12);
  });

  it('is null when even one query misses the bound', () => {
    expect(operatingPoint(inst, shape, 1, 1.05)).toBeNull();
  });

  it('stretches only the GPU-busy share of an agent query', () => {
    const agent: QueryShape = { ...shape, aloneLatencyS: { p50: 10, p95: 20 }, busyFraction: 0.25, llmCalls: 5 };
    const op = operatingPoint(inst, agent, undefined, 30)!;
    // p95(b) = 20 (0.75 + 0.25 (1 + 0.1 b) / 1.1) <= 30  <=>  1 + 0.1 b <= 3.3  <=>  b <= 23
    expect(op.maxBatch).toBe(23);
    expect(op.capacityQps).toBeCloseTo(23 / 3.3 / 5, 12);
    // the tool-wait share is not stretched: p50 grows by the same factor as p95
    expect(op.latencyS.p95 / op.latencyS.p50).toBeCloseTo(2, 12);
  });
});

describe('price table', () => {
  it('every built-in price names a catalog accelerator, a date and a source', () => {
    const ids = new Set(acceleratorIds());
    for (const p of BUILTIN_PRICES) {
      expect(ids.has(p.gpu)).toBe(true);
      expect(p.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(p.source.length).toBeGreaterThan(10);
    }
  });

  it('a price file replaces rows of the built-in table and keeps the others', () => {
    const t = priceTable(readPriceFile(`${FIX}/valid.json`));
    expect(t.get('h100-sxm')!.usdPerGpuHour).toBe(2);
    expect(t.get('l4')!.usdPerGpuHour).toBe(0.8);
    expect(t.get('h200-sxm')!.usdPerGpuHour).toBe(BUILTIN_PRICES.find((p) => p.gpu === 'h200-sxm')!.usdPerGpuHour);
  });

  it.each([
    ['unknown-gpu.json', /prices\.1\.gpu: unknown accelerator 'h900'/],
    ['bad-date.json', /prices\.0\.date: expected a date YYYY-MM-DD/],
    ['negative.json', /prices\.0\.usdPerGpuHour/],
    ['no-source.json', /prices\.0\.source/],
    ['duplicate.json', /prices\.1\.gpu: 'l4' is listed twice/],
    ['broken.json', /is not valid JSON/],
    ['missing.json', /cannot read price file/],
  ])('rejects %s with a one-line error naming the field', (file, message) => {
    let err: unknown;
    try {
      readPriceFile(`${FIX}/${file}`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toContain('\n');
  });

  it('rejects an empty price list', () => {
    expect(() => parsePriceFile({ prices: [] }, 'x')).toThrow(/prices/);
  });
});

describe('roofcast compare (CLI)', () => {
  it('--json gives rows with the contract fields, ranked, with a Pareto front', () => {
    const r = roofcast('compare', '--model', 'llama-3.1-8b', '--input', '512', '--output', '64', '--gpus', 'h100-sxm,a100-sxm4-80gb,l4', '--qps', '20', '--json');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.rows.length).toBeGreaterThanOrEqual(3);
    for (const x of out.rows) {
      for (const k of ['gpu', 'tp', 'latencyS', 'energyWhPerQuery', 'gpusNeeded', 'costPerMillionQueries', 'fleetPowerW', 'pareto']) expect(x).toHaveProperty(k);
      expect(x.latencyS.p95).toBeGreaterThanOrEqual(x.latencyS.p50);
      expect(x.gpusNeeded % x.tp).toBe(0);
      expect(x.energyWhPerQuery).toBeGreaterThan(0);
    }
    // ranked by cost, unpriced (l4) last
    const costs = out.rows.map((x: { costPerMillionQueries: number | null }) => x.costPerMillionQueries ?? Infinity);
    expect([...costs].sort((a, b) => a - b)).toEqual(costs);
    expect(out.rows.some((x: { pareto: boolean }) => x.pareto)).toBe(true);
    // the cheapest row is never dominated
    expect(out.rows[0].pareto).toBe(true);
  });

  it('a price file changes the cost and is validated', () => {
    const base = JSON.parse(roofcast('compare', '--model', 'llama-3.1-8b', '--input', '512', '--output', '64', '--gpus', 'h100-sxm', '--json').stdout);
    const cheap = JSON.parse(roofcast('compare', '--model', 'llama-3.1-8b', '--input', '512', '--output', '64', '--gpus', 'h100-sxm', '--price-file', `${FIX}/valid.json`, '--json').stdout);
    expect(cheap.rows[0].costPerMillionQueries / base.rows[0].costPerMillionQueries).toBeCloseTo(2 / 3.49, 9);
    const bad = roofcast('compare', '--model', 'llama-3.1-8b', '--input', '512', '--output', '64', '--price-file', `${FIX}/bad-date.json`);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses with what would work when nothing fits or nothing meets the bound', () => {
    const fit = roofcast('compare', '--model', 'llama-3.1-405b', '--input', '1000', '--output', '100', '--gpus', 'l4,a10g');
    expect(fit.code).toBe(2);
    expect(fit.stderr).toMatch(/fits none of l4, a10g.*it fits on \S+ at tp \d+/);
    const bound = roofcast('compare', '--model', 'llama-3.1-8b', '--input', '1000', '--output', '200', '--gpus', 'h100-sxm', '--p95-max', '0.01');
    expect(bound.code).toBe(2);
    expect(bound.stderr).toMatch(/no accelerator meets --p95-max 0.01 s: .* raise --p95-max to at least/);
    expect(bound.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([
    [['compare', '--input', '10', '--output', '10'], /--model/],
    [['compare', '--model', 'llama-3.1-8b'], /--workflow ID --benchmark ID, or --input/],
    [['compare', '--model', 'llama-3.1-8b', '--input', '10'], /both --input and --output/],
    [['compare', '--model', 'llama-3.1-8b', '--workflow', 'react', '--input', '10', '--output', '5'], /not both/],
    [['compare', '--model', 'llama-3.1-8b', '--workflow', 'react'], /--benchmark is required/],
    [['compare', '--model', 'llama-3.1-8b', '--input', '10', '--output', '5', '--gpus', 'h100,zzz'], /accelerator/],
    [['compare', '--model', 'llama-3.1-8b', '--input', '10', '--output', '5', '--qps', '-3'], /greater than 0/],
    [['compare', '--model', 'llama-3.1-8b', '--input', '10', '--output', '5', '--sort', 'speed'], /not one of/],
    [['compare', '--model', 'nope-model', '--input', '10', '--output', '5'], /model/],
  ])('bad flags %j exit 2 with one line', (args, message) => {
    const r = roofcast(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
