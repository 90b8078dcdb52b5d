/**
 * Cold copies of a suite case. A model step reads each layer's weights (and in decode each layer's
 * KV cache) once, after the other layers have evicted them; a kernel repeated on one set of inputs
 * finds them in cache instead. A case with `coldCopies` is prepared several times, each copy with
 * its own fresh inputs, and one timed iteration runs every copy in turn, so each invocation reads
 * inputs the others have pushed out of the caches nearest the cores. The measurement is per
 * invocation (KernelRun.invocations).
 */
import type { AdapterReport, GpuContext } from '../gpu/device.js';
import type { KernelRun } from '../kernels/types.js';

/** How many cold copies a case gets: enough to move `bytes` per iteration, 2..maxCopies. */
export interface ColdCopyPlan {
  bytes: number;
  maxCopies: number;
}

/**
 * On a CPU adapter: past a core's L2 (lavapipe: 2 MiB per core on the CI VM). On lavapipe GEMVs of
 * 0.25-16 MiB weights ran 2-10% slower over 16 MiB of copies than on one, about as much as inside
 * the mini transformer's steps; over 64 or 160 MiB they ran slower than in any step (README, "Cold
 * caches"), since a step's weights (11-62 MB) stay in the host's L3. Up to 512 copies, so a small
 * kernel's copies fill the 16 MiB too: with at most 32 (until 2026-12-03), a 1-row decode
 * attention over 56 cached tokens cycled through 1 MiB and took 23.0 us, against 27.9 us over
 * 16 MiB and 26-30 us as the mini transformer runs it.
 */
export const CPU_COLD_COPIES: ColdCopyPlan = { bytes: 16 * 2 ** 20, maxCopies: 512 };
/**
 * On a GPU: twice the largest last-level cache of the catalog's accelerators (MI300X: 256 MB
 * Infinity Cache; H100 and H200: 50 MB L2; B200: 126 MB; shared reference hardware.md), since a
 * model's weights never fit in it. Not measured on a GPU yet (no GPU lent so far).
 */
export const GPU_COLD_COPIES: ColdCopyPlan = { bytes: 512 * 2 ** 20, maxCopies: 512 };

/** The plan for an adapter: CPU adapters (architecture 'software') and GPUs differ. */
export function coldCopyPlan(report: Pick<AdapterReport, 'architecture'>): ColdCopyPlan {
  return report.architecture === 'software' ? CPU_COLD_COPIES : GPU_COLD_COPIES;
}

/** Copies of a case moving `bytes` per invocation: enough to fill plan.bytes, 2..plan.maxCopies. */
export function coldCopyCount(bytes: number, plan: ColdCopyPlan = CPU_COLD_COPIES): number {
  return Math.min(plan.maxCopies, Math.max(2, Math.ceil(plan.bytes / Math.max(1, bytes))));
}

/**
 * Prepares `prepare` as many times as coldCopyCount says for the first copy's bytes (on this
 * adapter's plan) and joins the copies into one run: the iteration is every copy's iteration in
 * turn, verify checks every copy against its own CPU reference (the worst error is reported),
 * destroy frees them all.
 */
export async function prepareColdCopies(ctx: GpuContext, prepare: (ctx: GpuContext) => Promise<KernelRun>): Promise<KernelRun> {
  const first = await prepare(ctx);
  const runs = [first];
  try {
    const copies = coldCopyCount(first.bytes, coldCopyPlan(ctx.report));
    while (runs.length < copies) runs.push(await prepare(ctx));
  } catch (err) {
    for (const r of runs) r.destroy();
    throw err;
  }
  return {
    ...first,
    shape: { ...first.shape, copies: runs.length },
    iteration: runs.flatMap((r) => r.iteration),
    invocations: runs.length,
    async verify() {
      let relError = 0;
      let ok = true;
      for (const r of runs) {
        const v = await r.verify();
        relError = Math.max(relError, v.relError);
        ok &&= v.ok;
      }
      return { relError, ok };
    },
    destroy() {
      for (const r of runs) r.destroy();
    },
  };
}
