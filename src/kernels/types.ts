import type { Dispatch } from '../gpu/timing.js';

export type KernelDtype = 'f32' | 'f16';

/**
 * One kernel instance on the device with fresh random inputs, ready to verify and time.
 * Every kernel family module (src/kernels/<family>.ts) returns these from its `prepare...` function.
 */
export interface KernelRun {
  /** kernel name, e.g. 'gemm', 'stream-copy', 'attention-decode' */
  kernel: string;
  /** class the calibration fits group by: 'fma', 'stream', 'gemm', 'attention-prefill', ... */
  kernelClass: string;
  shape: Record<string, number | string>;
  dtype: KernelDtype;
  /** floating-point operations of one iteration (FMA = 2) */
  flops: number;
  /** minimum DRAM bytes one iteration must move (each input read once, each output written once) */
  bytes: number;
  /** configuration kept when several were tried (tile sizes, split factor) */
  variant?: string;
  /** the dispatches of one iteration (e.g. a split-K GEMM and its reduce) */
  iteration: Dispatch[];
  /**
   * Kernel invocations one iteration holds (default 1): a run over cold copies of its inputs
   * (src/calibrate/copies.ts) runs once per copy. flops, bytes and the seconds a suite records are
   * per invocation, so the timing of an iteration is divided by this.
   */
  invocations?: number;
  /**
   * Poisons the outputs, runs one iteration, reads the outputs back and compares every element
   * with the float64 CPU reference. relError is the largest relative error over the elements.
   */
  verify(): Promise<{ relError: number; ok: boolean }>;
  /** frees the buffers */
  destroy(): void;
}
