import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GpuContext } from './device.js';

// src/gpu/pipeline.ts and dist/gpu/pipeline.js both sit two levels below the repo root.
const SHADER_DIR = fileURLToPath(new URL('../../shaders/', import.meta.url));
const cache = new Map<string, string>();

/** Reads shaders/<name>.wgsl (cached). */
export function loadWgsl(name: string): string {
  let code = cache.get(name);
  if (code === undefined) {
    code = readFileSync(`${SHADER_DIR}${name}.wgsl`, 'utf8');
    cache.set(name, code);
  }
  return code;
}

const modules = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

function shaderModule(ctx: GpuContext, code: string): GPUShaderModule {
  let perDevice = modules.get(ctx.device);
  if (!perDevice) modules.set(ctx.device, (perDevice = new Map()));
  let module = perDevice.get(code);
  if (!module) {
    module = ctx.device.createShaderModule({ code });
    perDevice.set(code, module);
  }
  return module;
}

/** A compute pipeline with layout 'auto'; `constants` set the WGSL `override` values. */
export function createPipeline(
  ctx: GpuContext,
  code: string,
  constants?: Record<string, number>,
  entryPoint = 'main',
): GPUComputePipeline {
  return ctx.device.createComputePipeline({
    layout: 'auto',
    compute: { module: shaderModule(ctx, code), entryPoint, ...(constants ? { constants } : {}) },
  });
}

/**
 * Like createPipeline, but waits for compilation and throws the shader's error message, so a bad
 * shader or an unsupported override fails loudly instead of leaving outputs poisoned.
 */
export async function createPipelineChecked(
  ctx: GpuContext,
  code: string,
  constants?: Record<string, number>,
  entryPoint = 'main',
): Promise<GPUComputePipeline> {
  // Compiling is slow on a CPU adapter (hundreds of ms): reuse pipelines within a device.
  let perDevice = pipelines.get(ctx.device);
  if (!perDevice) pipelines.set(ctx.device, (perDevice = new Map()));
  const key = `${entryPoint}\u0000${JSON.stringify(constants ?? {})}\u0000${code}`;
  let pending = perDevice.get(key);
  if (!pending) {
    pending = compileChecked(ctx, code, constants, entryPoint);
    perDevice.set(key, pending);
    pending.catch(() => perDevice.delete(key));
  }
  return pending;
}

const pipelines = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

async function compileChecked(
  ctx: GpuContext,
  code: string,
  constants: Record<string, number> | undefined,
  entryPoint: string,
): Promise<GPUComputePipeline> {
  ctx.device.pushErrorScope('validation');
  const module = shaderModule(ctx, code);
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((m) => m.type === 'error');
  if (errs.length) {
    await ctx.device.popErrorScope();
    throw new Error(`WGSL error: ${errs.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ')}`);
  }
  let pipeline: GPUComputePipeline;
  try {
    pipeline = await ctx.device.createComputePipelineAsync({
      layout: 'auto',
      compute: { module, entryPoint, ...(constants ? { constants } : {}) },
    });
  } finally {
    const error = await ctx.device.popErrorScope();
    if (error) throw new Error(`pipeline error: ${error.message}`);
  }
  return pipeline;
}

/** A bind group where binding i is buffers[i]. */
/** A whole buffer, or a range of one (offset a multiple of the device's storage offset alignment). */
export type BufferRange = GPUBuffer | GPUBufferBinding;

export function bindBuffers(ctx: GpuContext, pipeline: GPUComputePipeline, buffers: BufferRange[], group = 0): GPUBindGroup {
  return ctx.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(group),
    entries: buffers.map((b, binding) => ({ binding, resource: 'buffer' in b ? b : { buffer: b } })),
  });
}
