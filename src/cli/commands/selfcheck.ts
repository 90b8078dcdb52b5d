import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { openGpu } from '../../gpu/device.js';
import { readProfile, writeProfile } from '../../profile/io.js';
import type { Profile } from '../../profile/schema.js';
import { targetFromProfile } from '../../perf/target.js';
import { UserError } from '../../errors.js';
import { findMiniConfig, MINI_CONFIGS, validateMiniConfig, type MiniConfig } from '../../kernels/transformer-config.js';
import type { MachineDrift, SelfcheckResult } from '../../calibrate/selfcheck.js';
import type { KernelDtype } from '../../kernels/types.js';

// the calibration suite (mathjs fits) loads when a selfcheck runs, not at CLI start-up
const loadSelfcheck = () => import('../../calibrate/selfcheck.js');
import { formatSeconds, formatTable, oneOf, parseNonNegativeInt, parsePositiveInt, printJson } from '../util.js';

const DTYPES: readonly KernelDtype[] = ['f32', 'f16'];

interface SelfcheckOptions {
  profile?: string;
  saveProfile?: string;
  config?: string[];
  layers?: number;
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  vocab?: number;
  prompt?: number;
  decode?: number;
  repeats: number;
  seed: number;
  dtype: KernelDtype;
  adapter?: string;
  json?: boolean;
}

/** Named configurations run when none is asked for (tiny is the CI smoke size). */
const DEFAULT_CONFIGS = MINI_CONFIGS.filter((c) => c.name !== 'tiny').map((c) => c.name);

const SHAPE_FLAGS = ['layers', 'hidden', 'heads', 'kvHeads', 'ffn', 'vocab', 'prompt', 'decode'] as const;

/** The configurations to run: named ones, or one custom shape (flags over --config or tiny). */
export function configsFromOptions(opts: Pick<SelfcheckOptions, 'config' | (typeof SHAPE_FLAGS)[number]>): MiniConfig[] {
  const custom = SHAPE_FLAGS.some((k) => opts[k] !== undefined);
  const names = opts.config?.length ? opts.config : custom ? ['tiny'] : DEFAULT_CONFIGS;
  const named = names.map(findMiniConfig);
  if (!custom) return named;
  if (named.length > 1) throw new UserError('shape flags (--layers, --hidden, ...) modify one configuration: give at most one --config');
  const c: MiniConfig = { ...named[0], name: 'custom' };
  for (const k of SHAPE_FLAGS) if (opts[k] !== undefined) c[k] = opts[k]!;
  validateMiniConfig(c);
  return [c];
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}%`;

function printResult(r: SelfcheckResult): void {
  const c = r.config;
  process.stdout.write(
    `\n${c.name} (${r.dtype}): ${c.layers} layers, hidden ${c.hidden}, heads ${c.heads}/${c.kvHeads} kv, ffn ${c.ffn}, vocab ${c.vocab}, ` +
      `prompt ${c.prompt}, ${c.decode} decode steps\n`,
  );
  const rows: (string | number)[][] = [['step / operator class', 'predicted', 'measured', 'error']];
  const add = (label: string, p: number, m: number) => rows.push([label, formatSeconds(p), formatSeconds(m), pct((p - m) / m)]);
  add('prefill (TTFT)', r.prefillS.predicted, r.prefillS.measured);
  for (const o of r.ops.filter((o) => o.phase === 'prefill')) add(`  ${o.class}`, o.predictedS, o.measuredS);
  if (c.decode > 0) {
    add('decode step (mean)', r.decodeStepS.predicted, r.decodeStepS.measured);
    for (const o of r.ops.filter((o) => o.phase === 'decode')) add(`  ${o.class}`, o.predictedS, o.measuredS);
  }
  process.stdout.write(formatTable(rows) + '\n');
  process.stdout.write(
    `wall clock: prefill ${formatSeconds(r.prefillS.wallS)}, decode step ${formatSeconds(r.decodeStepS.wallS)} ` +
      `(steps measured by GPU timestamps around one pass; classes by each operator, its dispatches of every layer in turn and of cold copies as the calibration times them, repeated to a ~1 ms pass in its own timestamped pass, after an untimed one if short)\n`,
  );
}

export function registerSelfcheck(program: Command): void {
  const collect = (v: string, prev: string[] = []) => [...prev, v];
  program
    .command('selfcheck')
    .description('run a WGSL mini transformer on the local GPU and compare its measured prefill and decode time with the prediction from the local profile')
    .option('--profile <file>', 'calibrated profile of this adapter (default: run a quick calibration first)')
    .option('--save-profile <file>', 'write the quick calibration made when --profile is absent')
    .option('--config <name>', `named configuration, repeatable (${MINI_CONFIGS.map((c) => c.name).join(', ')}; default: ${DEFAULT_CONFIGS.join(', ')})`, collect)
    .option('--layers <n>', 'decoder layers', parsePositiveInt)
    .option('--hidden <n>', 'hidden size', parsePositiveInt)
    .option('--heads <n>', 'attention heads', parsePositiveInt)
    .option('--kv-heads <n>', 'KV heads (grouped-query attention)', parsePositiveInt)
    .option('--ffn <n>', 'MLP width', parsePositiveInt)
    .option('--vocab <n>', 'vocabulary size', parsePositiveInt)
    .option('--prompt <n>', 'prompt tokens (one prefill)', parsePositiveInt)
    .option('--decode <n>', 'decode steps', parseNonNegativeInt)
    .option('--repeats <n>', 'timed repeats of prefill + decode, taking turns across the configurations (median kept)', parsePositiveInt, 7)
    .option('--seed <n>', 'seed of the random weights and prompt', parseNonNegativeInt, 1)
    .option('--dtype <type>', `storage type of weights, activations and KV cache: ${DTYPES.join(' or ')} (f16 needs shader-f16 and is costed on the profile's f16 points)`, oneOf(DTYPES), 'f32')
    .option('--adapter <name>', 'substring of the adapter name')
    .option('--json', 'print JSON')
    .action(async (opts: SelfcheckOptions) => {
      const configs = configsFromOptions(opts);
      const { measureDrift, profileHostMismatch, quickProfile, relError, selfcheckConfigs } = await loadSelfcheck();
      let profile: Profile | undefined = opts.profile ? readProfile(opts.profile) : undefined;
      // a profile that cannot cost the dtype is refused before any GPU work
      if (profile) targetFromProfile(profile, { dtype: opts.dtype });
      const ctx = await openGpu({ adapter: opts.adapter, toggles: profile?.toggles ?? 'throughput' });
      if (opts.dtype === 'f16' && !ctx.hasF16) {
        const adapter = ctx.report.description || 'this adapter';
        ctx.close();
        throw new UserError(`--dtype f16 needs the shader-f16 feature, which ${adapter} lacks`);
      }
      const results: SelfcheckResult[] = [];
      const none: MachineDrift = { compute: null, memory: null };
      const drift = { before: none, after: none };
      let hostMismatch: string | null = null;
      try {
        if (!profile) {
          const bar = process.stderr.isTTY
            ? new SingleBar({ format: 'quick calibration [{bar}] {value}/{total} {label}', stream: process.stderr, hideCursor: true, clearOnComplete: true })
            : null;
          bar?.start(1, 0, { label: 'starting' });
          try {
            profile = await quickProfile(
              ctx,
              (p) => {
                bar?.setTotal(Math.max(p.total, 1));
                bar?.update(p.done, { label: p.label.slice(0, 40) });
              },
              opts.dtype === 'f16',
            );
          } finally {
            bar?.stop();
          }
          if (opts.saveProfile) writeProfile(opts.saveProfile, profile);
        }
        hostMismatch = profileHostMismatch(ctx, profile);
        if (hostMismatch) process.stderr.write(`roofcast: warning: ${hostMismatch}\n`);
        drift.before = await measureDrift(ctx, profile);
        const bar = process.stderr.isTTY
          ? new SingleBar({ format: 'selfcheck [{bar}] {value}/{total} {label}', stream: process.stderr, hideCursor: true, clearOnComplete: true })
          : null;
        bar?.start(configs.length * opts.repeats, 0, { label: `building ${configs.length} model(s)` });
        try {
          const onProgress = (p: { done: number; total: number; label: string }) => bar?.update(p.done, { label: p.label.slice(0, 40) });
          results.push(...(await selfcheckConfigs(ctx, profile, configs, { repeats: opts.repeats, seed: opts.seed, dtype: opts.dtype, onProgress })));
        } finally {
          bar?.stop();
        }
        drift.after = await measureDrift(ctx, profile);
      } finally {
        ctx.close();
      }
      if (opts.json) {
        printJson({
          device: profile.device.description,
          profileCreatedAt: profile.createdAt,
          hostMismatch,
          drift,
          results: results.map((r) => ({
            ...r,
            prefillS: { ...r.prefillS, error: relError(r.prefillS) },
            decodeStepS: { ...r.decodeStepS, error: r.config.decode > 0 ? relError(r.decodeStepS) : null },
          })),
        });
        return;
      }
      process.stdout.write(`${profile.device.description} (${profile.device.backend}); profile of ${profile.createdAt}\n`);
      const x = (r: number | null) => (r === null ? 'n/a' : `x${r.toFixed(2)}`);
      process.stdout.write(
        `speed vs the profile's (its mixbench and stream-copy cases re-timed): before compute ${x(drift.before.compute)}, memory ${x(drift.before.memory)}; after compute ${x(drift.after.compute)}, memory ${x(drift.after.memory)}\n`,
      );
      for (const r of results) printResult(r);
    });
}
