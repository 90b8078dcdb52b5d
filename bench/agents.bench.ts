/**
 * Agent simulator speed: Monte Carlo of 1,000 episodes on the study's 70B setup (Llama-3.1-70B,
 * 8x A100-40GB TP8, vLLM, HotpotQA, prefix caching on), generation and costing included, with a
 * cold step-cost cache every iteration (runMonteCarlo builds its own). Target: 1,000 LATS episodes
 * in under 1 s on one core. Standalone: `npx tsx bench/agents.bench.ts`; bench/run.ts may import
 * addAgentBenchmarks.
 */
import { Bench } from 'tinybench';
import { pathToFileURL } from 'node:url';
import { getModel } from '../src/models/index.js';
import { buildAgentTarget } from '../src/agents/setup.js';
import { runMonteCarlo } from '../src/agents/montecarlo.js';
import { accuracyFor, type WorkflowId } from '../src/agents/presets.js';

/** episodes per benchmark iteration */
export const AGENT_EPISODES = 1000;

let sink = 0;

export function addAgentBenchmarks(bench: Bench): void {
  const model = getModel('llama-3.1-70b');
  const target = buildAgentTarget({ model, gpu: 'a100-sxm4-40gb', engine: 'vllm', tp: 8 });
  for (const workflow of ['lats', 'reflexion', 'react'] as WorkflowId[]) {
    const accuracy = accuracyFor(model.id, workflow, 'hotpotqa').value;
    let seed = 1;
    bench.add(`${workflow}, llama-3.1-70b on 8x a100-sxm4-40gb, ${AGENT_EPISODES} episodes`, () => {
      const r = runMonteCarlo(
        target.sim,
        { generate: { workflow, benchmark: 'hotpotqa', accuracy } },
        { episodes: AGENT_EPISODES, seed: seed++, queriesPerDay: 71.4e6, pue: 1, prefixCaching: true },
      );
      sink += r.summary.latencyS.mean;
    });
  }
}

async function main(): Promise<void> {
  const bench = new Bench({ time: 3000, warmupTime: 500, iterations: 3 });
  addAgentBenchmarks(bench);
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as { latency?: { mean: number; min: number }; throughput?: { mean: number } } | undefined;
    const ms = r?.latency?.mean ?? NaN;
    return { task: t.name, 'ms per 1000 episodes (mean)': ms.toFixed(1), 'min ms': (r?.latency?.min ?? NaN).toFixed(1), 'episodes/s': Math.round((AGENT_EPISODES * 1000) / ms).toLocaleString('en-US') };
  });
  console.table(rows);
  if (sink === 42) console.log('');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
