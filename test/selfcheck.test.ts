import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { readProfile, writeProfile } from '../src/profile/io.js';
import type { Profile } from '../src/profile/schema.js';
import { predictMini, profileHostMismatch, quickProfile, relError, selfcheckConfig, selfcheckConfigs, selfcheckCopies, opClass, SELFCHECK_COPY_SETS } from '../src/calibrate/selfcheck.js';
import { coldCopyCount, coldCopyPlan } from '../src/calibrate/copies.js';
import { findMiniConfig, MINI_CONFIGS } from '../src/kernels/transformer-config.js';
import { gemmCases } from '../src/kernels/gemm.js';
import { hostInfo, profileHostCpu } from '../src/calibrate/profile.js';

/**
 * Bound on predicted / measured (either way) for the tiny configuration's prefill and decode step.
 * Measured on the 2-core development VMs (lavapipe, committed profile): AMD EPYC 0.75x to 1.09x
 * over three runs; Intel Xeon (2026-12-03) prefill 0.51x-0.57x, decode 0.73x-0.82x over three
 * runs (the tiny prefill, timed after other work, runs 1.4x slower than the same step back to
 * back: cold caches, README). f16 on the Xeon (16:47, committed profile): prefill 0.67x, decode
 * 0.73x; f32 then 0.75x and 0.72x. A factor 3 leaves room for the 2x load swings of a shared CI
 * machine.
 */
const RATIO_BOUND = 3;

let ctx: GpuContext;
let profile: Profile;

/**
 * $ROOFCAST_PROFILE, else the committed profile of this adapter (calibration/) measured on this
 * host's CPU model (a CPU adapter is as fast as its host), else a quick calibration now.
 */
async function localProfile(c: GpuContext): Promise<Profile> {
  if (process.env.ROOFCAST_PROFILE) return readProfile(process.env.ROOFCAST_PROFILE);
  const dir = 'calibration';
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  for (const f of files) {
    const p = readProfile(`${dir}/${f}`);
    if (p.device.description === c.report.description && p.fits.gemm && p.fits['attention-prefill'] && profileHostMismatch(c, p) === null && profileHostCpu(p) !== null) return p;
  }
  return quickProfile(c);
}

beforeAll(async () => {
  ctx = await openGpu();
  profile = await localProfile(ctx);
}, 600_000);
afterAll(() => ctx?.close());

describe('selfcheck', () => {
  it('named configurations have shapes the calibration never measured', () => {
    const named = MINI_CONFIGS.filter((c) => c.name !== 'tiny');
    expect(named.length).toBeGreaterThanOrEqual(3);
    const calibrated = new Set(gemmCases('full').map((s) => `${s.m}x${s.n}x${s.k}`));
    for (const c of named) {
      const hd = c.hidden / c.heads;
      const qkv = (c.heads + 2 * c.kvHeads) * hd;
      for (const m of [c.prompt, 1]) {
        for (const [n, k] of [[qkv, c.hidden], [c.hidden, c.heads * hd], [2 * c.ffn, c.hidden], [c.hidden, c.ffn], [c.vocab, c.hidden]]) {
          expect(calibrated.has(`${m}x${n}x${k}`), `${c.name} ${m}x${n}x${k}`).toBe(false);
        }
      }
    }
  });

  it('prediction covers every operator the model runs', () => {
    const p = predictMini(profile, findMiniConfig('tiny'));
    const ops = new Set(p.prefill.map((o) => o.op));
    for (const op of ['qkv_proj', 'attention_prefill', 'lm_head', 'sampling']) expect(ops.has(op)).toBe(true);
    for (const o of p.prefill) expect(opClass(o.op)).not.toBe('other');
    expect(p.decode.length).toBe(findMiniConfig('tiny').decode);
  });

  it('predicts the tiny configuration within the measured bound', async () => {
    const r = await selfcheckConfig(ctx, profile, findMiniConfig('tiny'), { repeats: 3 });
    expect(r.prefillS.measured).toBeGreaterThan(0);
    expect(r.decodeStepS.measured).toBeGreaterThan(0);
    // per-kernel times add up to about the one-pass step time
    const perKernel = r.ops.filter((o) => o.phase === 'prefill').reduce((a, o) => a + o.measuredS, 0);
    expect(perKernel / r.prefillS.measured).toBeGreaterThan(0.5);
    expect(perKernel / r.prefillS.measured).toBeLessThan(2);
    for (const step of [r.prefillS, r.decodeStepS]) {
      const ratio = 1 + relError(step);
      expect(Math.max(ratio, 1 / ratio), JSON.stringify(step)).toBeLessThan(RATIO_BOUND);
    }
  });
  it('runs and predicts the tiny configuration in f16 within the same bound, on the f16 curves', async (t) => {
    if (!ctx.hasF16) t.skip();
    // a profile with f16 points: this one, or a quick calibration that takes them (CI on another host)
    const p16 = profile.dtypeFits?.f16 ? profile : await quickProfile(ctx, undefined, true);
    expect(p16.dtypeFits?.f16?.gemm).toBeDefined();
    const tiny = findMiniConfig('tiny');
    const r = await selfcheckConfig(ctx, p16, tiny, { repeats: 3, dtype: 'f16' });
    expect(r.dtype).toBe('f16');
    for (const step of [r.prefillS, r.decodeStepS]) {
      expect(step.measured).toBeGreaterThan(0);
      const ratio = 1 + relError(step);
      expect(Math.max(ratio, 1 / ratio), JSON.stringify(step)).toBeLessThan(RATIO_BOUND);
    }
    // the f16 model is costed with 2-byte weights and KV cache on the f16 fits, not as the f32 one
    const bytes = (dtype: 'f32' | 'f16') => predictMini(p16, tiny, dtype).decode[0].reduce((a, o) => a + o.bytes, 0);
    expect(bytes('f16') / bytes('f32')).toBeCloseTo(0.5, 1);
  }, 600_000);

  it('cold copies per operator: as the calibration gives them, within the copy-set budget', () => {
    const plan = coldCopyPlan(ctx.report);
    for (const config of MINI_CONFIGS) {
      const copies = selfcheckCopies(ctx, config);
      const most = Math.floor(SELFCHECK_COPY_SETS / (config.layers * (config.decode + 1)));
      expect(copies('qkv_proj', plan.bytes)).toBe(1); // the layers' own weights already fill the plan
      expect(copies('attention_decode', plan.bytes / 4)).toBe(Math.min(most, 4));
      expect(copies('lm_head', 1000) * config.layers * (config.decode + 1)).toBeLessThanOrEqual(SELFCHECK_COPY_SETS);
      expect(copies('lm_head', 1000)).toBe(Math.min(most, coldCopyCount(1000, plan)));
    }
  });
  it('names a CPU adapter profile measured on another host CPU', () => {
    const other = { ...profile, run: { ...profile.run, host: { cpu: 'Some Other CPU 9000' } } };
    const here = { ...profile, run: { ...profile.run, host: { cpu: hostInfo().cpu } } };
    const unknown = { ...profile, run: {} };
    if (ctx.report.architecture === 'software') {
      expect(profileHostMismatch(ctx, other)).toMatch(/host CPU 'Some Other CPU 9000'/);
    } else {
      expect(profileHostMismatch(ctx, other)).toBeNull(); // a real GPU's speed is not its host's
    }
    expect(profileHostMismatch(ctx, here)).toBeNull();
    expect(profileHostMismatch(ctx, unknown)).toBeNull();
  });
  it('takes turns across configurations: each gets every repeat, in rounds', async () => {
    const tiny = findMiniConfig('tiny');
    const other = { ...tiny, name: 'tiny-deeper', layers: 3, decode: 2 };
    const labels: string[] = [];
    const rs = await selfcheckConfigs(ctx, profile, [tiny, other], { repeats: 2, onProgress: (p) => labels.push(p.label) });
    expect(rs.map((r) => [r.config.name, r.repeats])).toEqual([['tiny', 2], ['tiny-deeper', 2]]);
    expect(labels.slice(0, 4)).toEqual(['tiny repeat 1/2', 'tiny-deeper repeat 1/2', 'tiny repeat 2/2', 'tiny-deeper repeat 2/2']);
    expect(rs[1].dispatches.decodeStep).toBeGreaterThan(rs[0].dispatches.decodeStep);
  });
});

describe('selfcheck CLI', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, ['dist/cli/main.js', 'selfcheck', ...args], { encoding: 'utf8' });
  it('refuses bad configurations with one line and exit status 2', () => {
    for (const [args, re] of [
      [['--hidden', '64', '--heads', '3'], /heads \(3\) do not divide hidden \(64\)/],
      [['--heads', '4', '--kv-heads', '3'], /kv-heads \(3\) do not divide heads \(4\)/],
      [['--config', 'nope'], /unknown mini configuration 'nope'/],
      [['--prompt', '0'], /must be a whole number greater than 0/],
      [['--dtype', 'f64'], /'f64' is not one of f32, f16/],
    ] as [string[], RegExp][]) {
      const r = cli(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('--dtype f16 with a profile that has no f16 points is refused with one line before any GPU work', () => {
    const { dtypeFits: _f16, ...f32Only } = profile;
    const file = join(mkdtempSync(join(tmpdir(), 'roofcast-selfcheck-')), 'f32-only.json');
    writeProfile(file, { ...f32Only, measurements: profile.measurements.filter((m) => m.dtype === 'f32') });
    const r = cli(['--profile', file, '--config', 'tiny', '--dtype', 'f16']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/no f16 measurements/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--json gives results with predicted and measured times per step and class', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'roofcast-selfcheck-')), 'profile.json');
    writeProfile(file, profile);
    const r = cli(['--profile', file, '--config', 'tiny', '--repeats', '1', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.results).toHaveLength(1);
    const res = out.results[0];
    expect(res.config.name).toBe('tiny');
    for (const k of ['prefillS', 'decodeStepS']) {
      expect(res[k].predicted).toBeGreaterThan(0);
      expect(res[k].measured).toBeGreaterThan(0);
    }
    expect(res.ops.length).toBeGreaterThan(4);
    for (const o of res.ops) {
      expect(typeof o.class).toBe('string');
      expect(o.predictedS).toBeGreaterThan(0);
      // a class of tiny kernels may cost no more than the empty timestamped pass taken out
      expect(o.measuredS).toBeGreaterThanOrEqual(0);
    }
    expect(res.ops.reduce((a: number, o: { measuredS: number }) => a + o.measuredS, 0)).toBeGreaterThan(0);
    // the profile's own mixbench and stream-copy cases re-timed before and after: speed ratios
    for (const when of ['before', 'after']) {
      for (const side of ['compute', 'memory']) {
        const ratio = out.drift[when][side];
        expect(ratio, `${when} ${side}`).toBeGreaterThan(0.05);
        expect(ratio, `${when} ${side}`).toBeLessThan(20);
      }
    }
  });
});
