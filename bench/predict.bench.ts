/**
 * Predictor speed: full predict() evaluations per second (8B and the 126-layer 405B) and stepCost
 * calls per second. Each task runs a block of calls per iteration so that timer overhead does not
 * dominate microsecond-scale calls; rates below are calls per second (ops/s x block).
 * Standalone: `npx tsx bench/predict.bench.ts`; bench/run.ts may import addPredictBenchmarks.
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { getModel } from '../src/models/index.js';
import { resolveTarget } from '../src/perf/target.js';
import { createPredictor, evaluate, predict } from '../src/perf/predict.js';
import { createCostContext, stepCost } from '../src/perf/cost.js';
import type { StepBatch, Workload } from '../src/perf/types.js';

/** calls made per benchmark iteration */
export const PREDICT_BLOCK = 1000;

let sink = 0;

export function addPredictBenchmarks(bench: Bench): void {
  const h100 = resolveTarget({ gpu: 'h100-sxm' });
  const l8b = getModel('llama-3.1-8b');
  const l405 = getModel('llama-3.1-405b');
  const w8: Workload = { batch: 1, inputTokens: 1024, outputTokens: 128, weightDtype: 'bf16', kvDtype: 'bf16' };
  const w405: Workload = { batch: 1, inputTokens: 1024, outputTokens: 128, weightDtype: 'fp8', kvDtype: 'fp8' };
  const p8 = createPredictor({ model: l8b, target: h100, engine: 'vllm', weightDtype: 'bf16', kvDtype: 'bf16' });
  const p405 = createPredictor({ model: l405, target: h100, engine: 'vllm', tp: 8, weightDtype: 'fp8', kvDtype: 'fp8' });
  // vary the workload a little each call so nothing is constant-folded
  bench.add(`predict latency, llama-3.1-8b, with breakdown (x${PREDICT_BLOCK})`, () => {
    for (let i = 0; i < PREDICT_BLOCK; i++) sink += evaluate(p8, { ...w8, inputTokens: 512 + i }, 'latency', true).e2eS;
  });
  bench.add(`predict latency, llama-3.1-405b tp8 fp8, with breakdown (x${PREDICT_BLOCK})`, () => {
    for (let i = 0; i < PREDICT_BLOCK; i++) sink += evaluate(p405, { ...w405, inputTokens: 512 + i }, 'latency', true).e2eS;
  });
  bench.add(`predict latency, llama-3.1-405b tp8 fp8, no breakdown (x${PREDICT_BLOCK})`, () => {
    for (let i = 0; i < PREDICT_BLOCK; i++) sink += evaluate(p405, { ...w405, inputTokens: 512 + i }, 'latency', false).e2eS;
  });
  bench.add(`predict() one-shot incl. context, llama-3.1-8b (x${PREDICT_BLOCK / 10})`, () => {
    for (let i = 0; i < PREDICT_BLOCK / 10; i++) {
      sink += predict({ model: l8b, target: h100, engine: 'vllm', workload: { ...w8, outputTokens: 64 + i }, breakdown: false }).e2eS;
    }
  });
  bench.add(`predict throughput mode, llama-3.1-8b (x${PREDICT_BLOCK / 10})`, () => {
    for (let i = 0; i < PREDICT_BLOCK / 10; i++) sink += evaluate(p8, { ...w8, outputTokens: 64 + i }, 'throughput', false).outputTokensPerS;
  });
  const ctx8 = createCostContext({ model: l8b, target: h100, engine: 'vllm' });
  const mixed: StepBatch = {
    prefill: [{ tokens: 512, pastTokens: 1024 }],
    decode: Array.from({ length: 32 }, (_, i) => ({ pastTokens: 500 + 37 * i })),
  };
  bench.add(`stepCost, llama-3.1-8b, 1 prefill chunk + 32 decodes (x${PREDICT_BLOCK})`, () => {
    for (let i = 0; i < PREDICT_BLOCK; i++) sink += stepCost(ctx8, mixed).seconds;
  });
  const single: StepBatch = { prefill: [], decode: [{ pastTokens: 1000 }] };
  bench.add(`stepCost, llama-3.1-8b, one decode (x${PREDICT_BLOCK})`, () => {
    for (let i = 0; i < PREDICT_BLOCK; i++) sink += stepCost(ctx8, single).seconds;
  });
}

/** calls per iteration of a task, read back from its name */
function blockOf(name: string): number {
  const m = /\(x(\d+)\)$/.exec(name);
  return m ? Number(m[1]) : 1;
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 1500, warmupTime: 300 });
  addPredictBenchmarks(bench);
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as { throughput?: { mean: number } } | undefined;
    const perS = (r?.throughput?.mean ?? 0) * blockOf(t.name);
    return { task: t.name, 'calls/s': Math.round(perS).toLocaleString('en-US'), 'us/call': (1e6 / perS).toFixed(2) };
  });
  console.table(rows);
  if (sink === 42) console.log('');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
