import { describe, expect, it } from 'vitest';
import { causalPairs, causalTileOfVariant } from '../src/profile/causal.js';
import { fitClasses } from '../src/calibrate/profile.js';
import { targetFromProfile } from '../src/perf/target.js';
import { createCostContext, stepCost } from '../src/perf/cost.js';
import { PROFILE_SCHEMA_ID, type Measurement, type Profile } from '../src/profile/schema.js';
import { miniModelSpec, findMiniConfig } from '../src/kernels/transformer-config.js';

/** What a tiled causal kernel computes, tile by tile: every key tile up to the query tile's last row. */
function bruteTiled(t: number, p: number, window: number, br: number, bc: number): number {
  let pairs = 0;
  for (let q0 = 0; q0 < t; q0 += br) {
    const keysNeeded = new Set<number>();
    for (let r = q0; r < Math.min(t, q0 + br); r++) {
      const pos = p + r;
      for (let k = Math.max(0, pos - window + 1); k <= pos; k++) keysNeeded.add(Math.floor(k / bc));
    }
    // a key tile any row of the query tile needs is computed for all br rows
    const tiles = [...keysNeeded];
    const lo = Math.min(...tiles);
    const hi = Math.max(...tiles);
    pairs += br * (hi - lo + 1) * bc;
  }
  return pairs;
}

describe('causal work of tiled attention', () => {
  it('without a tile: the pairs under the mask', () => {
    expect(causalPairs(48, 0, Infinity)).toBe((48 * 49) / 2);
    expect(causalPairs(10, 5, Infinity)).toBe(10 * 5 + 55);
  });
  it('with a tile: the whole tiles the diagonal crosses, matching a tile-by-tile count', () => {
    // 48 tokens in 16x16 tiles: query tiles need 1, 2 and 3 key tiles of 16x16 pairs
    expect(causalPairs(48, 0, Infinity, { queryRows: 16, keys: 16 })).toBe(1536);
    for (const [t, p, win, br, bc] of [[48, 0, Infinity, 16, 16], [37, 0, Infinity, 8, 16], [100, 30, Infinity, 16, 32], [640, 0, Infinity, 16, 16], [90, 10, 40, 16, 16], [5, 200, 64, 128, 64]]) {
      expect(causalPairs(t, p, win, { queryRows: br, keys: bc }), `${t} ${p} ${win} ${br} ${bc}`).toBe(bruteTiled(t, p, win, br, bc));
    }
  });
  it('tiles cost most for short prompts and next to nothing for long ones', () => {
    const tile = { queryRows: 16, keys: 16 };
    expect(causalPairs(32, 0, Infinity, tile) / causalPairs(32, 0, Infinity)).toBeGreaterThan(1.4);
    expect(causalPairs(4096, 0, Infinity, tile) / causalPairs(4096, 0, Infinity)).toBeLessThan(1.005);
  });
  it('reads the tile from a variant name', () => {
    expect(causalTileOfVariant('pairs-br16-bc16')).toEqual({ queryRows: 16, keys: 16 });
    expect(causalTileOfVariant('lanes-br8-bc16')).toEqual({ queryRows: 8, keys: 16 });
    expect(causalTileOfVariant('sgr-4x4')).toBeNull();
    expect(causalTileOfVariant(undefined)).toBeNull();
  });
});

describe('prefill attention fitted and costed on the tiled work', () => {
  const ceilings = {
    fmaF32FlopsPerS: 4e10, fmaF16FlopsPerS: null, memoryBytesPerS: 5e9, cacheBytesPerS: null,
    copyBufferToBufferBytesPerS: 3e10, dispatchOverheadS: 2e-6,
  };
  const tile = { queryRows: 16, keys: 16 };
  // a kernel that runs at 40% of the ceiling on the pairs it computes, whatever the length
  const point = (seq: number, variant = 'pairs-br16-bc16'): Measurement => {
    const useful = 4 * 64 * 8 * causalPairs(seq, 0, Infinity);
    const executed = 4 * 64 * 8 * causalPairs(seq, 0, Infinity, tile);
    const seconds = executed / (4e10 * 0.4);
    return { kernel: 'attention-prefill', kernelClass: 'attention-prefill', shape: { seq, numHeads: 8, numKvHeads: 2, headDim: 64 }, dtype: 'f32',
      flops: useful, bytes: seq * 64 * 20 * 4, seconds, minSeconds: seconds, repeats: 5, relError: 1e-6, verified: true, variant };
  };
  const seqs = [32, 64, 128, 256, 1024];

  it('the fit records the tile and finds the kernel rate without a ramp', () => {
    const fit = fitClasses(seqs.map((s) => point(s)), ceilings)['attention-prefill'];
    expect(fit.causalTile).toEqual(tile);
    expect(fit.effMax).toBeCloseTo(0.4, 3);
    expect(fit.fixedS).toBeLessThan(1e-7);
    expect(fit.rmsRelError).toBeLessThan(1e-6);
    // mixed tiles: no single tile, the exact pairs are kept
    const mixed = fitClasses([...seqs.slice(1).map((s) => point(s)), point(32, 'lanes-br8-bc16')], ceilings)['attention-prefill'];
    expect(mixed.causalTile).toBeUndefined();
  });

  it('the predictor costs a short prompt on the tiled work, a long one almost as before', () => {
    const fit = fitClasses(seqs.map((s) => point(s)), ceilings)['attention-prefill'];
    const profile: Profile = {
      schema: PROFILE_SCHEMA_ID,
      device: { vendor: 'mesa', architecture: 'software', description: 'test', backend: 'vulkan', features: [], subgroupMatrixConfigs: [], limits: { maxBufferSize: 2 ** 31 } },
      toggles: 'throughput', timing: 'timestamp-query', createdAt: '2026-12-03T00:00:00Z',
      ceilings, measurements: [], fits: { 'attention-prefill': fit },
    };
    const untiled: Profile = { ...profile, fits: { 'attention-prefill': { ...fit, causalTile: undefined } } };
    const model = miniModelSpec(findMiniConfig('narrow-deep'));
    const attn = (p: Profile, tokens: number) => {
      const ctx = createCostContext({ model, target: targetFromProfile(p), engine: 'webgpu', weightDtype: 'fp32', kvDtype: 'fp32' });
      const ops = stepCost(ctx, { prefill: [{ tokens, pastTokens: 0 }], decode: [] }, { breakdown: true }).ops;
      return ops.find((o) => o.op === 'attention_prefill')!;
    };
    // narrow-deep: 3 heads of 64, 48 tokens: 1536 / 1176 pairs computed
    expect(attn(profile, 48).flops / attn(untiled, 48).flops).toBeCloseTo(1536 / 1176, 6);
    expect(attn(profile, 48).seconds).toBeGreaterThan(1.2 * attn(untiled, 48).seconds);
    expect(attn(profile, 4096).seconds / attn(untiled, 4096).seconds).toBeLessThan(1.01);
  });
});
