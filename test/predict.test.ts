import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function roofcast(...args: string[]) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLineError(args: string[], pattern: RegExp): void {
  const r = roofcast(...args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^roofcast: /);
  expect(lines[0]).toMatch(pattern);
}

describe('roofcast predict', () => {
  it('--json has the fields the issue names', () => {
    const r = roofcast('predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    for (const k of ['ttftS', 'tpotS', 'e2eS', 'outputTokensPerS', 'batch', 'weightsBytesPerGpu', 'kvBytesPerToken', 'fits', 'breakdown']) {
      expect(j).toHaveProperty(k);
    }
    expect(j.kvBytesPerToken).toBe(131072);
    expect(j.batch).toBe(1);
    expect(j.fits).toBe(true);
    // decode of an 8B bf16 model on one H100 reads ~16 GB per token: a few ms, not microseconds or seconds
    expect(j.tpotS).toBeGreaterThan(16e9 / 3.35e12);
    expect(j.tpotS).toBeLessThan(0.02);
    for (const b of j.breakdown) expect(['compute', 'memory', 'overhead', 'communication']).toContain(b.bound);
    const pre = j.breakdown.filter((b: { phase: string }) => b.phase === 'prefill').reduce((a: number, b: { seconds: number }) => a + b.seconds, 0);
    expect(pre).toBeCloseTo(j.ttftS, 9);
  });

  it('prints a table, and the per-operator table with --breakdown', () => {
    const r = roofcast('predict', '--model', 'mixtral-8x7b', '--gpu', 'h100-sxm', '--tp', '2', '--breakdown');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/TTFT/);
    expect(r.stdout).toMatch(/experts_gate_up/);
    expect(r.stdout).toMatch(/all_reduce\s+\S+ \S+\s+\S+\s+communication/);
  });

  it('throughput mode picks a batch within memory', () => {
    const r = roofcast('predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--dtype', 'fp8', '--kv-dtype', 'fp8', '--engine', 'trtllm', '--mode', 'throughput', '--input', '128', '--output', '128', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.batch).toBeGreaterThan(64);
    expect(j.batch).toBeLessThanOrEqual(j.maxBatch);
    expect(j.fits).toBe(true);
  });

  it('reads a Hugging Face config.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-predict-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, JSON.stringify({
      architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 2048, num_hidden_layers: 16,
      num_attention_heads: 32, num_key_value_heads: 8, intermediate_size: 8192, vocab_size: 128256,
      max_position_embeddings: 131072, tie_word_embeddings: true, head_dim: 64,
    }));
    const r = roofcast('predict', '--model', file, '--gpu', 'l4', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).kvBytesPerToken).toBe(2 * 16 * 8 * 64 * 2);
  });

  it('every bad input is one line and status 2', () => {
    oneLineError(['predict', '--model', 'llama-9', '--gpu', 'h100-sxm'], /unknown model/);
    oneLineError(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h900'], /unknown accelerator/);
    oneLineError(['predict', '--model', 'llama-3.1-8b'], /--gpu/);
    oneLineError(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--batch', '0'], /greater than 0/);
    oneLineError(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--input', '-3'], /input/);
    oneLineError(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--tp', '3'], /tp 3/);
    oneLineError(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--dtype', 'fp4'], /fp4/);
    oneLineError(['predict', '--model', 'llama-3.1-8b', '--gpu', 'h100-sxm', '--engine', 'sglang'], /sglang/);
    oneLineError(['predict', '--model', 'llama-3.1-70b', '--gpu', 'h100-sxm'], /use --tp 4 or more/);
    oneLineError(['predict', '--model', 'llama-3.1-405b', '--gpu', 'h100-sxm', '--dtype', 'fp8'], /use --tp 8 or more/);
    oneLineError(['predict', '--model', 'llama-3.1-8b', '--profile', '/nonexistent/profile.json'], /cannot read profile/);
    const dir = mkdtempSync(join(tmpdir(), 'roofcast-predict-'));
    const bad = join(dir, 'config.json');
    writeFileSync(bad, JSON.stringify({ architectures: ['GPT2LMHeadModel'], model_type: 'gpt2' }));
    oneLineError(['predict', '--model', bad, '--gpu', 'h100-sxm'], /GPT2|gpt2|supported/);
    writeFileSync(bad, '{ not json');
    oneLineError(['predict', '--model', bad, '--gpu', 'h100-sxm'], /JSON|json/);
  });
});
