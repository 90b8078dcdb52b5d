import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';

function roofcast(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('roofcast CLI', () => {
  it('prints help listing the commands', () => {
    const r = roofcast('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/predict/);
    expect(r.stdout).toMatch(/calibrate/);
  });

  it('rejects an unknown command with one line and status 2', () => {
    const r = roofcast('frobnicate');
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/unknown command/);
  });
});
