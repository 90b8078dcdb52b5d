import { availableParallelism } from 'node:os';
import { create, globals } from 'webgpu';
import { UserError } from '../errors.js';

/**
 * Which Dawn toggles a run uses. 'throughput' is the microbenchmark set (ONNX Runtime's WebGPU
 * backend set, no robustness, no workgroup zero-init); 'browser-like' is Chrome's defaults with only
 * timestamp quantization off. Source: shared reference webgpu-dawn.md ("Toggles for throughput runs").
 */
export type ToggleSet = 'throughput' | 'browser-like';
export const TOGGLE_SETS: readonly ToggleSet[] = ['throughput', 'browser-like'];

export interface OpenGpuOptions {
  backend?: string;
  /** substring of the adapter name */
  adapter?: string;
  /** default 'throughput' */
  toggles?: ToggleSet;
}

export interface AdapterReport {
  vendor: string;
  architecture: string;
  description: string;
  backend: string;
  driver?: string;
  features: string[];
  limits: Record<string, number>;
  subgroupMinSize: number | null;
  subgroupMaxSize: number | null;
  subgroupMatrixConfigs: Record<string, unknown>[];
  /** worker threads of a CPU adapter (llvmpipe: LP_NUM_THREADS), where the adapter is one */
  cpuThreads?: number;
}

export interface GpuContext {
  gpu: GPU;
  adapter: GPUAdapter;
  device: GPUDevice;
  report: AdapterReport;
  toggles: ToggleSet;
  hasTimestamps: boolean;
  hasF16: boolean;
  hasSubgroups: boolean;
  /** uncaptured device errors seen so far (validation, out of memory), newest last */
  errors: string[];
  close(): void;
}

/** Optional features requested whenever the adapter has them. */
const WANTED_FEATURES = ['timestamp-query', 'shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix'];

/** Limits raised to the adapter's maximum: large buffers and big workgroups matter for the suite. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
];

export const INSTALL_HINT =
  'no WebGPU adapter found: install a Vulkan driver (on a machine without a GPU, Mesa lavapipe: `bash scripts/install-lavapipe.sh`) and set XDG_RUNTIME_DIR';

/** Dawn instance flags for a toggle set (webgpu-dawn.md: "Timing" and the throughput toggle list). */
export function dawnFlags(opts: OpenGpuOptions = {}): string[] {
  const toggles = opts.toggles ?? 'throughput';
  const flags: string[] = [];
  if (opts.backend) flags.push(`backend=${opts.backend}`);
  if (opts.adapter) flags.push(`adapter=${opts.adapter}`);
  if (toggles === 'throughput') {
    flags.push('enable-dawn-features=allow_unsafe_apis,skip_validation,disable_robustness,disable_workgroup_init');
    flags.push('disable-dawn-features=timestamp_quantization,lazy_clear_resource_on_first_use');
  } else {
    flags.push('disable-dawn-features=timestamp_quantization');
  }
  return flags;
}

let globalsInstalled = false;
function installGlobals(): void {
  if (globalsInstalled) return;
  limitSoftwareAdapterThreads();
  // GPUBufferUsage, GPUMapMode, ... are globals in a browser; dawn.node exports them.
  Object.assign(globalThis, globals);
  globalsInstalled = true;
}

/**
 * Worker threads of Mesa's CPU adapters (llvmpipe / lavapipe), unless LP_NUM_THREADS is already set:
 * one fewer than the CPU cores. While a GPU promise (mapAsync, onSubmittedWorkDone) is pending,
 * dawn.node pumps its events with setImmediate on the main thread, which then spins a whole core
 * (dawn-gpu/node-webgpu#17 describes the pump). With as many rasterizer threads as cores, the
 * kernels being timed shared the cores with that spin: on a 2-core VM a mixbench case took 5 ms
 * while the main thread slept and 10 ms while it spun, at random. Read once, by the driver, when
 * the first instance is created; other adapters ignore it.
 */
export function limitSoftwareAdapterThreads(): void {
  if (process.env.LP_NUM_THREADS === undefined) process.env.LP_NUM_THREADS = String(Math.max(1, availableParallelism() - 1));
}

/** llvmpipe's worker threads for this process (LP_NUM_THREADS), where the adapter is a Mesa CPU adapter. */
function softwareAdapterThreads(description: string): number | undefined {
  if (!/llvmpipe/i.test(description)) return undefined;
  const n = Number(process.env.LP_NUM_THREADS);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Dawn's default backend per platform, since adapter.info does not name the backend. */
function defaultBackend(): string {
  if (process.platform === 'darwin') return 'metal';
  if (process.platform === 'win32') return 'd3d12';
  return 'vulkan';
}

/** Parses Dawn's " * backend: 'vulkan', name: 'llvmpipe ...'" lines. */
export function parseAvailableAdapters(message: string): string[] {
  const out: string[] = [];
  for (const m of message.matchAll(/backend:\s*'([^']*)',\s*name:\s*'([^']*)'/g)) out.push(`${m[2]} (${m[1]})`);
  return out;
}

async function requestAdapter(gpu: GPU): Promise<GPUAdapter | null> {
  try {
    return await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (err) {
    // Dawn rejects with "no suitable backends found" plus the list when the filter matches none.
    const message = err instanceof Error ? err.message : String(err);
    const available = parseAvailableAdapters(message);
    if (available.length) throw new AdapterFilterError(available);
    const backend = /unrecognised backend '([^']*)'/.exec(message);
    if (backend) {
      const possible = [...(/Possible backends\s*:(.*)/.exec(message)?.[1] ?? '').matchAll(/'([^']+)'/g)].map((m) => m[1]);
      throw new UserError(`unknown backend '${backend[1]}'; possible backends: ${possible.join(', ')}`);
    }
    if (/no suitable backends/i.test(message)) return null;
    throw err;
  }
}

class AdapterFilterError extends Error {
  constructor(readonly available: string[]) {
    super('adapter filter matched none');
  }
}

/** Builds the adapter report (plain data, safe to print as JSON). */
export function adapterReport(adapter: GPUAdapter, backend: string): AdapterReport {
  const info = adapter.info as GPUAdapterInfo & {
    subgroupMinSize?: number;
    subgroupMaxSize?: number;
    subgroupMatrixConfigs?: Record<string, unknown>[];
    device?: string;
  };
  const limits: Record<string, number> = {};
  for (const key in adapter.limits) {
    const v = (adapter.limits as unknown as Record<string, unknown>)[key];
    if (typeof v === 'number') limits[key] = v;
  }
  const configs = (info.subgroupMatrixConfigs ?? []).map((c) => {
    const plain: Record<string, unknown> = {};
    for (const key in c) plain[key] = (c as Record<string, unknown>)[key];
    return plain;
  });
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description ?? '',
    backend,
    ...(info.device ? { driver: info.device } : {}),
    ...(softwareAdapterThreads(info.description ?? '') ? { cpuThreads: softwareAdapterThreads(info.description ?? '') } : {}),
    features: [...adapter.features].map(String).sort(),
    limits,
    subgroupMinSize: typeof info.subgroupMinSize === 'number' && info.subgroupMinSize > 0 ? info.subgroupMinSize : null,
    subgroupMaxSize: typeof info.subgroupMaxSize === 'number' && info.subgroupMaxSize > 0 ? info.subgroupMaxSize : null,
    subgroupMatrixConfigs: configs,
  };
}

/**
 * Opens an adapter and a device with every useful optional feature and the adapter's maximum
 * compute limits. Throws a one-line UserError when there is no adapter or the filter matches none.
 */
export async function openGpu(opts: OpenGpuOptions = {}): Promise<GpuContext> {
  installGlobals();
  const toggles = opts.toggles ?? 'throughput';
  let gpu: GPU;
  try {
    gpu = create(dawnFlags({ ...opts, toggles }));
  } catch (err) {
    throw new UserError(`cannot start Dawn: ${err instanceof Error ? err.message : String(err)}`);
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await requestAdapter(gpu);
  } catch (err) {
    if (err instanceof AdapterFilterError) {
      const what = opts.adapter ? `adapter '${opts.adapter}'` : 'the adapter filter';
      const backend = opts.backend ? ` on backend '${opts.backend}'` : '';
      throw new UserError(`no adapter matches ${what}${backend}; available adapters: ${err.available.join(', ')}`);
    }
    throw err;
  }
  if (!adapter) {
    if (opts.adapter || opts.backend) {
      const available = await listAdapters(toggles);
      const what = [opts.adapter && `adapter '${opts.adapter}'`, opts.backend && `backend '${opts.backend}'`].filter(Boolean).join(' on ');
      if (available.length) throw new UserError(`no adapter matches ${what}; available adapters: ${available.join(', ')}`);
    }
    throw new UserError(INSTALL_HINT);
  }
  const report = adapterReport(adapter, opts.backend ?? defaultBackend());
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) if (typeof report.limits[name] === 'number') requiredLimits[name] = report.limits[name];
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (ev) => {
    const e = (ev as GPUUncapturedErrorEvent).error;
    errors.push(e.message);
    if (errors.length > 50) errors.shift();
  });
  let closed = false;
  return {
    gpu,
    adapter,
    device,
    report,
    toggles,
    hasTimestamps: device.features.has('timestamp-query'),
    hasF16: device.features.has('shader-f16'),
    hasSubgroups: device.features.has('subgroups'),
    errors,
    close() {
      if (closed) return;
      closed = true;
      device.destroy();
    },
  };
}

/** Names of the adapters Dawn offers (asks with a filter that matches nothing). */
export async function listAdapters(toggles: ToggleSet = 'throughput'): Promise<string[]> {
  installGlobals();
  const gpu = create(dawnFlags({ adapter: '\u0001no-such-adapter\u0001', toggles }));
  try {
    const a = await gpu.requestAdapter();
    return a ? [a.info.description] : [];
  } catch (err) {
    return parseAvailableAdapters(err instanceof Error ? err.message : String(err));
  }
}

/** kebab-case slug of an adapter description, for file names. */
export function adapterSlug(report: Pick<AdapterReport, 'description' | 'driver'>): string {
  const name = report.driver || report.description || 'adapter';
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'adapter';
}
