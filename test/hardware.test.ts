import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import {
  acceleratorIds,
  gemmEffMax,
  gemmHalfFlopsFor,
  getAccelerator,
  listAccelerators,
  peakFlopsPerS,
  referenceEfficiency,
  summarizeAccelerator,
  type Sourced,
} from '../src/hardware/index.js';
import type { Dtype } from '../src/hardware/types.js';

const DTYPES: Dtype[] = ['fp32', 'tf32', 'bf16', 'fp16', 'fp8', 'int8', 'int4'];

function expectSourced(fig: Sourced<number> | null | undefined, what: string, positive = true): void {
  expect(fig, what).toBeTruthy();
  expect(typeof fig!.source, what).toBe('string');
  expect(fig!.source.trim().length, `${what} source`).toBeGreaterThan(5);
  expect(Number.isFinite(fig!.value), what).toBe(true);
  if (positive) expect(fig!.value, what).toBeGreaterThan(0);
}

function userErrorMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as Error).message).not.toContain('\n');
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('accelerator catalog', () => {
  it('holds every id the issue requires, kebab-case and unique', () => {
    const ids = acceleratorIds();
    for (const id of ['h100-sxm', 'h100-pcie', 'h200-sxm', 'a100-sxm4-40gb', 'a100-sxm4-80gb', 'a100-pcie-80gb', 'b200', 'l40s', 'l4', 'a10g', 'mi300x', 'mi325x', 'rtx-4090']) {
      expect(ids).toContain(id);
    }
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
  });

  for (const a of listAccelerators()) {
    it(`${a.id}: every figure present, positive and sourced`, () => {
      expect(a.name.length).toBeGreaterThan(0);
      for (const d of DTYPES) {
        const p = a.peakFlopsPerS[d];
        if (p !== null) expectSourced(p, `${a.id} ${d}`);
      }
      // the cost model needs at least one 16-bit tensor rate and fp32
      expect(a.peakFlopsPerS.bf16 ?? a.peakFlopsPerS.fp16).not.toBeNull();
      expectSourced(a.peakFlopsPerS.fp32, `${a.id} fp32`);
      expectSourced(a.memoryBytes, `${a.id} memory`);
      expectSourced(a.memoryBytesPerS, `${a.id} bandwidth`);
      if (a.l2Bytes !== null) expectSourced(a.l2Bytes, `${a.id} l2`);
      expectSourced(a.interconnect.bytesPerS, `${a.id} link`);
      expectSourced(a.interconnect.latencyS, `${a.id} link latency`);
      expect(Number.isInteger(a.interconnect.maxGpus) && a.interconnect.maxGpus >= 1).toBe(true);
      expectSourced(a.tdpW, `${a.id} tdp`);
      expectSourced(a.idlePowerW, `${a.id} idle`);
      expect(a.idlePowerW.value).toBeLessThan(a.tdpW.value);
      // lower precisions never have a lower data-sheet rate than higher ones on the same part
      const rate = (d: Dtype) => a.peakFlopsPerS[d]?.value ?? 0;
      if (a.peakFlopsPerS.fp8) expect(rate('fp8')).toBeGreaterThanOrEqual(rate('bf16'));
      if (a.peakFlopsPerS.bf16) expect(rate('bf16')).toBeGreaterThanOrEqual(rate('fp32'));
    });

    it(`${a.id}: reference profile is complete, sourced and within (0, 1]`, () => {
      const r = referenceEfficiency(a.id);
      expectSourced(r.gemmEffMax.default, `${a.id} gemm default`);
      for (const d of DTYPES) {
        const e = r.gemmEffMax[d];
        if (e) {
          expectSourced(e, `${a.id} gemm ${d}`);
          expect(e.value).toBeLessThanOrEqual(1);
          expect(a.peakFlopsPerS[d], `${a.id} has an efficiency for ${d} but no peak`).not.toBeNull();
        }
      }
      expectSourced(r.gemmHalfFlops, `${a.id} gemm half`);
      expectSourced(r.memoryEffMax, `${a.id} mem eff`);
      expect(r.memoryEffMax.value).toBeLessThanOrEqual(1);
      expectSourced(r.memoryHalfBytes, `${a.id} mem half`);
      expectSourced(r.attentionEffMax, `${a.id} attention`);
      expect(r.attentionEffMax.value).toBeLessThanOrEqual(1);
      expectSourced(r.kernelLaunchS, `${a.id} launch`);
      expectSourced(r.gemmFixedS, `${a.id} gemm fixed time`);
      // a per-GEMM fixed time between 1 and 50 us: beyond that range it would not be a kernel overhead
      expect(r.gemmFixedS!.value).toBeGreaterThan(1e-6);
      expect(r.gemmFixedS!.value).toBeLessThan(50e-6);
      for (const d of DTYPES) expect(gemmEffMax(r, d)).toBeGreaterThan(0);
    });
  }
});

describe('golden figures (hardware.md)', () => {
  it('H100 SXM: 989.4 TFLOPS bf16, 3.35 TB/s, 80 GB, NVLink 450 GB/s per direction', () => {
    const h = getAccelerator('h100-sxm');
    expect(h.peakFlopsPerS.bf16!.value).toBeCloseTo(989.4e12, -9);
    expect(h.peakFlopsPerS.fp8!.value).toBeCloseTo(1978.9e12, -9);
    expect(h.memoryBytesPerS.value).toBe(3.35e12);
    expect(h.memoryBytes.value).toBe(80e9);
    expect(h.interconnect.kind).toBe('nvlink');
    expect(h.interconnect.bytesPerS.value).toBe(450e9);
    expect(h.interconnect.maxGpus).toBe(8);
    expect(h.tdpW.value).toBe(700);
    expect(h.idlePowerW.value).toBe(75);
    expect(h.peakFlopsPerS.int4).toBeNull();
  });

  it('A100 has no fp8; MI300X 1307.4 TFLOPS bf16 and 5.3 TB/s; B200 180 GB usable', () => {
    expect(getAccelerator('a100-sxm4-80gb').peakFlopsPerS.fp8).toBeNull();
    expect(() => peakFlopsPerS(getAccelerator('a100-sxm4-80gb'), 'fp8')).toThrow(UserError);
    const mi = getAccelerator('mi300x');
    expect(mi.peakFlopsPerS.bf16!.value).toBeCloseTo(1307.4e12, -9);
    expect(mi.memoryBytesPerS.value).toBe(5.3e12);
    expect(getAccelerator('b200').memoryBytes.value).toBe(180e9);
  });

  it('idle power: measured where hardware.md has it, otherwise 10% of TDP', () => {
    expect(getAccelerator('a100-sxm4-80gb').idlePowerW.value).toBe(63);
    const l4 = getAccelerator('l4');
    expect(l4.idlePowerW.value).toBeCloseTo(7.2, 9);
    expect(l4.idlePowerW.source).toMatch(/default/);
  });

  it('reference efficiencies match the measurements', () => {
    const h = referenceEfficiency('h100-sxm');
    expect(h.gemmEffMax.bf16!.value).toBeCloseTo(0.80, 2);
    expect(h.gemmEffMax.fp8!.value).toBeCloseTo(0.71, 2);
    expect(h.memoryEffMax.value).toBeCloseTo(0.87, 2);
    expect(referenceEfficiency('a100-sxm4-80gb').gemmEffMax.bf16!.value).toBeCloseTo(0.87, 2);
    expect(referenceEfficiency('a100-pcie-80gb').gemmEffMax.bf16!.value).toBeCloseTo(0.81, 2);
    expect(referenceEfficiency('b200').gemmEffMax.bf16!.value).toBeCloseTo(0.78, 2);
    expect(referenceEfficiency('mi300x').gemmEffMax.bf16!.value).toBeCloseTo(0.51, 2);
    expect(referenceEfficiency('h200-sxm').memoryEffMax.value).toBeCloseTo(0.84, 2);
    expect(referenceEfficiency('mi300x').memoryEffMax.value).toBeCloseTo(0.78, 2);
    expect(referenceEfficiency('gb200').memoryEffMax.value).toBeCloseTo(0.92, 2);
    expect(referenceEfficiency('l40s').gemmEffMax.bf16).toBeUndefined();
    expect(gemmEffMax(referenceEfficiency('l40s'), 'bf16')).toBe(0.75);
  });

  it('the small-GEMM falloff reproduces the measured points it was derived from and predicts the others', () => {
    const eff = (half: number, effMax: number, w: number) => (effMax * w) / (w + half);
    const w = (n: number) => 2 * n ** 3;
    const h = referenceEfficiency('h100-sxm');
    const fp8 = h.gemmEffMax.fp8!.value;
    // derived from: FP8 1024^3 at 274 TFLOPS
    expect(eff(h.gemmHalfFlops.value, fp8, w(1024)) * 1978.9e12).toBeCloseTo(274e12, -10);
    // not used in the derivation: 2048^3 measured 1011, 4096^3 measured 1216.9 TFLOPS (within 15%)
    expect(eff(h.gemmHalfFlops.value, fp8, w(2048)) * 1978.9e12 / 1011e12).toBeGreaterThan(0.85);
    expect(eff(h.gemmHalfFlops.value, fp8, w(4096)) * 1978.9e12 / 1216.9e12).toBeLessThan(1.15);
    const a = referenceEfficiency('a100-sxm4-80gb');
    expect(eff(a.gemmHalfFlops.value, a.gemmEffMax.fp16!.value, w(1024)) * 312e12).toBeCloseTo(119e12, -10);
    // 4096^3 measured 228 TFLOPS, 8192^3 253.7
    expect(Math.abs(eff(a.gemmHalfFlops.value, a.gemmEffMax.fp16!.value, w(4096)) * 312e12 / 228e12 - 1)).toBeLessThan(0.15);
    expect(Math.abs(eff(a.gemmHalfFlops.value, a.gemmEffMax.fp16!.value, w(8192)) * 312e12 / 253.7e12 - 1)).toBeLessThan(0.05);
  });
});

describe('per-dtype small-GEMM falloff', () => {
  it('gives back the measured half-work for the dtype it was derived from', () => {
    const h = getAccelerator('h100-sxm');
    const r = referenceEfficiency('h100-sxm');
    expect(gemmHalfFlopsFor(h, r, 'fp8') / r.gemmHalfFlops.value).toBeCloseTo(1, 9);
    const a = getAccelerator('a100-sxm4-80gb');
    const ra = referenceEfficiency('a100-sxm4-80gb');
    expect(gemmHalfFlopsFor(a, ra, 'fp16') / ra.gemmHalfFlops.value).toBeCloseTo(1, 9);
  });
  it('scales with the achieved rate of the dtype (bf16 on H100 has about 57% of the FP8 half-work)', () => {
    const h = getAccelerator('h100-sxm');
    const r = referenceEfficiency('h100-sxm');
    const ratio = gemmHalfFlopsFor(h, r, 'bf16') / gemmHalfFlopsFor(h, r, 'fp8');
    expect(ratio).toBeCloseTo(794.5 / 1402.6, 6);
    // a dtype the part lacks falls back to the single figure
    const a = getAccelerator('a100-sxm4-80gb');
    const ra = referenceEfficiency('a100-sxm4-80gb');
    expect(gemmHalfFlopsFor(a, ra, 'fp8')).toBe(ra.gemmHalfFlops.value);
  });
});

describe('unknown accelerators', () => {
  it('give a one-line UserError listing the ids and suggesting the closest', () => {
    const msg = userErrorMessage(() => getAccelerator('h100'));
    expect(msg).toMatch(/unknown accelerator 'h100' \(did you mean 'h100-sxm'\?\); known: /);
    expect(msg).toContain('mi325x');
    expect(userErrorMessage(() => referenceEfficiency('a100sxm'))).toContain("did you mean 'a100-sxm4-40gb'");
    expect(userErrorMessage(() => getAccelerator('tpu-v9'))).toMatch(/^unknown accelerator 'tpu-v9'/);
  });
});

describe('summarizeAccelerator', () => {
  it('gives the bf16 ridge point: H100 SXM about 295 FLOPs per byte, V100 falls back to fp16', () => {
    const h = summarizeAccelerator(getAccelerator('h100-sxm'));
    expect(h.bf16RidgeFlopsPerByte).toBeCloseTo(989.4e12 / 3.35e12, 6);
    expect(h.linkBytesPerS).toBe(450e9);
    expect(summarizeAccelerator(getAccelerator('v100-sxm2')).bf16FlopsPerS).toBe(125e12);
    expect(summarizeAccelerator(getAccelerator('a10g')).fp8FlopsPerS).toBeNull();
  });
});
