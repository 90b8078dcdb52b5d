import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { buildProfile } from '../src/calibrate/profile.js';
import { fitCapturedPower, runSuiteWithPower, POWER_DEFAULTS_KEPT, type PowerCapture } from '../src/calibrate/power.js';
import type { CaseWindow } from '../src/calibrate/runner.js';
import type { SuiteCase, SuiteFamily } from '../src/calibrate/suite.js';
import { prepareFma } from '../src/kernels/fma.js';
import { prepareStream, prepareBufferCopy } from '../src/kernels/stream.js';
import { prepareDispatch } from '../src/kernels/dispatch.js';
import { commandReader, findPowerReader, startPowerSampler, type PowerReader } from '../src/energy/sampler.js';
import { parseProfile, readProfile, writeProfile } from '../src/profile/io.js';
import { UserError } from '../src/errors.js';
import type { Ceilings, Profile, ProfilePower } from '../src/profile/schema.js';
import { buildAgentTarget } from '../src/agents/setup.js';
import { simulateSession, StepCostCache } from '../src/agents/simulate.js';
import { getModel } from '../src/models/index.js';

const dir = mkdtempSync(join(tmpdir(), 'roofcast-power-'));

function roofcast(args: string[], env: Record<string, string | undefined> = {}) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...env },
    timeout: 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ours: r.stderr.split('\n').filter((l) => l.startsWith('roofcast:')) };
}

const ceilings: Ceilings = {
  fmaF32FlopsPerS: 1e12,
  fmaF16FlopsPerS: null,
  memoryBytesPerS: 1e11,
  cacheBytesPerS: null,
  copyBufferToBufferBytesPerS: 1e11,
  dispatchOverheadS: 1e-5,
  cacheBytes: null,
};

const win = (id: string, startS: number, endS: number, flops: number, bytes: number, seconds: number): CaseWindow => ({
  id,
  family: id,
  dtype: 'f32',
  startS,
  endS,
  flops,
  bytes,
  seconds,
});

describe('power fit from a capture (no GPU)', () => {
  // idle 0-2 s at 50 W; FMA (compute-bound, 80% of peak) 2-4 s at 300 W; a stream (memory-bound,
  // 60% of bandwidth) 4-6 s at 200 W; a launch-bound dispatch 6-7 s that belongs to neither phase
  const windows = [
    win('fma', 2, 4, 0.8e12 * 1e-3, 1e3, 1e-3),
    win('stream', 4, 6, 0, 0.6e11 * 1e-3, 1e-3),
    win('dispatch', 6, 7, 0, 4, 1e-5),
  ];
  const truth = (t: number) => (t < 2 ? 50 : t < 4 ? 300 : t < 6 ? 200 : t < 7 ? 120 : 50);
  const capture = (dt: number): PowerCapture => {
    const samples = [];
    for (let t = 0.01; t < 7; t += dt) samples.push({ tS: t, powerW: truth(t) + 0.5 * Math.sin(37 * t) });
    return { source: 'synthetic', intervalS: dt, sampledAt: '2026-01-01T00:00:00Z', idle: { startS: 0, endS: 2 }, windows, samples, readErrors: 0 };
  };

  it('takes idle, memory- and compute-bound power from the phases, with their utilisations', () => {
    const fit = fitCapturedPower(capture(0.05), ceilings);
    expect(fit.ok).toBe(true);
    if (!fit.ok) return;
    const p = fit.power;
    expect(p.idleW).toBeCloseTo(50, 0);
    expect(p.computeW).toBeCloseTo(300, 0);
    expect(p.memoryW).toBeCloseTo(200, 0);
    expect(p.model.computeRefUtil).toBeCloseTo(0.8, 6);
    expect(p.model.memoryRefUtil).toBeCloseTo(0.6, 6);
    // the dispatch's 120 W went into no phase; samples in the first 0.5 s of a phase are dropped
    expect(p.phases.memory.samples).toBe(30);
    expect(p.phases.compute.samples).toBe(30);
    expect(() => parseProfile({ ...minimalProfile(), power: p })).not.toThrow();
  });

  it('says why where the samples cannot give a fit', () => {
    const sparse = fitCapturedPower(capture(1.5), ceilings);
    expect(sparse.ok).toBe(false);
    if (!sparse.ok) expect(sparse.reason).toMatch(/too few samples \(.*compute-bound.*\)/);
    const flat = capture(0.05);
    flat.samples = flat.samples.map((s) => ({ ...s, powerW: 42 }));
    const r = fitCapturedPower(flat, ceilings);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(/did not rise above idle \(42\.0 W\)/);
    const none = fitCapturedPower({ ...flat, samples: [], readErrors: 3 }, ceilings);
    expect(none.ok).toBe(false);
    if (!none.ok) expect(none.reason).toBe('synthetic gave no readings (3 failed)');
  });
});

function minimalProfile(): Profile {
  return readProfile('calibration/lavapipe-llvm15-2core.json');
}

const measuredPower = (idleW: number, memoryW: number, computeW: number): ProfilePower => ({
  source: 'test',
  sampledAt: '2026-01-01T00:00:00Z',
  intervalS: 0.1,
  samples: 30,
  idleW,
  computeW,
  memoryW,
  phases: {
    idle: { powerW: idleW, samples: 10, uMem: 0, uFlop: 0 },
    compute: { powerW: computeW, samples: 10, uMem: 0.05, uFlop: 0.9 },
    memory: { powerW: memoryW, samples: 10, uMem: 0.7, uFlop: 0 },
  },
  model: { idleW, tdpW: computeW, memoryBoundW: memoryW, memoryRefUtil: 0.7, computeRefUtil: 0.9 },
  rmsErrorW: 1,
});

describe('profile power record', () => {
  it('keeps old profiles (no power) valid and rejects a malformed record naming the field', () => {
    const base = minimalProfile();
    expect(base.power).toBeUndefined();
    const bad = { ...base, power: { ...measuredPower(10, 20, 30), model: { idleW: 'ten' } } };
    expect(() => parseProfile(bad, 'profile x.json')).toThrow(UserError);
    expect(() => parseProfile(bad, 'profile x.json')).toThrow(/profile x\.json is not a valid roofcast profile: power\.model\.idleW: .*expected number/);
    const inverted = { ...base, power: measuredPower(90, 20, 30) };
    expect(() => parseProfile(inverted)).toThrow(/power\.model\.idleW: idle power must not exceed the active powers/);
  });

  it('gives agent energy from the measured powers (tool waits at measured idle), and says what to do without them', () => {
    const path = join(dir, 'with-power.json');
    writeProfile(path, { ...minimalProfile(), power: measuredPower(11, 23, 37) });
    const model = getModel('llama-3.2-1b');
    const t = buildAgentTarget({ model, profile: path, tp: 1, weightDtype: 'fp16' });
    expect(t.sim.power.idleW.value).toBe(11);
    expect(t.sim.power.memoryBoundW.value).toBe(23);
    expect(t.sim.power.tdpW.value).toBe(37);
    expect(t.sim.power.memoryRefUtil.value).toBe(0.7);
    expect(t.sim.power.idleW.source).toMatch(/calibrate --power/);
    expect(t.perf.idlePowerW).toBe(11);
    expect(t.perf.tdpW).toBe(37);
    // the measured profile wins over catalog figures named with --gpu
    expect(buildAgentTarget({ model, profile: path, gpu: 'h100-sxm', tp: 1, weightDtype: 'fp16' }).sim.power.idleW.value).toBe(11);
    const cache = new StepCostCache(t.sim);
    const one = { id: 'a', steps: [{ type: 'llm' as const, inputTokens: 64, outputTokens: 4 }] };
    const r = simulateSession(one, cache, { prefixCaching: false, decodeChunk: 1 });
    const withTool = simulateSession({ id: 'b', steps: [...one.steps, { type: 'tool' as const, seconds: 3 }] }, cache, { prefixCaching: false, decodeChunk: 1 });
    expect(withTool.energyJ - r.energyJ).toBeCloseTo(3 * 11, 6);
    // busy GPU time draws between idle and the compute-bound cap
    const busyW = r.energyJ / r.latencyS;
    expect(busyW).toBeGreaterThan(11);
    expect(busyW).toBeLessThanOrEqual(37 + 1e-9);

    const plain = join(dir, 'no-power.json');
    writeProfile(plain, minimalProfile());
    expect(() => buildAgentTarget({ model, profile: plain, tp: 1, weightDtype: 'fp16' })).toThrow(/recalibrate with --power .* or add --gpu ID/);
  });
});

describe('power readers', () => {
  it('ROOFCAST_POWER_CMD: takes the first number as watts, or says why it cannot', async () => {
    const ok = await findPowerReader({ ROOFCAST_POWER_CMD: 'echo "power 41.5 W"' });
    expect(typeof ok).not.toBe('string');
    if (typeof ok !== 'string') expect(await ok.read()).toBe(41.5);
    expect(await commandReader('exit 3')).toMatch(/ROOFCAST_POWER_CMD 'exit 3': exited with status 3/);
    expect(await commandReader('echo n/a')).toMatch(/printed 'n\/a', not watts/);
  });

  it('samples in the background until stopped', async () => {
    let w = 5;
    const s = startPowerSampler({ source: 'counter', read: async () => w++ }, 0.01);
    await new Promise((r) => setTimeout(r, 120));
    const samples = await s.stop();
    expect(samples.length).toBeGreaterThanOrEqual(3);
    expect(samples[0].powerW).toBe(5);
    for (let i = 1; i < samples.length; i++) expect(samples[i].tS).toBeGreaterThan(samples[i - 1].tS);
  });
});

describe('calibration with a power reader (GPU)', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await openGpu();
  });
  afterAll(() => ctx?.close());

  it('fits the power a fake sensor reports for what runs, and writes it into the profile', async () => {
    // the fake board draws by what the case being run does (set when the case is prepared)
    const watts = { idle: 20, fma: 60, stream: 45, dispatch: 30 };
    let running: keyof typeof watts = 'idle';
    const reader: PowerReader = { source: 'fake test sensor', read: async () => watts[running] };
    const family = (name: 'fma' | 'stream' | 'dispatch', cases: { id: string; prepare: SuiteCase['prepare']; timing?: SuiteCase['timing'] }[]): SuiteFamily => ({
      name,
      plan: async () =>
        cases.map((c) => ({
          id: c.id,
          family: name,
          ...(c.timing ? { timing: c.timing } : {}),
          prepare: (g: GpuContext) => {
            running = name;
            return c.prepare(g);
          },
        })),
    });
    const tiny: SuiteFamily[] = [
      family('fma', [65536, 131072].map((threads) => ({ id: `fma ${threads}`, prepare: (c: GpuContext) => prepareFma(c, { threads, iters: 64 }, 'f32') }))),
      family(
        'stream',
        [1 << 18, 1 << 20].flatMap((elems) => [
          { id: `copy ${elems}`, prepare: (c: GpuContext) => prepareStream(c, 'copy', { elems }) },
          { id: `b2b ${elems}`, prepare: (c: GpuContext) => prepareBufferCopy(c, { elems }) },
        ]),
      ),
      family('dispatch', [1, 4].map((d) => ({ id: `dispatch ${d}`, prepare: (c: GpuContext) => prepareDispatch(c, { workgroups: 1, dispatches: d }), timing: { maxIterationsPerPass: 32 } }))),
    ];
    const timing = { repeats: 5, warmup: 1, minPassS: 0.03, maxPassS: 0.06 };
    const { result, capture } = await runSuiteWithPower(ctx, { mode: 'quick', familyList: tiny, timing }, { reader, intervalS: 0.01, idleS: 0.5 });
    expect(result.failures).toEqual([]);
    expect(capture.windows.map((w) => w.family)).toEqual(['fma', 'fma', 'stream', 'stream', 'stream', 'stream', 'dispatch', 'dispatch']);
    for (const w of capture.windows) expect(w.endS).toBeGreaterThan(w.startS);
    const profile = buildProfile(ctx.report, ctx.toggles, result.timingMethod, result.measurements, { mode: 'quick', version: 'test', elapsedS: result.elapsedS, failures: [] });
    const fit = fitCapturedPower(capture, profile.ceilings);
    if (!fit.ok) throw new Error(fit.reason);
    expect(fit.power.idleW).toBe(20);
    expect(fit.power.memoryW).toBe(45);
    expect(fit.power.computeW).toBe(60);
    expect(fit.power.idleW).toBeLessThan(fit.power.memoryW);
    expect(fit.power.memoryW).toBeLessThanOrEqual(fit.power.computeW);
    expect(fit.power.source).toBe('fake test sensor');
    const path = join(dir, 'calibrated.json');
    writeProfile(path, { ...profile, power: fit.power });
    expect(readProfile(path).power?.model).toEqual(fit.power.model);
  });
});

describe('roofcast calibrate --power (CLI, GPU)', () => {
  const base = ['calibrate', '--power', '--power-interval-ms', '50', '--only', 'fma,stream,dispatch'];

  it('without a readable sensor: one line saying why, exit 0, profile without power', async () => {
    const sensor = await findPowerReader({});
    if (typeof sensor !== 'string') return; // this machine can read power: the next test covers measuring
    const out = join(dir, 'cli-none.json');
    const r = roofcast([...base, '--out', out], { ROOFCAST_POWER_CMD: undefined });
    expect(r.code).toBe(0);
    const notes = r.stdout.split('\n').filter((l) => l.startsWith('power:'));
    expect(notes).toEqual([`power: not measured (${sensor}); ${POWER_DEFAULTS_KEPT}`]);
    expect(notes[0]).toMatch(/nvidia-smi: .*; hwmon: .*; powercap: /);
    expect(JSON.parse(readFileSync(out, 'utf8')).power).toBeUndefined();
  });

  it('with ROOFCAST_POWER_CMD: samples it, and --json reports why a flat reading gives no model', () => {
    const out = join(dir, 'cli-flat.json');
    const r = roofcast([...base, '--json', '--out', out], { ROOFCAST_POWER_CMD: 'echo 42' });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.power).toBeNull();
    expect(j.powerNote).toMatch(/^power: not fitted \(.*did not rise above idle \(42\.0 W\).*\); the profile keeps the catalog's power defaults$/);
    expect(existsSync(out)).toBe(true);
    expect(JSON.parse(readFileSync(out, 'utf8')).power).toBeUndefined();
  });

  it('rejects a bad interval in one line', () => {
    const r = roofcast(['calibrate', '--power', '--power-interval-ms', '0', '--out', join(dir, 'never.json')]);
    expect(r.code).toBe(2);
    expect(r.ours).toHaveLength(1);
  });
});
