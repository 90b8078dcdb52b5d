import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function roofcast(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'roofcast-agent-'));
const base = ['agent', '--model', 'llama-3.1-8b', '--gpu', 'a100-sxm4-40gb', '--episodes', '40'];

function oneLineError(args: string[], pattern: RegExp): void {
  const r = roofcast(...args);
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^roofcast: /);
  expect(r.stderr).toMatch(pattern);
}

describe('roofcast agent', () => {
  it('gives the issue fields by name in --json, fleet power from the formula, numbers in scientific notation', () => {
    const r = roofcast(...base, '--workflow', 'react', '--benchmark', 'hotpotqa', '--queries-per-day', '71.4e6', '--pue', '1.2', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['mean', 'p50', 'p95', 'p99']) expect(j.latencyS[k]).toBeGreaterThan(0);
    expect(j.latencyS.p99).toBeGreaterThanOrEqual(j.latencyS.p95);
    expect(j.latencyS.p95).toBeGreaterThanOrEqual(j.latencyS.p50);
    expect(j.energyWh.mean).toBeGreaterThan(0);
    expect(j.energyWh.p95).toBeGreaterThan(0);
    for (const k of ['llmCalls', 'inputTokens', 'outputTokens']) expect(j[k].mean).toBeGreaterThan(0);
    for (const k of ['gpuIdleFraction', 'toolLatencyShare', 'prefillShareOfGpuTime']) {
      expect(j[k]).toBeGreaterThan(0);
      expect(j[k]).toBeLessThan(1);
    }
    expect(j.kvCacheBytes.max).toBeGreaterThanOrEqual(j.kvCacheBytes.mean);
    expect(j.queriesPerDay).toBe(71.4e6);
    expect(j.fleetPowerW).toBeCloseTo(((j.energyWh.mean * 3600 * 71.4e6) / 86400) * 1.2, 3);
    expect(j.tp).toBe(1);
    expect(j.tpSource).toBe('smallest that fits');
  });

  it('sharegpt accepts and ignores --benchmark', () => {
    const a = JSON.parse(roofcast(...base, '--workflow', 'sharegpt', '--json').stdout);
    const b = JSON.parse(roofcast(...base, '--workflow', 'sharegpt', '--benchmark', 'webshop', '--json').stdout);
    expect(b.latencyS).toEqual(a.latencyS);
    expect(b.benchmark).toBeNull();
    expect(a.llmCalls.mean).toBe(1);
    expect(a.gpuIdleFraction).toBe(0);
  });

  it('prefix caching off prefills more', () => {
    const on = JSON.parse(roofcast(...base, '--workflow', 'reflexion', '--benchmark', 'hotpotqa', '--episodes', '5', '--json').stdout);
    const off = JSON.parse(roofcast(...base, '--workflow', 'reflexion', '--benchmark', 'hotpotqa', '--episodes', '5', '--prefix-caching', 'off', '--json').stdout);
    expect(off.prefillTokens.mean).toBeGreaterThan(on.prefillTokens.mean);
    expect(off.prefillShareOfGpuTime).toBeGreaterThan(on.prefillShareOfGpuTime);
  });

  it('costs a recorded JSONL trace and writes a Chrome trace with prefill, decode and tool spans per GPU', () => {
    const trace = join(dir, 'ok.jsonl');
    writeFileSync(
      trace,
      [
        JSON.stringify({ id: 'a', steps: [{ type: 'llm', inputTokens: 1200, outputTokens: 80 }, { type: 'tool', seconds: 1.5 }, { type: 'llm', inputTokens: 1500, cachedPrefixTokens: 1280, outputTokens: 60, parallel: 2 }] }),
        JSON.stringify([{ type: 'llm', inputTokens: 300, outputTokens: 300 }]),
      ].join('\n'),
    );
    const out = join(dir, 'chrome.json');
    const r = roofcast('agent', '--model', 'llama-3.1-70b', '--gpu', 'a100-sxm4-40gb', '--trace', trace, '--trace-out', out, '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.episodes).toBe(2);
    expect(j.tp).toBe(8);
    expect(j.llmCalls.mean).toBe(2); // (1 + 2) and 1 calls
    const chrome = JSON.parse(readFileSync(out, 'utf8'));
    const spans = chrome.traceEvents.filter((e: { ph: string }) => e.ph === 'X');
    for (const cat of ['prefill', 'decode', 'idle', 'tool']) expect(spans.some((e: { cat: string }) => e.cat === cat)).toBe(true);
    const gpuTracks = new Set(spans.filter((e: { cat: string }) => e.cat === 'decode').map((e: { tid: number }) => e.tid));
    expect(gpuTracks.size).toBe(8);
    const tool = spans.find((e: { cat: string }) => e.cat === 'tool');
    expect(tool.dur).toBeCloseTo(1.5e6, 0);
  });

  it('rejects a bad trace line with its line number', () => {
    const trace = join(dir, 'bad.jsonl');
    writeFileSync(trace, `[{"type":"llm","inputTokens":10,"outputTokens":5}]\n[{"type":"tool","seconds":"soon"}]\n`);
    oneLineError(['agent', '--model', 'llama-3.1-8b', '--gpu', 'a100-sxm4-40gb', '--trace', trace], /bad\.jsonl:2: steps\[0\]\.seconds/);
  });

  it('rejects bad ids and flags with one line and status 2', () => {
    oneLineError([...base, '--workflow', 'autogpt', '--benchmark', 'hotpotqa'], /autogpt/);
    oneLineError([...base, '--workflow', 'react', '--benchmark', 'gsm8k'], /gsm8k/);
    oneLineError([...base, '--workflow', 'react'], /--benchmark is required/);
    oneLineError(['agent', '--model', 'llama-9b', '--gpu', 'a100-sxm4-40gb', '--workflow', 'cot', '--benchmark', 'math'], /llama-9b/);
    oneLineError(['agent', '--model', 'llama-3.1-8b', '--gpu', 'a100-sxm9', '--workflow', 'cot', '--benchmark', 'math'], /a100-sxm9/);
    oneLineError([...base, '--workflow', 'cot', '--benchmark', 'math', '--prefix-caching', 'maybe'], /maybe/);
    oneLineError([...base, '--workflow', 'cot', '--benchmark', 'math', '--queries-per-day', 'lots'], /lots/);
    oneLineError([...base, '--workflow', 'cot', '--benchmark', 'math', '--episodes', '0'], /episodes|0/);
    oneLineError([...base, '--workflow', 'cot', '--benchmark', 'math', '--engine', 'tgi'], /tgi/);
    oneLineError([...base, '--workflow', 'cot', '--benchmark', 'math', '--tp', '3'], /tp|3/);
    oneLineError(['agent', '--model', 'llama-3.1-8b', '--workflow', 'cot', '--benchmark', 'math'], /--gpu/);
    oneLineError([...base], /--workflow/);
    oneLineError([...base, '--workflow', 'cot', '--benchmark', 'math', '--trace', join(dir, 'missing.jsonl')], /either/);
    oneLineError(['agent', '--model', 'llama-3.1-8b', '--gpu', 'a100-sxm4-40gb', '--trace', join(dir, 'missing.jsonl')], /cannot read trace/);
  });
});

describe('roofcast study', () => {
  it('puts every Table III cell next to the published one and derives Table IV by the formula', () => {
    const r = roofcast('study', '--episodes', '40', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.tableIII).toHaveLength(6);
    for (const row of j.tableIII) {
      expect(row.latencyError).toBeCloseTo(row.predicted.latencyS.mean / row.published.latencyS - 1, 12);
      expect(row.energyError).toBeCloseTo(row.predicted.energyWh.mean / row.published.energyWh - 1, 12);
    }
    expect(j.tableIV).toHaveLength(7);
    for (const f of j.tableIV) {
      const row = j.tableIII.find((x: { model: string; workload: string }) => x.model === f.model && x.workload === f.workload);
      expect(f.predictedW).toBeCloseTo((row.predicted.energyJ.mean * f.queriesPerDay) / 86400, 0);
      // the study's Table IV is its Table III energy through the same formula (to its rounding)
      expect(Math.abs(f.formulaFromPublishedW / f.publishedW - 1)).toBeLessThan(0.05);
    }
    const text = roofcast('study', '--episodes', '10');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Table III/);
    expect(text.stdout).toMatch(/reflexion/);
  });
});
