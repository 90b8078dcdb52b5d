import { z } from 'zod';

/**
 * The device profile: what `roofcast calibrate` measured on one adapter, and the roofline fitted
 * to it. Written by src/calibrate, read by src/perf (which never imports the calibration code).
 * Field names are a public contract: other tools read them.
 */
export const PROFILE_SCHEMA_ID = 'roofcast.profile/1';

export const DtypeSchema = z.enum(['f32', 'f16']);

export const DeviceInfoSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  description: z.string(),
  backend: z.string(),
  /** driver or adapter name as the backend reports it, where known */
  driver: z.string().optional(),
  features: z.array(z.string()),
  subgroupMinSize: z.number().int().nullable().optional(),
  subgroupMaxSize: z.number().int().nullable().optional(),
  subgroupMatrixConfigs: z.array(z.record(z.string(), z.unknown())),
  limits: z.record(z.string(), z.number()).optional(),
  /** worker threads of a CPU adapter (llvmpipe: LP_NUM_THREADS) during the run */
  cpuThreads: z.number().int().positive().optional(),
});

export const CeilingsSchema = z.object({
  fmaF32FlopsPerS: z.number().positive(),
  fmaF16FlopsPerS: z.number().positive().nullable(),
  /** sustained DRAM bandwidth (bytes read + written per second) on working sets past the caches */
  memoryBytesPerS: z.number().positive(),
  /** bandwidth on cache-resident working sets, where a cache plateau was seen */
  cacheBytesPerS: z.number().positive().nullable(),
  copyBufferToBufferBytesPerS: z.number().positive(),
  /** cost of one more dispatch inside a compute pass */
  dispatchOverheadS: z.number().nonnegative(),
  /** working-set size where bandwidth falls from the cache plateau to DRAM, where seen */
  cacheBytes: z.number().positive().nullable().optional(),
});

export const MeasurementSchema = z.object({
  kernel: z.string(),
  /** kernel class the fits group by (gemm, attention-prefill, stream, ...) */
  kernelClass: z.string().optional(),
  shape: z.record(z.string(), z.union([z.number(), z.string()])),
  dtype: DtypeSchema,
  flops: z.number().nonnegative(),
  bytes: z.number().nonnegative(),
  /** median seconds per kernel invocation */
  seconds: z.number().positive(),
  minSeconds: z.number().positive(),
  repeats: z.number().int().positive(),
  relError: z.number().nonnegative(),
  verified: z.literal(true),
  /** the variant kept (tile configuration etc.) when several were tried */
  variant: z.string().optional(),
});

/**
 * Efficiency of one kernel class as a function of its size: achieved time over roofline time.
 * Fitted as time = fixedS + rooflineS / effMax, i.e. efficiency = effMax * w / (w + halfWork)
 * where w is the kernel's work in `workUnit` (flops for compute-bound classes, bytes otherwise).
 */
export const FitSchema = z.object({
  kernelClass: z.string(),
  model: z.literal('saturating'),
  workUnit: z.enum(['flops', 'bytes']),
  effMax: z.number().positive(),
  halfWork: z.number().nonnegative(),
  fixedS: z.number().nonnegative(),
  points: z.number().int().nonnegative(),
  /** root-mean-square relative error of the fitted time over the measured points */
  rmsRelError: z.number().nonnegative(),
  /**
   * The other roof, where the class is bound by compute at some shapes and by memory at others:
   * time = fixedS + max(flops / (peak * effMax_flops), bytes / (bandwidth * effMax_bytes)).
   */
  secondary: z
    .object({ workUnit: z.enum(['flops', 'bytes']), effMax: z.number().positive(), halfWork: z.number().nonnegative() })
    .optional(),
  /**
   * Prefill attention: the tile of the kernel measured (query rows, keys). The fit's work is the
   * causal work that tiled kernel computes (src/profile/causal.ts), and the predictor counts the same.
   */
  causalTile: z.object({ queryRows: z.number().int().positive(), keys: z.number().int().positive() }).optional(),
});

/** Mean power drawn in one phase of the calibration, and what the GPU achieved meanwhile. */
export const PowerPhaseSchema = z.object({
  /** median of the samples taken in this phase, watts */
  powerW: z.number().nonnegative(),
  samples: z.number().int().positive(),
  /** median achieved fractions of the profile's DRAM bandwidth and FLOP ceiling during the phase */
  uMem: z.number().nonnegative(),
  uFlop: z.number().nonnegative(),
});

/**
 * GPU power measured by `roofcast calibrate --power`: idle before the suite, and active power while
 * compute-bound (roofline ridge and above) and memory-bound kernels ran. `model` holds the fields of
 * the energy model (src/energy/power.ts) fitted from it; absent where power could not be read.
 */
export const ProfilePowerSchema = z
  .object({
    /** the sensor read: "nvidia-smi --query-gpu=power.draw (GPU 0)", "ROOFCAST_POWER_CMD ...", ... */
    source: z.string().min(1),
    sampledAt: z.string().min(1),
    intervalS: z.number().positive(),
    /** samples attributed to a phase (idle + compute + memory) */
    samples: z.number().int().positive(),
    idleW: z.number().nonnegative(),
    computeW: z.number().positive(),
    memoryW: z.number().positive(),
    phases: z.object({ idle: PowerPhaseSchema, compute: PowerPhaseSchema, memory: PowerPhaseSchema }),
    model: z.object({
      idleW: z.number().nonnegative(),
      /** power at `computeRefUtil` of the FLOP ceiling: the model's cap (prompt-phase power) */
      tdpW: z.number().positive(),
      /** power at `memoryRefUtil` of the bandwidth ceiling (token-phase power) */
      memoryBoundW: z.number().positive(),
      memoryRefUtil: z.number().positive(),
      computeRefUtil: z.number().positive(),
    }),
    /** root-mean-square error of the model's power over the attributed active samples, watts */
    rmsErrorW: z.number().nonnegative(),
  })
  .refine((p) => p.model.idleW <= p.model.memoryBoundW && p.model.idleW <= p.model.tdpW, {
    message: 'idle power must not exceed the active powers',
    path: ['model', 'idleW'],
  });

export const ProfileSchema = z.object({
  schema: z.literal(PROFILE_SCHEMA_ID),
  device: DeviceInfoSchema,
  toggles: z.enum(['throughput', 'browser-like']),
  timing: z.enum(['timestamp-query', 'wall-clock']),
  createdAt: z.string(),
  /** how the suite was run: quick or full, roofcast version, host, notes */
  run: z.record(z.string(), z.unknown()).optional(),
  ceilings: CeilingsSchema,
  measurements: z.array(MeasurementSchema),
  fits: z.record(z.string(), FitSchema),
  /**
   * Fits of the classes measured in f16 as well as f32, on their f16 points (`fits` holds the f32
   * ones, or those of the only dtype a class was measured in): an f16 model is costed on them
   * (src/perf/target.ts, dtype 'f16'). Absent in profiles without f16 points.
   */
  dtypeFits: z.object({ f16: z.record(z.string(), FitSchema).optional() }).strict().optional(),
  /** optional extra series (bandwidth vs working set, mixbench sweep) for reports */
  series: z.record(z.string(), z.unknown()).optional(),
  /** measured GPU power (`calibrate --power`); absent: the energy model keeps the catalog's defaults */
  power: ProfilePowerSchema.optional(),
});

/** Classes the predictor costs on the f32 FMA rate in every dtype (src/perf/cost.ts, vector units). */
const VECTOR_CLASSES = new Set(['norm', 'elementwise', 'sampling']);

/**
 * The compute peak a fit's points were taken against, and that its efficiency multiplies: the one
 * the predictor applies to the class and dtype (f16: the f16 FMA rate for GEMM and attention, the
 * f32 rate for the vector classes, which src/perf/cost.ts costs on fp32 in every dtype). Calibration
 * (fitting) and target (applying) share it, so the two cannot drift apart.
 */
export function fitPeak(kernelClass: string, dtype: z.infer<typeof DtypeSchema>, c: Pick<Ceilings, 'fmaF32FlopsPerS' | 'fmaF16FlopsPerS'>): number {
  if (dtype !== 'f16' || VECTOR_CLASSES.has(kernelClass)) return c.fmaF32FlopsPerS;
  return c.fmaF16FlopsPerS ?? c.fmaF32FlopsPerS;
}

export type DeviceInfo = z.infer<typeof DeviceInfoSchema>;
export type Ceilings = z.infer<typeof CeilingsSchema>;
export type Measurement = z.infer<typeof MeasurementSchema>;
export type Fit = z.infer<typeof FitSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
export type ProfilePower = z.infer<typeof ProfilePowerSchema>;
export type PowerPhase = z.infer<typeof PowerPhaseSchema>;
