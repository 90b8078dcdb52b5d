/** Helpers shared by kernel modules: seeded random inputs and comparison with a float64 reference. */

/** A small seeded PRNG (mulberry32) so failing inputs can be reproduced from the seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A fresh seed per call, so every run verifies on new inputs (the seed is reported on failure). */
export function freshSeed(): number {
  return (Math.random() * 2 ** 32) >>> 0;
}

/** n values uniform in [lo, hi), never all zero. */
export function randomFloat32(n: number, rng: () => number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * rng();
  return out;
}

/**
 * Largest relative error of `got` against the float64 `want`, with an absolute floor of 1e-3 of the
 * largest magnitude in `scaleOf` (by default the reference itself) so that elements near zero do not
 * dominate. NaN or a poisoned (never written) element gives Infinity.
 */
export function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>, scaleOf: ArrayLike<number> = want): number {
  if (got.length !== want.length) return Infinity;
  let scale = 0;
  for (let i = 0; i < scaleOf.length; i++) scale = Math.max(scale, Math.abs(scaleOf[i]));
  const floor = Math.max(scale * 1e-3, 1e-30);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    if (!Number.isFinite(g)) return Infinity;
    const err = Math.abs(g - want[i]) / Math.max(Math.abs(want[i]), floor);
    if (err > worst) worst = err;
  }
  return worst;
}

/**
 * Largest |got - want| / scale over the elements, where scale[i] is the magnitude of the terms that
 * produced element i (e.g. |A| x |B| for a GEMM). Unlike a plain relative error it stays meaningful
 * for elements that cancel to near zero. NaN or a poisoned (never written) element gives Infinity.
 */
export function maxScaledError(got: ArrayLike<number>, want: ArrayLike<number>, scale: ArrayLike<number>): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    if (!Number.isFinite(g)) return Infinity;
    const err = Math.abs(g - want[i]) / Math.max(scale[i], 1e-30);
    if (err > worst) worst = err;
  }
  return worst;
}

/** Relative tolerance for a dtype's results against the float64 reference. */
export function tolerance(dtype: 'f32' | 'f16'): number {
  return dtype === 'f32' ? 1e-4 : 1e-2;
}

// one scratch word for toHalfBits (allocating it per call made f16 uploads of MBs take seconds)
const halfScratchF32 = new Float32Array(1);
const halfScratchU32 = new Uint32Array(halfScratchF32.buffer);

/** Converts a float to IEEE half bits (round to nearest even, from its f32 value). */
export function toHalfBits(value: number): number {
  halfScratchF32[0] = value;
  const x = halfScratchU32[0];
  const sign = (x >>> 16) & 0x8000;
  let exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Converts IEEE half bits to a number. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Rounds every value of `data` to f16 precision and returns the half bits. */
export function toHalfArray(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toHalfBits(data[i]);
  return out;
}

/** The value as f16 holds it (rounded to nearest even from its f32 value, as the GPU converts). */
export function roundToHalf(value: number): number {
  return fromHalfBits(toHalfBits(value));
}

/** `data` as a buffer of the dtype holds it: f32 as is, f16 as half bits. */
export function encodeAs(data: Float32Array, dtype: 'f32' | 'f16'): Float32Array | Uint16Array {
  return dtype === 'f16' ? toHalfArray(data) : data;
}

/** Bytes read back from a buffer of the dtype, as numbers (f16 values are exact in f32). */
export function decodeFrom(raw: ArrayBuffer, dtype: 'f32' | 'f16'): Float32Array {
  return dtype === 'f16' ? Float32Array.from(fromHalfArray(new Uint16Array(raw))) : new Float32Array(raw);
}

export function fromHalfArray(bits: Uint16Array): Float64Array {
  const out = new Float64Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = fromHalfBits(bits[i]);
  return out;
}
