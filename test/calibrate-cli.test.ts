import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Dawn and Mesa print their own "Warning: ..." lines on stderr; roofcast's own messages start
// with "roofcast:" and must be exactly one line.
function roofcast(...args: string[]) {
  return roofcastWith({}, ...args);
}

function roofcastWith(env: Record<string, string | undefined>, ...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? '/tmp', ...env },
    timeout: 60_000,
  });
  const ours = r.stderr.split('\n').filter((l) => l.startsWith('roofcast:'));
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ours };
}

describe('roofcast devices', () => {
  it('reports the adapter as JSON', () => {
    const r = roofcast('devices', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.description.length).toBeGreaterThan(0);
    expect(report.backend).toBeTruthy();
    expect(Array.isArray(report.features)).toBe(true);
    expect(report.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(Array.isArray(report.subgroupMatrixConfigs)).toBe(true);
    expect(report.adapters.length).toBeGreaterThanOrEqual(1);
  });

  it('leaves a core to the main thread on a CPU adapter (LP_NUM_THREADS), unless the user set it', () => {
    const report = JSON.parse(roofcastWith({ LP_NUM_THREADS: undefined }, 'devices', '--json').stdout);
    if (!/llvmpipe/i.test(report.description)) {
      expect(report.cpuThreads).toBeUndefined();
      return;
    }
    expect(report.cpuThreads).toBe(Math.max(1, availableParallelism() - 1));
    expect(JSON.parse(roofcastWith({ LP_NUM_THREADS: '3' }, 'devices', '--json').stdout).cpuThreads).toBe(3);
  });

  it('lists the available adapters in one line for an unknown adapter name', () => {
    const r = roofcast('devices', '--adapter', 'no-such-gpu-9000');
    expect(r.code).toBe(2);
    expect(r.ours).toHaveLength(1);
    expect(r.ours[0]).toMatch(/no adapter matches adapter 'no-such-gpu-9000'; available adapters: \S+/);
  });

  it('names the possible backends for an unknown backend', () => {
    const r = roofcast('devices', '--backend', 'warp-drive');
    expect(r.code).toBe(2);
    expect(r.ours).toHaveLength(1);
    expect(r.ours[0]).toMatch(/unknown backend 'warp-drive'; possible backends: .*vulkan/);
  });
});

describe('roofcast calibrate flags', () => {
  it('rejects a bad toggle set in one line', () => {
    const r = roofcast('calibrate', '--toggles', 'fastest');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/throughput, browser-like/);
  });
  it('rejects --quick with --full', () => {
    const r = roofcast('calibrate', '--quick', '--full');
    expect(r.code).toBe(2);
    expect(r.ours).toEqual(['roofcast: choose one of --quick and --full']);
  });
  it('rejects an unknown option and an unknown adapter', () => {
    const r = roofcast('calibrate', '--fastest');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const a = roofcast('calibrate', '--adapter', 'no-such-gpu-9000', '--out', '/tmp/roofcast-never.json');
    expect(a.code).toBe(2);
    expect(a.ours[0]).toMatch(/available adapters:/);
  });
  it('rejects unknown kernel families', () => {
    const r = roofcast('calibrate', '--only', 'fma,warp', '--out', '/tmp/roofcast-never.json');
    expect(r.code).toBe(2);
    expect(r.ours).toHaveLength(1);
    expect(r.ours[0]).toMatch(/unknown kernel families: warp/);
  });
  it('--refit recomputes fits from stored measurements, in place or to --out; a bad file fails in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-refit-'));
    const file = join(dir, 'p.json');
    // the committed profile without its f16 fits, as a profile written before them
    const { dtypeFits: _f16, ...old } = JSON.parse(readFileSync('calibration/lavapipe-llvm15-xeon-2core.json', 'utf8'));
    writeFileSync(file, JSON.stringify(old));
    const r = roofcast('calibrate', '--refit', file, '--out', join(dir, 'q.json'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).dtypeFits.f16.gemm.points).toBeGreaterThan(0);
    expect(JSON.parse(readFileSync(join(dir, 'q.json'), 'utf8')).dtypeFits.f16.gemm).toBeDefined();
    expect(JSON.parse(readFileSync(file, 'utf8')).dtypeFits).toBeUndefined(); // --out given: untouched
    expect(roofcast('calibrate', '--refit', file).code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).dtypeFits.f16.gemm).toBeDefined(); // in place
    const bad = roofcast('calibrate', '--refit', join(dir, 'missing.json'));
    expect(bad.code).toBe(2);
    expect(bad.ours).toHaveLength(1);
    const mixed = roofcast('calibrate', '--refit', file, '--full');
    expect(mixed.code).toBe(2);
    expect(mixed.ours).toEqual(['roofcast: --refit runs no suite: drop --full']);
  });
  it('documents the default output file', () => {
    const r = roofcast('calibrate', '--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/roofcast-profile\.json/);
  });
});
