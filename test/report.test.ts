import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toCsv } from '../src/report/figure.js';
import { renderSvg } from '../src/report/vega.js';
import { rooflineFigure } from '../src/report/charts.js';
import { parseProfile } from '../src/profile/io.js';

const CHROMIUM = '/usr/bin/chromium';

function roofcast(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A small constructed profile: a device with a 100 GFLOP/s FMA peak, 10 GB/s DRAM and a 30 GB/s
 * cache, GEMM and mixbench points below the roof, stream points, and a bandwidth series.
 */
function constructedProfile() {
  const F = 100e9;
  const B = 10e9;
  const m = (kernel: string, kernelClass: string, flops: number, bytes: number, seconds: number, shape: Record<string, number>) => ({
    kernel,
    kernelClass,
    shape,
    dtype: 'f32' as const,
    flops,
    bytes,
    seconds,
    minSeconds: seconds * 0.95,
    repeats: 20,
    relError: 1e-6,
    verified: true as const,
  });
  const measurements = [
    ...[64, 128, 256, 512].map((n) => m(`gemm-${n}`, 'gemm', 2 * n ** 3, 12 * n * n, Math.max((2 * n ** 3) / (0.6 * F), (12 * n * n) / (0.8 * B)) + 20e-6, { m: n, n, k: n })),
    ...[1, 4, 16, 64].map((k) => m(`mixbench-${k}`, 'mixbench', 2e6 * k, 8e6, Math.max((2e6 * k) / F, 8e6 / B) * 1.1, { flopsPerElement: 2 * k })),
    ...[16, 18, 20, 22, 24].map((e) => m(`stream-copy-${e}`, 'stream', 0, 2 ** e, 2 ** e / (e < 21 ? 30e9 : B), { bytes: 2 ** e })),
  ];
  return {
    schema: 'roofcast.profile/1',
    device: { vendor: 'test', architecture: 'constructed', description: 'constructed device', backend: 'vulkan', features: [], subgroupMatrixConfigs: [], limits: { maxBufferSize: 2 ** 31 } },
    toggles: 'throughput',
    timing: 'timestamp-query',
    createdAt: '2026-01-01T00:00:00Z',
    ceilings: { fmaF32FlopsPerS: F, fmaF16FlopsPerS: null, memoryBytesPerS: B, cacheBytesPerS: 30e9, copyBufferToBufferBytesPerS: 8e9, dispatchOverheadS: 5e-6, cacheBytes: 2 ** 21 },
    measurements,
    fits: { gemm: { kernelClass: 'gemm', model: 'saturating', workUnit: 'flops', effMax: 0.6, halfWork: 1e6, fixedS: 2e-5, points: 4, rmsRelError: 0.05 } },
    series: { bandwidthVsWorkingSet: [12, 16, 20, 22, 26].map((e) => ({ workingSetBytes: 2 ** e, bytesPerS: e < 21 ? 30e9 : B })) },
  };
}

let dir: string;
let profilePath: string;
const reports: Record<'profile' | 'compare' | 'agent', { out: string; titles: string[] }> = {
  profile: { out: '', titles: ['Roofline of the calibrated profile', 'Bandwidth vs working-set size', 'Per-operator breakdown of prefill', 'Per-operator breakdown of decode'] },
  compare: {
    out: '',
    titles: ['Hardware comparison: p95 latency vs cost', 'Hardware comparison: p95 latency vs energy', 'Per-operator breakdown of prefill', 'Per-operator breakdown of decode'],
  },
  agent: { out: '', titles: ['Agent timeline (median episode)', 'Energy per query per workflow', 'Per-operator breakdown of prefill', 'Per-operator breakdown of decode'] },
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'roofcast-report-'));
  profilePath = join(dir, 'profile.json');
  writeFileSync(profilePath, JSON.stringify(constructedProfile()));
  for (const k of Object.keys(reports) as (keyof typeof reports)[]) reports[k].out = join(dir, k);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('report building blocks', () => {
  it('CSV quotes cells that need it and leaves numbers in round-trip form', () => {
    expect(toCsv([{ a: 1.5, b: 'x,y' }, { a: null, b: 'say "hi"' }])).toBe('a,b\n1.5,"x,y"\n,"say ""hi"""\n');
  });

  it('a Vega-Lite spec renders to an SVG carrying its title, in Node', async () => {
    const fig = rooflineFigure(parseProfile(constructedProfile()), 'test');
    const svg = await renderSvg(fig.spec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('Roofline: measured kernels over the fitted ceilings');
    // 8 measured points (gemm + mixbench); the streams have no FLOPs
    expect(fig.data.filter((r) => r.series === 'measured')).toHaveLength(8);
    // every ceiling point lies on min(peak, bandwidth x intensity)
    for (const r of fig.data.filter((x) => x.series === 'ceiling' && String(x.ceiling).startsWith('DRAM'))) {
      expect(r.flopsPerS as number).toBeCloseTo(Math.min(100e9, 10e9 * (r.intensityFlopsPerByte as number)), 0);
    }
  });
});

describe('roofcast report (CLI)', () => {
  it('writes a profile report: index.html with inline SVG charts, SVG, CSV and JSON files', () => {
    const out = reports.profile.out;
    const r = roofcast('report', '--profile', profilePath, '--model', 'llama-3.2-1b', '--memory-gib', '16', '--out', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res.figures.map((f: { title: string }) => f.title)).toEqual(reports.profile.titles);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html.match(/<svg /g)).toHaveLength(4);
    // self-contained: no scripts, no stylesheets or images to fetch, no URL but the SVG namespaces
    expect(html).not.toMatch(/<script|<link|<img|@import|url\(/i);
    const urls = (html.match(/https?:\/\/[^"'\s)]+/g) ?? []).filter((u) => !u.startsWith('http://www.w3.org/'));
    expect(urls).toEqual([]);
    for (const id of ['roofline', 'bandwidth', 'breakdown-prefill', 'breakdown-decode']) {
      expect(readFileSync(join(out, 'figures', `${id}.svg`), 'utf8')).toMatch(/^<svg /);
      expect(existsSync(join(out, 'data', `${id}.csv`))).toBe(true);
      expect(JSON.parse(readFileSync(join(out, 'data', `${id}.json`), 'utf8')).length).toBeGreaterThan(0);
    }
    const csv = readFileSync(join(out, 'data', 'bandwidth.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('kernel,workingSetBytes,bytesPerS,ceiling');
    expect(csv).toHaveLength(1 + 5 + 2); // header, the series, two ceiling rules
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).kind).toBe('profile');
  });

  it('writes a comparison report with the Pareto front in its data', () => {
    const out = reports.compare.out;
    const r = roofcast('report', '--compare', '--model', 'llama-3.1-8b', '--input', '512', '--output', '64', '--gpus', 'h100-sxm,a100-sxm4-80gb,l40s', '--qps', '5', '--out', out);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(json.kind).toBe('compare');
    expect(json.rows.length).toBeGreaterThanOrEqual(3);
    const data = JSON.parse(readFileSync(join(out, 'data', 'compare-energy.json'), 'utf8'));
    expect(data.map((d: { pareto: boolean }) => d.pareto)).toEqual(json.rows.map((x: { pareto: boolean }) => x.pareto));
    expect(readFileSync(join(out, 'index.html'), 'utf8').match(/<svg /g)).toHaveLength(4);
  });

  it('writes an agent report: timeline with LLM, tool and idle spans, energy per workflow', () => {
    const out = reports.agent.out;
    const r = roofcast('report', '--agent', '--model', 'llama-3.1-8b', '--gpu', 'a100-sxm4-40gb', '--workflow', 'react', '--benchmark', 'hotpotqa', '--workflows', 'sharegpt,react,llmcompiler', '--episodes', '20', '--out', out);
    expect(r.code).toBe(0);
    const kinds = new Set(JSON.parse(readFileSync(join(out, 'data', 'agent-timeline.json'), 'utf8')).map((x: { kind: string }) => x.kind));
    expect([...kinds].sort()).toEqual(['GPU idle', 'LLM decode', 'LLM prefill', 'tool call']);
    const energy = JSON.parse(readFileSync(join(out, 'data', 'workflow-energy.json'), 'utf8'));
    expect(energy.map((e: { workflow: string }) => e.workflow)).toEqual(['sharegpt', 'react', 'llmcompiler']);
    // an agent with tool waits and several calls costs more GPU energy than one chat turn
    expect(energy[1].energyWhMean).toBeGreaterThan(energy[0].energyWhMean);
  });

  it.runIf(existsSync(CHROMIUM))('renders in headless Chromium, offline, and every chart is found with its title', async () => {
    const { chromium } = await import('playwright-core');
    const userDir = mkdtempSync(join(tmpdir(), 'roofcast-chromium-'));
    const context = await chromium.launchPersistentContext(userDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await context.newPage();
      const fetched: string[] = [];
      // the page must not need the network: refuse anything that is not the file itself
      await page.route('**/*', (route) => (route.request().url().startsWith('file://') ? route.continue() : route.abort()));
      page.on('request', (req) => fetched.push(req.url()));
      for (const [kind, rep] of Object.entries(reports)) {
        expect(existsSync(join(rep.out, 'index.html')), `${kind} report written by the tests above`).toBe(true);
        fetched.length = 0;
        await page.goto(`file://${join(rep.out, 'index.html')}`);
        const charts = await page.$$eval('figure', (figs) =>
          figs.map((f) => {
            const svg = f.querySelector('svg');
            const box = svg?.getBoundingClientRect();
            return { title: f.querySelector('figcaption b')?.textContent ?? '', label: svg?.getAttribute('aria-label') ?? '', width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('path, circle, rect, line').length ?? 0 };
          }),
        );
        expect(charts.map((c) => c.title)).toEqual(rep.titles);
        for (const c of charts) {
          expect(c.label).toBe(c.title);
          expect(c.width).toBeGreaterThan(200);
          expect(c.height).toBeGreaterThan(80);
          expect(c.marks).toBeGreaterThan(5);
        }
        expect(await page.locator('svg').count()).toBe(rep.titles.length);
        expect(fetched.filter((u) => !u.startsWith('file://'))).toEqual([]);
      }
    } finally {
      await context.close();
      rmSync(userDir, { recursive: true, force: true });
    }
  });

  it.skipIf(existsSync(CHROMIUM))('browser check skipped: /usr/bin/chromium is not installed (apt-get install chromium)', () => {});

  it.each([
    [['report', '--profile', 'x.json'], /--out DIR/],
    [['report', '--out', 'o'], /exactly one of --profile FILE, --compare/],
    [['report', '--out', 'o', '--compare', '--agent', '--model', 'llama-3.1-8b'], /exactly one of/],
    [['report', '--out', 'o', '--profile', 'does-not-exist.json'], /cannot read profile does-not-exist.json/],
    [['report', '--out', 'o', '--agent', '--model', 'llama-3.1-8b', '--workflow', 'react', '--benchmark', 'hotpotqa'], /--agent needs --gpu/],
    [['report', '--out', 'o', '--agent', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--workflow', 'react', '--benchmark', 'hotpotqa', '--workflows', 'react,chat'], /unknown workflow 'chat'/],
    [['report', '--out', 'o', '--compare', '--model', 'llama-3.1-8b'], /--workflow ID --benchmark ID, or --input/],
    [['report', '--out', 'o', '--agent', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--workflow', 'react', '--benchmark', 'hotpotqa', '--input', '5'], /--input\/--output apply to/],
  ])('bad flags %j exit 2 with one line', (args, message) => {
    const r = roofcast(...(args as string[]));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an invalid profile is refused naming the file and the field', () => {
    const bad = join(dir, 'bad-profile.json');
    const p = constructedProfile() as Record<string, unknown>;
    delete (p.ceilings as Record<string, unknown>).memoryBytesPerS;
    writeFileSync(bad, JSON.stringify(p));
    const r = roofcast('report', '--profile', bad, '--out', join(dir, 'bad'));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-profile\.json is not a valid roofcast profile: ceilings\.memoryBytesPerS/);
    expect(existsSync(join(dir, 'bad', 'index.html'))).toBe(false);
    expect(readdirSync(dir)).not.toContain('bad');
  });
});
