import { expect } from 'vitest';
import type { KernelRun } from '../../src/kernels/types.js';

/** Verifies a kernel run against its float64 reference (failing with its shape and variant), then frees it. */
export async function verified(run: KernelRun): Promise<number> {
  try {
    const v = await run.verify();
    expect(v.ok, `${run.kernel} ${JSON.stringify(run.shape)} ${run.variant}: relError ${v.relError}`).toBe(true);
    return v.relError;
  } finally {
    run.destroy();
  }
}
