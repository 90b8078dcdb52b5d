/**
 * The calibration suite as a registry of kernel families. Each family plans its cases for a mode
 * (quick or full) on the open adapter; a family may tune first (measure variants and keep the best)
 * through `tools.measure`. GEMM and attention plug in here (see EXTERNAL_FAMILIES).
 */
import type { GpuContext } from '../gpu/device.js';
import type { TimingOptions } from '../gpu/timing.js';
import type { KernelDtype, KernelRun } from '../kernels/types.js';
import type { Measurement } from '../profile/schema.js';
import { prepareFma, prepareMixbench } from '../kernels/fma.js';
import { prepareBufferCopy, prepareStream, STREAM_OPS, STREAM_VARIANTS, variantName, type CommandKernelRun, type StreamOp, type StreamVariant } from '../kernels/stream.js';
import { prepareDispatch } from '../kernels/dispatch.js';

export type SuiteMode = 'quick' | 'full';
export const SUITE_MODES: readonly SuiteMode[] = ['quick', 'full'];

export type AnyKernelRun = KernelRun | CommandKernelRun;

export interface SuiteCase {
  /** unique, readable: 'stream-copy ws=4MiB' */
  id: string;
  family: string;
  prepare(ctx: GpuContext): Promise<AnyKernelRun>;
  /** overrides of the suite's timing options for this case */
  timing?: TimingOptions;
  /**
   * Time the kernel over cold copies of its inputs (src/calibrate/copies.ts), as a model step
   * reads weights and KV cache once per layer: decode GEMMs and decode attention.
   */
  coldCopies?: boolean;
}

export interface CaseResult {
  id: string;
  family: string;
  measurement?: Measurement;
  /** why the case produced no measurement (preparation failed, or verification failed) */
  error?: string;
  /** wall time of the whole case: prepare, verify, time */
  elapsedS?: number;
}

export interface PlanTools {
  /** runs a case now (verify, then time); its measurement is kept in the profile */
  measure(c: SuiteCase): Promise<CaseResult>;
  /** progress label while planning */
  note(label: string): void;
  /** measure f16 points in the quick suite too (RunSuiteOptions.f16) */
  f16?: boolean;
}

/**
 * The dtypes the GEMM, attention and small-kernel families measure: f16 as well on a shader-f16
 * adapter in the full suite, or in the quick one where asked (an f16 selfcheck calibrating first).
 */
export function suiteDtypes(ctx: GpuContext, mode: SuiteMode, tools: Pick<PlanTools, 'f16'>): KernelDtype[] {
  return ctx.hasF16 && (mode === 'full' || tools.f16) ? ['f32', 'f16'] : ['f32'];
}

export interface SuiteFamily {
  name: string;
  plan(ctx: GpuContext, mode: SuiteMode, tools: PlanTools): Promise<SuiteCase[]>;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export function formatBytes(bytes: number): string {
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB}MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB}KiB`;
  return `${bytes}B`;
}

const fmaFamily: SuiteFamily = {
  name: 'fma',
  async plan(ctx, mode) {
    const dtypes = ctx.hasF16 ? (['f32', 'f16'] as const) : (['f32'] as const);
    const threads = mode === 'quick' ? [4096, 16384] : [1024, 4096, 16384, 65536];
    const iters = 256;
    return dtypes.flatMap((dtype) =>
      threads.map((t) => ({
        id: `fma-${dtype} threads=${t}`,
        family: 'fma',
        prepare: (c: GpuContext) => prepareFma(c, { threads: t, iters }, dtype),
      })),
    );
  },
};

/** FMAs per element: intensity 0.25 .. 256 FLOP/byte in f32. */
export function mixbenchPoints(mode: SuiteMode): number[] {
  return mode === 'quick' ? [1, 4, 16, 64, 256, 1024] : [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024];
}

const mixbenchFamily: SuiteFamily = {
  name: 'mixbench',
  async plan(ctx, mode) {
    const dtypes = mode === 'full' && ctx.hasF16 ? (['f32', 'f16'] as const) : (['f32'] as const);
    // 16 MiB arrays at low intensity; fewer elements at high intensity so one run stays ~1e8 flops
    const maxElems = (mode === 'quick' ? 8 : 16) * MiB / 16;
    return dtypes.flatMap((dtype) =>
      mixbenchPoints(mode).map((fmas) => {
        const elems = Math.max(256, Math.min(maxElems, Math.floor(1.2e8 / (8 * fmas) / 256) * 256));
        return {
          id: `mixbench-${dtype} fmas=${fmas}`,
          family: 'mixbench',
          prepare: (c: GpuContext) => prepareMixbench(c, { elems, fmas }, dtype),
        };
      }),
    );
  },
};

const ARRAYS: Record<StreamOp, number> = { copy: 2, read: 1, write: 1, triad: 3 };

/** Working sets (all arrays together) of the bandwidth sweep, capped by the adapter's buffer limits. */
export function streamWorkingSets(ctx: GpuContext, mode: SuiteMode): number[] {
  const perArray = Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize);
  const cap = Math.min(2 * perArray, mode === 'quick' ? 128 * MiB : 512 * MiB);
  const sizes: number[] = [];
  const factor = mode === 'quick' ? 8 : 2;
  for (let ws = 64 * KiB; ws <= cap; ws *= factor) sizes.push(ws);
  if (sizes[sizes.length - 1] < cap) sizes.push(cap);
  return sizes;
}

/** f32 values per array for an op at a working set, a multiple of 4 (vec4 variants) within the limit. */
function streamElems(ctx: GpuContext, op: StreamOp, ws: number): number {
  const perArray = Math.min(ctx.device.limits.maxStorageBufferBindingSize, ctx.device.limits.maxBufferSize);
  const bytes = Math.min(perArray, Math.floor(ws / ARRAYS[op] / 16) * 16);
  return bytes / 4;
}

const streamFamily: SuiteFamily = {
  name: 'stream',
  async plan(ctx, mode, tools) {
    // Tune: copy on a large set with every variant; keep the fastest (by best repeat: robust on a
    // shared machine). The tuning runs are kept as measurements of their variants.
    const tuneWs = mode === 'quick' ? 32 * MiB : 128 * MiB;
    const candidates = mode === 'quick' ? STREAM_VARIANTS.filter((_, i) => i % 2 === 0 || i === 1) : STREAM_VARIANTS;
    let best: { v: StreamVariant; rate: number } | null = null;
    for (const v of candidates) {
      tools.note(`tuning stream ${variantName(v)}`);
      const r = await tools.measure({
        id: `stream-copy tune ${variantName(v)}`,
        family: 'stream',
        prepare: async (c) => {
          const run = await prepareStream(c, 'copy', { elems: streamElems(c, 'copy', tuneWs) }, v);
          run.shape = { ...run.shape, tuning: 1 };
          return run;
        },
      });
      if (r.measurement) {
        const rate = r.measurement.bytes / r.measurement.minSeconds;
        if (!best || rate > best.rate) best = { v, rate };
      }
    }
    const variant = best?.v ?? STREAM_VARIANTS[1];
    const cases: SuiteCase[] = [];
    for (const ws of streamWorkingSets(ctx, mode)) {
      for (const op of STREAM_OPS) {
        cases.push({
          id: `stream-${op} ws=${formatBytes(ws)}`,
          family: 'stream',
          prepare: (c) => prepareStream(c, op, { elems: streamElems(c, op, ws) }, variant),
        });
      }
      cases.push({
        id: `copy-buffer-to-buffer ws=${formatBytes(ws)}`,
        family: 'stream',
        prepare: (c) => prepareBufferCopy(c, { elems: streamElems(c, 'copy', ws) }),
      });
    }
    return cases;
  },
};

const dispatchFamily: SuiteFamily = {
  name: 'dispatch',
  async plan(_ctx, mode) {
    const counts = mode === 'quick' ? [1, 16] : [1, 4, 16, 64];
    return counts.map((dispatches) => ({
      id: `dispatch-empty x${dispatches}`,
      family: 'dispatch',
      prepare: (c: GpuContext) => prepareDispatch(c, { workgroups: 1, dispatches }),
      timing: { maxIterationsPerPass: Math.max(1, Math.floor(2048 / dispatches)) },
    }));
  },
};

/** The families that set the profile's ceilings; every calibration runs them. */
export const CORE_FAMILIES: SuiteFamily[] = [fmaFamily, mixbenchFamily, streamFamily, dispatchFamily];

/**
 * Every family, in run order. To add a kernel family: write src/calibrate/families/<name>.ts
 * exporting a SuiteFamily (plan its cases per mode; tune through tools.measure if it has variants)
 * and list it here. The family modules import their kernels themselves (attention lazily).
 */
export async function loadFamilies(names?: string[]): Promise<SuiteFamily[]> {
  const { elementwiseFamily } = await import('./families/elementwise.js');
  const { gemmFamily } = await import('./families/gemm.js');
  const { attentionPrefillFamily, attentionDecodeFamily } = await import('./families/attention.js');
  const families = [...CORE_FAMILIES, elementwiseFamily, gemmFamily, attentionPrefillFamily, attentionDecodeFamily];
  if (!names) return families;
  const unknown = names.filter((n) => !families.some((f) => f.name === n));
  if (unknown.length) throw new Error(`unknown kernel families: ${unknown.join(', ')}`);
  return families.filter((f) => names.includes(f.name));
}
