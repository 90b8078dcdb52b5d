/**
 * `npm run bench [-- NAME ...]`: runs the tinybench suites listed in SUITES (all, or the named ones),
 * each in its own Bench, and prints one table per suite. GPU suites share one device.
 *
 * To add a suite: write bench/<name>.bench.ts exporting `add<Name>Benchmarks(bench, ctx?)` (it adds
 * tasks and may return a cleanup function), then add one line to SUITES below.
 */
import { Bench } from 'tinybench';
import type { GpuContext } from '../src/gpu/device.js';

interface BenchSuite {
  name: string;
  /** module path relative to this file, and the function it exports */
  module: string;
  exportName: string;
  /** needs the WebGPU device (passed as the second argument) */
  gpu: boolean;
  /** tinybench time per task, ms */
  timeMs?: number;
}

type AddBenchmarks = (bench: Bench, ctx?: GpuContext) => void | (() => void) | Promise<void | (() => void)>;

export const SUITES: BenchSuite[] = [
  { name: 'kernels', module: './kernels.js', exportName: 'addKernelBenchmarks', gpu: true },
  { name: 'fits', module: './kernels.js', exportName: 'addFitBenchmarks', gpu: false },
  { name: 'gemm', module: './gemm.bench.js', exportName: 'addGemmBenchmarks', gpu: true },
  { name: 'attention', module: './attention.bench.js', exportName: 'addAttentionBenchmarks', gpu: true },
  { name: 'predict', module: './predict.bench.js', exportName: 'addPredictBenchmarks', gpu: false },
  { name: 'agents', module: './agents.bench.js', exportName: 'addAgentBenchmarks', gpu: false },
  { name: 'serving', module: './serving.bench.js', exportName: 'addServingBenchmarks', gpu: false },
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const unknown = wanted.filter((w) => !SUITES.some((s) => s.name === w));
  if (unknown.length) {
    console.error(`bench: unknown suites ${unknown.join(', ')}; known: ${SUITES.map((s) => s.name).join(', ')}`);
    process.exit(2);
  }
  const suites = wanted.length ? SUITES.filter((s) => wanted.includes(s.name)) : SUITES;
  let ctx: GpuContext | undefined;
  let failed = false;
  try {
    for (const suite of suites) {
      const mod = (await import(suite.module)) as Record<string, unknown>;
      const add = mod[suite.exportName] as AddBenchmarks | undefined;
      if (typeof add !== 'function') throw new Error(`${suite.module} does not export ${suite.exportName}`);
      if (suite.gpu && !ctx) {
        const { openGpu } = await import('../src/gpu/device.js');
        ctx = await openGpu();
        console.log(`adapter: ${ctx.report.description} (${ctx.report.backend}, toggles ${ctx.toggles})`);
      }
      const bench = new Bench({ time: suite.timeMs ?? 1000 });
      try {
        const cleanup = await add(bench, suite.gpu ? ctx : undefined);
        await bench.run();
        console.log(`\n## ${suite.name}`);
        console.table(bench.table());
        if (typeof cleanup === 'function') cleanup();
      } catch (err) {
        failed = true;
        console.error(`bench ${suite.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  } finally {
    ctx?.close();
  }
  // Dawn can keep the event loop alive: always exit.
  process.exit(failed ? 1 : 0);
}

await main();
