import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function roofcast(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const base = ['serve', '--model', 'llama-3.1-8b', '--gpu', 'a100-sxm4-40gb'];
const pctKeys = ['p50', 'p95', 'p99'];

function expectPoint(p: Record<string, unknown>): void {
  for (const k of ['qps', 'throughputQps', 'energyWhPerQuery', 'prefixHitRate', 'gpuUtilisation']) expect(typeof p[k]).toBe('number');
  for (const k of ['latencyS', 'ttftS', 'tpotS']) for (const q of pctKeys) expect(typeof (p[k] as Record<string, number>)[q]).toBe('number');
  const kv = p.kvCacheBytes as { mean: number; max: number };
  expect(kv.max).toBeGreaterThanOrEqual(kv.mean);
  expect(kv.mean).toBeGreaterThan(0);
}

describe('roofcast serve', () => {
  it('prints one load point as JSON with the documented fields', () => {
    const r = roofcast(...base, '--workflow', 'react', '--benchmark', 'hotpotqa', '--qps', '1', '--duration', '20', '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expectPoint(j);
    expect(j.qps).toBe(1);
    expect(j.tp).toBe(1);
    expect(j.prefixHitRate).toBeGreaterThan(0.5);
  });

  it('sweeps: points, the unloaded p95 and the knee', () => {
    const r = roofcast(...base, '--workflow', 'sharegpt', '--sweep', '1:3:1', '--duration', '20', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.points.map((p: { qps: number }) => p.qps)).toEqual([1, 2, 3]);
    for (const p of j.points) expectPoint(p);
    expect(j.unloadedP95S).toBeGreaterThan(0);
    expect(j.kneeQps === null || [1, 2, 3].includes(j.kneeQps)).toBe(true);
    const text = roofcast(...base, '--workflow', 'sharegpt', '--sweep', '1:2:1', '--duration', '10');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/knee \(p95 <= 2 x unloaded/);
  });

  it('replays a trace with arrival times', () => {
    const dir = mkdtempSync(join(tmpdir(), 'serve-'));
    const file = join(dir, 't.jsonl');
    const steps = [{ type: 'llm', inputTokens: 800, outputTokens: 40 }, { type: 'tool', seconds: 0.5 }, { type: 'llm', inputTokens: 900, cachedPrefixTokens: 840, outputTokens: 20 }];
    writeFileSync(file, [0, 0.5, 1, 4].map((t, i) => JSON.stringify({ id: `s${i}`, arrivalS: t, steps })).join('\n'));
    const r = roofcast(...base, '--trace', file, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.sessions).toBe(4);
    expect(j.qps).toBe(1); // 4 sessions over 4 s
    expect(j.prefixHitRate).toBeGreaterThan(0.3);
    const clash = roofcast(...base, '--trace', file, '--qps', '2');
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/arrival times/);
  });

  it('bad input gives one line and status 2', () => {
    const cases: [string[], RegExp][] = [
      [[...base, '--workflow', 'react', '--benchmark', 'hotpotqa'], /--qps Q or --sweep/],
      [[...base, '--workflow', 'react', '--benchmark', 'hotpotqa', '--qps', '1', '--sweep', '1:2:1'], /either --qps or --sweep/],
      [[...base, '--workflow', 'react', '--qps', '1'], /--benchmark is required/],
      [[...base, '--workflow', 'nope', '--qps', '1'], /not one of/],
      [[...base, '--workflow', 'sharegpt', '--qps', '-1'], /greater than 0/],
      [[...base, '--workflow', 'sharegpt', '--sweep', '3:1:1'], /Q2 must not be below Q1/],
      [[...base, '--workflow', 'sharegpt', '--qps', '1', '--prefix-caching', 'maybe'], /not one of on, off/],
      [[...base, '--workflow', 'sharegpt', '--qps', '1', '--knee-factor', '0.5'], /at least 1/],
      [[...base, '--workflow', 'sharegpt', '--qps', '1e6', '--duration', '1000'], /more than 1000000/],
      [['serve', '--model', 'llama-3.1-8b', '--gpu', 'nope', '--workflow', 'sharegpt', '--qps', '1'], /nope/],
      [[...base, '--trace', '/nonexistent/t.jsonl', '--qps', '1'], /cannot read trace/],
    ];
    for (const [args, message] of cases) {
      const r = roofcast(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});
