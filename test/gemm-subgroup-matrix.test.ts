import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import {
  hasSubgroupMatrix,
  pickSubgroupMatrixConfig,
  prepareGemmSubgroupMatrix,
  subgroupMatrixWgsl,
  toTemplateMajorness,
} from '../src/kernels/gemm-subgroup-matrix.js';

describe('subgroup-matrix GEMM helpers (no GPU)', () => {
  it('prefers an f16 config with f32 accumulation', () => {
    const configs = [
      { componentType: 'u8', resultComponentType: 'u32', M: 8, N: 8, K: 32 },
      { componentType: 'f16', resultComponentType: 'f16', M: 16, N: 16, K: 16 },
      { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 8, K: 16 },
    ];
    expect(pickSubgroupMatrixConfig(configs)).toEqual({ M: 16, N: 8, K: 16, resultComponentType: 'f32' });
    expect(pickSubgroupMatrixConfig([])).toBeNull();
    expect(pickSubgroupMatrixConfig([configs[0]])).toBeNull();
  });
  it('writes the config into the shader and rewrites majorness for newer Dawn', () => {
    const code = subgroupMatrixWgsl({ M: 8, N: 8, K: 8, resultComponentType: 'f16' });
    expect(code).toContain('const SM: u32 = 8u;');
    expect(code).toContain('alias R = f16;');
    const rewritten = toTemplateMajorness(code);
    expect(rewritten).not.toMatch(/,\s*(true|false),/);
    expect(rewritten).toContain('subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>, row_major>(&As,');
    expect(rewritten).toContain('subgroupMatrixStore<row_major>(&Cs,');
    expect(toTemplateMajorness('subgroupMatrixLoad<subgroup_matrix_right<f16, 8, 8>>(&b, 0u, true, 8u)')).toBe(
      'subgroupMatrixLoad<subgroup_matrix_right<f16, 8, 8>, col_major>(&b, 0u, 8u)',
    );
  });
});

describe('subgroup-matrix GEMM on the adapter', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await openGpu();
  });
  afterAll(() => ctx?.close());

  it('verifies on odd shapes where the adapter lists matrix configs (skips otherwise)', async (test) => {
    if (!hasSubgroupMatrix(ctx)) {
      test.skip(`no f16 subgroup-matrix configs on ${ctx.report.description}`);
      return;
    }
    for (const shape of [{ m: 17, n: 33, k: 29 }, { m: 64, n: 65, k: 130 }, { m: 100, n: 48, k: 64 }]) {
      const run = await prepareGemmSubgroupMatrix(ctx, shape);
      try {
        const v = await run.verify();
        expect(v.ok, `${run.variant} ${JSON.stringify(shape)}: ${v.relError}`).toBe(true);
      } finally {
        run.destroy();
      }
    }
  });
});
