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
  /** optional extra series (bandwidth vs working set, mixbench sweep) for reports */
  series: z.record(z.string(), z.unknown()).optional(),
  power: z.record(z.string(), z.unknown()).optional(),
});

export type DeviceInfo = z.infer<typeof DeviceInfoSchema>;
export type Ceilings = z.infer<typeof CeilingsSchema>;
export type Measurement = z.infer<typeof MeasurementSchema>;
export type Fit = z.infer<typeof FitSchema>;
export type Profile = z.infer<typeof ProfileSchema>;
