/**
 * Cold copies of a suite case. A model step reads each layer's weights (and in decode each layer's
 * KV cache) once, after the other layers have evicted them; a kernel repeated on one set of inputs
 * finds them in cache instead. A case with `coldCopies` is prepared several times, each copy with
 * its own fresh inputs, and one timed iteration runs every copy in turn, so each invocation reads
 * inputs the others have pushed out of the caches nearest the cores. The measurement is per
 * invocation (KernelRun.invocations).
 */
import type { GpuContext } from '../gpu/device.js';
import type { KernelRun } from '../kernels/types.js';

/**
 * Least bytes the copies move per iteration (at least two copies): past a CPU core's L2 (lavapipe:
 * 4 MiB on the CI VM) and a GPU's L1 and shared memory. On lavapipe GEMVs of 0.25-16 MiB weights
 * ran 2-10% slower over 16 MiB of copies than on one, about as much as inside the mini transformer's
 * steps; over 64 or 160 MiB they ran slower than in any step (README, "Cold caches"). A GPU with a
 * larger L2 (H100: 50 MB) still serves the smaller cases from L2 at this size.
 */
export const COLD_COPY_BYTES = 16 * 2 ** 20;
/** Most copies per iteration (each adds its dispatches to the iteration). */
export const COLD_MAX_COPIES = 32;

/** Copies of a case moving `bytes` per invocation: enough to fill COLD_COPY_BYTES, 2..COLD_MAX_COPIES. */
export function coldCopyCount(bytes: number): number {
  return Math.min(COLD_MAX_COPIES, Math.max(2, Math.ceil(COLD_COPY_BYTES / Math.max(1, bytes))));
}

/**
 * Prepares `prepare` as many times as coldCopyCount says for the first copy's bytes and joins the
 * copies into one run: the iteration is every copy's iteration in turn, verify checks every copy
 * against its own CPU reference (the worst error is reported), destroy frees them all.
 */
export async function prepareColdCopies(ctx: GpuContext, prepare: (ctx: GpuContext) => Promise<KernelRun>): Promise<KernelRun> {
  const first = await prepare(ctx);
  const runs = [first];
  try {
    const copies = coldCopyCount(first.bytes);
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
