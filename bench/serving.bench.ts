/**
 * Serving simulator speed: 10,000 agent sessions under Poisson load on the study's 8B setup
 * (Llama-3.1-8B, 1x A100-40GB, vLLM, prefix caching and chunked prefill on), session generation,
 * arrivals and every engine step costed exactly (no step-cost cache) included.
 * Target: 10,000 sessions in under 10 s on one core.
 * Standalone: `npx tsx bench/serving.bench.ts`; bench/run.ts may import addServingBenchmarks.
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { getModel } from '../src/models/index.js';
import type { WorkflowId } from '../src/agents/presets.js';
import { buildInstance } from '../src/serving/instance.js';
import { serveAt } from '../src/serving/sweep.js';

/** sessions per benchmark iteration */
export const SERVING_SESSIONS = 10_000;

let sink = 0;
const stats: Record<string, { steps: number; meanBatch: number; llmCalls: number }> = {};

export function addServingBenchmarks(bench: Bench): void {
  const instance = buildInstance({ model: getModel('llama-3.1-8b'), gpu: 'a100-sxm4-40gb', engine: 'vllm' });
  // loads near each workload's knee on this instance (see the README's serving section)
  const cases: [WorkflowId, number][] = [
    ['react', 1.5],
    ['sharegpt', 10],
  ];
  for (const [workflow, qps] of cases) {
    let seed = 1;
    const name = `${workflow} at ${qps} QPS, llama-3.1-8b on 1x a100-sxm4-40gb, ${SERVING_SESSIONS.toLocaleString('en-US')} sessions`;
    bench.add(name, () => {
      const run = serveAt(
        {
          instance,
          source: { kind: 'generate', seed: seed++, options: { workflow, benchmark: 'hotpotqa', accuracy: 0.5 } },
          span: { sessions: SERVING_SESSIONS },
          options: { prefixCaching: true, chunkedPrefill: true },
        },
        qps,
      );
      stats[name] = { steps: run.steps, meanBatch: run.meanBatch, llmCalls: run.llmCalls };
      sink += run.latencyS.p95;
    });
  }
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 0, warmupTime: 0, warmupIterations: 1, iterations: 3 });
  addServingBenchmarks(bench);
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number; min: number } } | undefined;
    const s = stats[t.name];
    return {
      task: t.name,
      's per run (mean)': ((r?.latency?.mean ?? NaN) / 1000).toFixed(2),
      'min s': ((r?.latency?.min ?? NaN) / 1000).toFixed(2),
      'LLM calls': s?.llmCalls,
      'engine steps': s?.steps,
      'mean batch': s?.meanBatch.toFixed(1),
    };
  });
  console.table(rows);
  if (sink === 42) console.log('');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
