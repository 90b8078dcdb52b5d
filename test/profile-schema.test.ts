import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProfile, readProfile, writeProfile } from '../src/profile/io.js';
import { buildProfile, computeCeilings, fitClasses } from '../src/calibrate/profile.js';
import type { Measurement, Profile } from '../src/profile/schema.js';
import type { AdapterReport } from '../src/gpu/device.js';
import { UserError } from '../src/errors.js';

const report: AdapterReport = {
  vendor: 'mesa',
  architecture: 'software',
  description: 'test adapter',
  backend: 'vulkan',
  features: ['timestamp-query'],
  limits: { maxBufferSize: 1 << 30 },
  subgroupMinSize: 8,
  subgroupMaxSize: 8,
  subgroupMatrixConfigs: [],
};

function m(kernel: string, kernelClass: string, flops: number, bytes: number, seconds: number, shape: Measurement['shape'] = {}): Measurement {
  return { kernel, kernelClass, shape, dtype: 'f32', flops, bytes, seconds, minSeconds: seconds * 0.95, repeats: 5, relError: 1e-7, verified: true };
}

/** A synthetic suite: 20 GFLOP/s, 8 GB/s DRAM, 30 GB/s cache up to 16 MiB, 10 us per dispatch. */
function measurements(): Measurement[] {
  const out: Measurement[] = [m('fma-f32', 'fma', 1e8, 1e5, 1e8 / 20e9), m('fma-f32', 'fma', 1e7, 1e4, 1e7 / 20e9 + 1e-5)];
  for (const ws of [1 << 16, 1 << 20, 1 << 22, 1 << 24, 1 << 26, 1 << 28]) {
    const bw = ws <= 1 << 24 ? 30e9 : 8e9;
    out.push(m('stream-copy', 'stream', 0, ws, 5e-6 + ws / bw, { workingSetBytes: ws }));
    out.push(m('copy-buffer-to-buffer', 'copy-buffer-to-buffer', 0, ws, ws / 16e9, { workingSetBytes: ws }));
  }
  out.push(m('dispatch-empty', 'dispatch', 0, 4, 10e-6, { dispatches: 1 }), m('dispatch-empty', 'dispatch', 0, 64, 160e-6, { dispatches: 16 }));
  return out;
}

function validProfile(): Profile {
  return buildProfile(report, 'throughput', 'timestamp-query', measurements(), { mode: 'quick', version: 'test', elapsedS: 1, failures: [] });
}

describe('profile from measurements', () => {
  it('derives ceilings and a fit per class', () => {
    const c = computeCeilings(measurements());
    expect(c.fmaF32FlopsPerS).toBeCloseTo(20e9, -6);
    expect(c.fmaF16FlopsPerS).toBeNull();
    expect(c.memoryBytesPerS / 8e9).toBeCloseTo(1, 1);
    expect(c.cacheBytesPerS! / 30e9).toBeGreaterThan(0.9);
    expect(c.copyBufferToBufferBytesPerS).toBeCloseTo(16e9, -6);
    expect(c.dispatchOverheadS).toBeCloseTo(10e-6, 9);
    const fits = fitClasses(measurements(), c);
    expect(Object.keys(fits).sort()).toEqual(['fma', 'stream']);
    expect(fits.fma.workUnit).toBe('flops');
    expect(fits.stream.workUnit).toBe('bytes');
  });

  it('puts both copies in the series and their ratio per working set', () => {
    const series = validProfile().series as { copyVsCopyBufferToBuffer: { workingSetBytes: number; ratio: number }[] };
    expect(series.copyVsCopyBufferToBuffer).toHaveLength(6);
    const largest = series.copyVsCopyBufferToBuffer[5];
    // 8 GB/s stream copy (plus 5 us launch) against 16 GB/s copyBufferToBuffer
    expect(largest.ratio).toBeGreaterThan(0.49);
    expect(largest.ratio).toBeLessThan(0.5);
  });

  it('writes dtypeFits only where a class was measured in f16 as well as f32', () => {
    expect(validProfile().dtypeFits).toBeUndefined();
    expect('dtypeFits' in validProfile()).toBe(false);
    // f16 FMA at 5 GFLOP/s; GEMMs at 10 GFLOP/s in f32 and 4 in f16 (plus 20 us)
    const f16 = (x: Measurement): Measurement => ({ ...x, kernel: x.kernel.replace('f32', 'f16'), dtype: 'f16' });
    const gemm = (dtype: 'f32' | 'f16', flops: number) => {
      const x = m(`gemm-${dtype}`, 'gemm', flops, flops / 100, 20e-6 + flops / (dtype === 'f32' ? 10e9 : 4e9), { m: flops });
      return { ...x, dtype };
    };
    const ms = [...measurements(), f16(m('fma-f32', 'fma', 1e8, 1e5, 1e8 / 5e9)), ...[1e6, 1e7, 1e8, 1e9].flatMap((f) => [gemm('f32', f), gemm('f16', f)])];
    const p = buildProfile(report, 'throughput', 'timestamp-query', ms, { mode: 'quick', version: 'test', elapsedS: 1, failures: [] });
    expect(p.ceilings.fmaF16FlopsPerS).toBeCloseTo(5e9, -6);
    expect(p.fits.gemm.effMax).toBeCloseTo(10e9 / 20e9, 3);
    expect(p.dtypeFits?.f16?.gemm.effMax).toBeCloseTo(4e9 / 5e9, 3);
    expect(Object.keys(p.dtypeFits?.f16 ?? {}).sort()).toEqual(['fma', 'gemm']);
    expect(parseProfile(JSON.parse(JSON.stringify(p))).dtypeFits?.f16?.gemm.points).toBe(4);
  });

  it('refuses to build a profile without the FMA ceiling', () => {
    expect(() => computeCeilings(measurements().filter((x) => x.kernel !== 'fma-f32'))).toThrow(/FMA/);
  });
});

describe('profile schema', () => {
  it('accepts a built profile and round-trips it through an atomic write', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-profile-'));
    const path = join(dir, 'p.json');
    writeProfile(path, validProfile());
    expect(readProfile(path).device.description).toBe('test adapter');
    // no temporary file left behind
    expect(readdirSync(dir)).toEqual(['p.json']);
  });

  it('rejects malformed profiles naming the field', () => {
    const bad = JSON.parse(JSON.stringify(validProfile()));
    delete bad.ceilings.memoryBytesPerS;
    expect(() => parseProfile(bad, 'x.json')).toThrow(UserError);
    expect(() => parseProfile(bad, 'x.json')).toThrow(/x\.json.*ceilings\.memoryBytesPerS/);
    const unverified = JSON.parse(JSON.stringify(validProfile()));
    unverified.measurements[0].verified = false;
    expect(() => parseProfile(unverified)).toThrow(/measurements\.0\.verified/);
    const wrongSchema = { ...validProfile(), schema: 'roofcast.profile/0' };
    expect(() => parseProfile(wrongSchema)).toThrow(/schema/);
    const negative = JSON.parse(JSON.stringify(validProfile()));
    negative.ceilings.fmaF32FlopsPerS = -1;
    expect(() => parseProfile(negative)).toThrow(/fmaF32FlopsPerS/);
  });

  it('reports unreadable and non-JSON files in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-profile-'));
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{ "schema": ');
    expect(() => readProfile(path)).toThrow(/not valid JSON/);
    expect(() => readProfile(join(dir, 'missing.json'))).toThrow(/cannot read profile/);
    expect(existsSync(join(dir, 'missing.json'))).toBe(false);
  });

  it('refuses to write an invalid profile and leaves no file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-profile-'));
    const bad = { ...validProfile(), toggles: 'fast' } as unknown as Profile;
    expect(() => writeProfile(join(dir, 'p.json'), bad)).toThrow(/toggles/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
