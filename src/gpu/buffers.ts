import type { GpuContext } from './device.js';

/** GPUBufferUsage / GPUMapMode bit values (WebGPU spec), usable before dawn.node's globals exist. */
export const Usage = {
  MAP_READ: 0x0001,
  MAP_WRITE: 0x0002,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  UNIFORM: 0x0040,
  STORAGE: 0x0080,
  QUERY_RESOLVE: 0x0200,
} as const;
export const MAP_READ_MODE = 0x0001;

export const DEFAULT_USAGE = Usage.STORAGE | Usage.COPY_SRC | Usage.COPY_DST;

/** f32 quiet NaN: a poisoned element that was never written fails every comparison. */
export const POISON_F32 = 0x7fc00000;
/** two f16 NaNs per 32-bit word */
export const POISON_F16 = 0x7e007e00;

/** Buffer sizes must be multiples of 4 for writes and copies. */
function align4(bytes: number): number {
  return Math.max(4, Math.ceil(bytes / 4) * 4);
}

export function createBuffer(ctx: GpuContext, bytes: number, usage: number = DEFAULT_USAGE): GPUBuffer {
  return ctx.device.createBuffer({ size: align4(bytes), usage });
}

/** A new buffer holding `data` (written at creation, no staging copy). */
export function uploadBuffer(ctx: GpuContext, data: ArrayBufferView, usage: number = DEFAULT_USAGE): GPUBuffer {
  const buffer = ctx.device.createBuffer({ size: align4(data.byteLength), usage, mappedAtCreation: true });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  return buffer;
}

/** Copies `bytes` (default: the whole buffer) to a staging buffer and returns them. */
export async function readBuffer(ctx: GpuContext, buffer: GPUBuffer, bytes: number = buffer.size): Promise<ArrayBuffer> {
  const size = align4(bytes);
  const staging = ctx.device.createBuffer({ size, usage: Usage.MAP_READ | Usage.COPY_DST });
  try {
    const encoder = ctx.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
    ctx.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_READ_MODE);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    return out;
  } finally {
    staging.destroy();
  }
}

/** Fills the first `bytes` of `buffer` with a 32-bit pattern (NaN by default) before a verify run. */
export function poisonBuffer(ctx: GpuContext, buffer: GPUBuffer, bytes: number = buffer.size, pattern = POISON_F32): void {
  const total = align4(Math.min(bytes, buffer.size));
  const chunkBytes = Math.min(total, 16 << 20);
  const chunk = new Uint32Array(chunkBytes / 4).fill(pattern >>> 0);
  for (let offset = 0; offset < total; offset += chunkBytes) {
    const n = Math.min(chunkBytes, total - offset);
    ctx.device.queue.writeBuffer(buffer, offset, chunk, 0, n / 4);
  }
}
