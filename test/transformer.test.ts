import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openGpu, type GpuContext } from '../src/gpu/device.js';
import { runOnce } from '../src/gpu/timing.js';
import { maxRelError } from '../src/kernels/verify.js';
import { buildGpuMiniModel } from '../src/kernels/transformer.js';
import { cpuGenerate, randomPrompt, randomWeights } from '../src/kernels/transformer-cpu.js';
import { findMiniConfig, miniModelSpec, validateMiniConfig, type MiniConfig } from '../src/kernels/transformer-config.js';
import { findConfig } from '../src/kernels/gemm.js';
import { UserError } from '../src/errors.js';

let ctx: GpuContext;
beforeAll(async () => {
  ctx = await openGpu();
});
afterAll(() => ctx?.close());

/**
 * The f16 model's logits against its reference: largest |error| over the largest |logit|. The
 * logits are f16 themselves (half an ulp is 4.9e-4 of a value), so an element-wise relative error
 * would only measure the rounding of logits near zero.
 */
function logitError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    scale = Math.max(scale, Math.abs(want[i]));
    worst = Math.max(worst, Number.isFinite(got[i]) ? Math.abs(got[i] - want[i]) : Infinity);
  }
  return worst / scale;
}

/**
 * The f16 bound. Measured on lavapipe (Xeon VM): 5.8e-4 to 7.2e-4 on tiny and the two odd shapes
 * below, 1.2e-3 to 1.7e-3 on the 10-layer narrow-deep (9 and 3 seeds); the bound leaves 3x margin.
 */
const F16_LOGIT_BOUND = 5e-3;

async function checkAgainstCpu(config: MiniConfig, seed: number, opts: Parameters<typeof buildGpuMiniModel>[3] = {}) {
  const weights = randomWeights(config, seed);
  const prompt = randomPrompt(config, seed);
  const dtype = opts.dtype ?? 'f32';
  const want = cpuGenerate(config, weights, prompt, config.decode, dtype);
  const error = dtype === 'f16' ? logitError : maxRelError;
  const model = await buildGpuMiniModel(ctx, config, weights, opts);
  try {
    model.setPrompt(prompt);
    await runOnce(ctx, model.prefill);
    const errors = [error(await model.readLogits(), want.logits[0])];
    for (let i = 0; i < config.decode; i++) {
      await runOnce(ctx, model.decode[i]);
      errors.push(error(await model.readLogits(), want.logits[i + 1]));
    }
    const tokens = Array.from(await model.readTokens()).slice(config.prompt);
    return { errors, tokens, want: want.tokens, prompt: Array.from(await model.readTokens()).slice(0, config.prompt) };
  } finally {
    model.destroy();
  }
}

describe('mini transformer on the GPU', () => {
  it('matches the float64 CPU forward pass: logits and greedy tokens', async () => {
    const config = findMiniConfig('tiny');
    const seed = (Math.random() * 2 ** 31) >>> 0;
    const r = await checkAgainstCpu(config, seed);
    expect(r.prompt).toEqual(randomPrompt(config, seed));
    for (const e of r.errors) expect(e, `seed ${seed}`).toBeLessThan(1e-3);
    expect(r.tokens, `seed ${seed}`).toEqual(r.want);
    expect(r.tokens.length).toBe(config.decode + 1);
  });

  it('matches with split-K skinny GEMMs, the nk weight layout, MHA heads and a ragged shape', async () => {
    const config: MiniConfig = { name: 'odd', layers: 1, hidden: 96, heads: 3, kvHeads: 3, ffn: 68, vocab: 131, prompt: 7, decode: 3 };
    const seed = (Math.random() * 2 ** 31) >>> 0;
    const gemm = { large: findConfig('reg-8x4-w8x1-nk'), skinny: findConfig('reg-8x4-w8x1-nk'), skinnySplit: true };
    const r = await checkAgainstCpu(config, seed, { gemm });
    for (const e of r.errors) expect(e, `seed ${seed}`).toBeLessThan(1e-3);
    expect(r.tokens, `seed ${seed}`).toEqual(r.want);
  });

  it("matches with the 'lanes' attention kernels (subgroups of 8) where the adapter has them", async () => {
    const config: MiniConfig = { name: 'odd-lanes', layers: 2, hidden: 120, heads: 6, kvHeads: 2, ffn: 96, vocab: 97, prompt: 19, decode: 4 };
    const seed = (Math.random() * 2 ** 31) >>> 0;
    const attention = { prefill: { kind: 'lanes' as const, br: 8, bc: 16 }, decode: { kind: 'lanes' as const, bk: 16, targetWorkgroups: 32 } };
    const r = await checkAgainstCpu(config, seed, { attention });
    for (const e of r.errors) expect(e, `seed ${seed}`).toBeLessThan(1e-3);
    expect(r.tokens, `seed ${seed}`).toEqual(r.want);
  });

  it('cold copies: timing steps repeat one-row GEMMs and decode attention on copied inputs; the steps stay exact', async () => {
    const config = findMiniConfig('tiny');
    const seed = (Math.random() * 2 ** 31) >>> 0;
    const asked = new Map<string, number>();
    const coldCopies = (op: string, bytes: number) => (asked.set(op, bytes), 3);
    const r = await checkAgainstCpu(config, seed, { coldCopies });
    for (const e of r.errors) expect(e, `seed ${seed}`).toBeLessThan(1e-3);
    expect(r.tokens, `seed ${seed}`).toEqual(r.want);
    const h = config.hidden;
    const hd = h / config.heads;
    expect(asked.get('qkv_proj')).toBe(config.layers * h * (h + 2 * config.kvHeads * hd) * 4);
    expect(asked.get('lm_head')).toBe(h * config.vocab * 4);

    const model = await buildGpuMiniModel(ctx, config, randomWeights(config, seed), { coldCopies });
    try {
      const count = (ds: { op: string }[], op: string) => ds.filter((d) => d.op === op).length;
      const step = model.decode[0];
      const timing = model.timing.decode[0];
      for (const op of ['qkv_proj', 'o_proj', 'gate_up_proj', 'down_proj', 'lm_head', 'attention_decode']) {
        expect(count(timing, op), op).toBe(3 * count(step, op));
      }
      for (const op of ['input_norm', 'rotary', 'silu_mul', 'sampling']) expect(count(timing, op), op).toBe(count(step, op));
      // the prefill's GEMMs have many rows (no copies); its LM head reads one row
      expect(count(model.timing.prefill, 'qkv_proj')).toBe(count(model.prefill, 'qkv_proj'));
      expect(count(model.timing.prefill, 'lm_head')).toBe(3 * count(model.prefill, 'lm_head'));
      expect(model.decode.every((d) => d.every((x) => x.copy === undefined))).toBe(true);
      // a GEMM copy computes what the original does, from its own weight buffer
      model.setPrompt(randomPrompt(config, seed));
      await runOnce(ctx, model.prefill);
      await runOnce(ctx, step);
      const logits = await model.readLogits();
      for (const j of [1, 2]) {
        await runOnce(ctx, timing.filter((d) => d.op === 'lm_head' && d.copy === j));
        expect(maxRelError(await model.readLogits(), Float64Array.from(logits))).toBeLessThan(1e-6);
      }
    } finally {
      model.destroy();
    }
  });

  describe('f16 (f16 weights, activations and KV cache; f32 arithmetic)', () => {
    const shapes: [string, MiniConfig, Parameters<typeof buildGpuMiniModel>[3]][] = [
      ['tiny', findMiniConfig('tiny'), {}],
      [
        'split-K skinny GEMMs, nk layout, MHA, ragged',
        { name: 'odd', layers: 1, hidden: 96, heads: 3, kvHeads: 3, ffn: 68, vocab: 131, prompt: 7, decode: 3 },
        { gemm: { large: findConfig('reg-8x4-w8x1-nk'), skinny: findConfig('reg-8x4-w8x1-nk'), skinnySplit: true } },
      ],
      [
        "'lanes' attention kernels",
        { name: 'odd-lanes', layers: 2, hidden: 120, heads: 6, kvHeads: 2, ffn: 96, vocab: 97, prompt: 19, decode: 4 },
        { attention: { prefill: { kind: 'lanes', br: 8, bc: 16 }, decode: { kind: 'lanes', bk: 16, targetWorkgroups: 32 } } },
      ],
    ];
    for (const [what, config, opts] of shapes) {
      it(`matches the f16-rounded CPU forward pass: logits and greedy tokens (${what})`, async (t) => {
        if (!ctx.hasF16) t.skip();
        const seed = (Math.random() * 2 ** 31) >>> 0;
        const r = await checkAgainstCpu(config, seed, { ...opts, dtype: 'f16' });
        for (const e of r.errors) expect(e, `seed ${seed}`).toBeLessThan(F16_LOGIT_BOUND);
        expect(r.tokens, `seed ${seed}`).toEqual(r.want);
      });
    }

    it('the f16 reference is not the f32 one: f16 logits sit off the float64 ones by f16 rounding', async (t) => {
      if (!ctx.hasF16) t.skip();
      const config = findMiniConfig('tiny');
      const seed = (Math.random() * 2 ** 31) >>> 0;
      const weights = randomWeights(config, seed);
      const prompt = randomPrompt(config, seed);
      const f16 = cpuGenerate(config, weights, prompt, 0, 'f16').logits[0];
      const f64 = cpuGenerate(config, weights, prompt, 0, 'f32').logits[0];
      expect(logitError(f16, f64)).toBeGreaterThan(1e-4);
      expect(logitError(f16, f64)).toBeLessThan(F16_LOGIT_BOUND);
    });

    it('refuses f16 on an adapter without shader-f16, with one line', async () => {
      const config = findMiniConfig('tiny');
      const noF16 = { ...ctx, hasF16: false } as GpuContext;
      const build = buildGpuMiniModel(noF16, config, randomWeights(config, 1), { dtype: 'f16' });
      await expect(build).rejects.toThrow(UserError);
      await expect(buildGpuMiniModel(noF16, config, randomWeights(config, 1), { dtype: 'f16' })).rejects.toThrow(/^an f16 mini model needs the shader-f16 feature[^\n]*$/);
    });
  });

  it('refuses impossible configurations with one line', () => {
    const base = findMiniConfig('tiny');
    const bad: [Partial<MiniConfig>, RegExp][] = [
      [{ heads: 3 }, /heads \(3\) do not divide hidden \(64\)/],
      [{ kvHeads: 3 }, /kv-heads \(3\) do not divide heads \(4\)/],
      [{ layers: 0 }, /--layers must be a whole number/],
      [{ hidden: 24, heads: 4, kvHeads: 2 }, /head dim .* multiple of 4/],
    ];
    for (const [patch, re] of bad) {
      const c = { ...base, ...patch };
      expect(() => validateMiniConfig(c)).toThrow(UserError);
      expect(() => validateMiniConfig(c)).toThrow(re);
      expect(() => miniModelSpec(c)).toThrow(re);
      try {
        validateMiniConfig(c);
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    }
  });
});
