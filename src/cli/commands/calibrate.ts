import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import { openGpu, TOGGLE_SETS, type ToggleSet } from '../../gpu/device.js';
// the suite and the fits (mathjs) load when a calibration runs, not at CLI start-up
const loadCalibration = async () => ({
  ...(await import('../../calibrate/runner.js')),
  ...(await import('../../calibrate/profile.js')),
  ...(await import('../../calibrate/power.js')),
});
import { findPowerReader, type PowerReader } from '../../energy/sampler.js';
import { readProfile, writeProfile } from '../../profile/io.js';
import type { Profile, ProfilePower } from '../../profile/schema.js';
import { UserError } from '../../errors.js';
import { formatSeconds, formatSi, formatTable, oneOf, parsePositive, printJson } from '../util.js';

const VERSION = '0.1.0';
export const DEFAULT_PROFILE_PATH = 'roofcast-profile.json';

interface CalibrateOptions {
  quick?: boolean;
  full?: boolean;
  out: string;
  adapter?: string;
  backend?: string;
  toggles: ToggleSet;
  only?: string;
  json?: boolean;
  power?: boolean;
  powerIntervalMs: number;
  f16?: boolean;
  refit?: string;
}

function powerTable(p: ProfilePower): string {
  const pct = (u: number) => `${(100 * u).toFixed(0)}%`;
  const rows: (string | number)[][] = [
    ['phase', 'power', 'samples', 'bandwidth used', 'FLOP rate used'],
    ['idle', `${p.phases.idle.powerW.toFixed(1)} W`, p.phases.idle.samples, '-', '-'],
    ['memory-bound', `${p.phases.memory.powerW.toFixed(1)} W`, p.phases.memory.samples, pct(p.phases.memory.uMem), pct(p.phases.memory.uFlop)],
    ['compute-bound', `${p.phases.compute.powerW.toFixed(1)} W`, p.phases.compute.samples, pct(p.phases.compute.uMem), pct(p.phases.compute.uFlop)],
  ];
  return (
    `power: ${p.source}, every ${Math.round(p.intervalS * 1000)} ms\n` +
    formatTable(rows, ['l', 'r', 'r', 'r', 'r']) +
    `\npower model: idle ${p.model.idleW.toFixed(1)} W, ${p.model.memoryBoundW.toFixed(1)} W at ${pct(p.model.memoryRefUtil)} of bandwidth, ` +
    `${p.model.tdpW.toFixed(1)} W at ${pct(p.model.computeRefUtil)} of FLOP/s (rms error ${p.rmsErrorW.toFixed(1)} W)`
  );
}

function summaryTable(p: Profile): string {
  const c = p.ceilings;
  const rows: (string | number)[][] = [
    ['ceiling', 'measured'],
    ['FMA f32', formatSi(c.fmaF32FlopsPerS, 'FLOP/s')],
    ['FMA f16', c.fmaF16FlopsPerS ? formatSi(c.fmaF16FlopsPerS, 'FLOP/s') : '-'],
    ['memory bandwidth (DRAM plateau)', formatSi(c.memoryBytesPerS, 'B/s')],
    ['cache bandwidth', c.cacheBytesPerS ? formatSi(c.cacheBytesPerS, 'B/s') : '- (no plateau seen)'],
    ['cache size (where it falls)', c.cacheBytes ? formatSi(c.cacheBytes, 'B') : '-'],
    ['copyBufferToBuffer', formatSi(c.copyBufferToBufferBytesPerS, 'B/s')],
    ['dispatch overhead', formatSeconds(c.dispatchOverheadS)],
  ];
  const fits: (string | number)[][] = [['class', 'unit', 'effMax', 'fixed', 'points', 'rms err']];
  const fitRow = (f: Profile['fits'][string], dtype: string) =>
    fits.push([`${f.kernelClass}${dtype}`, f.workUnit, f.effMax.toFixed(3), formatSeconds(f.fixedS), f.points, `${(100 * f.rmsRelError).toFixed(1)}%`]);
  for (const f of Object.values(p.fits)) fitRow(f, '');
  for (const f of Object.values(p.dtypeFits?.f16 ?? {})) fitRow(f, ' (f16)');
  return `${formatTable(rows, ['l', 'r'])}\n\n${formatTable(fits)}`;
}

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description(
      'measure the local GPU with verified WGSL micro-kernels, fit the roofline and write a device profile ' +
        `(default ${DEFAULT_PROFILE_PATH} in the current folder)`,
    )
    .option('--quick', 'short suite (default; about 1-3 minutes on a 2-core CPU adapter)')
    .option('--full', 'full suite: more sizes, variants and repeats')
    .option('--out <file>', 'where to write the profile (atomically)', DEFAULT_PROFILE_PATH)
    .option('--adapter <name>', 'substring of the adapter name to pick among several')
    .option('--backend <name>', 'Dawn backend (vulkan, metal, d3d12, ...); default: the platform default')
    .option('--toggles <set>', `Dawn toggle set: ${TOGGLE_SETS.join(' or ')}`, oneOf(TOGGLE_SETS), 'throughput')
    .option('--only <families>', 'comma-separated kernel families to run (the profile needs fma, stream and dispatch)')
    .option('--power', 'sample GPU power (nvidia-smi, AMD hwmon, powercap, or the command in ROOFCAST_POWER_CMD) and fit the power model')
    .option('--power-interval-ms <ms>', 'power sampling interval with --power', parsePositive, 100)
    .option('--f16', 'the quick suite measures f16 GEMM, attention and small kernels too (the full suite always does on a shader-f16 adapter)')
    .option('--refit <file>', "recompute an existing profile's fits from its stored measurements (no GPU work); written in place unless --out is given")
    .option('--json', 'print the ceilings, fits and failures as JSON')
    .action(async (opts: CalibrateOptions, cmd: Command) => {
      if (opts.refit) {
        const suiteFlags = (['quick', 'full', 'only', 'f16', 'power', 'adapter', 'backend'] as const).filter((k) => opts[k] !== undefined);
        if (suiteFlags.length) throw new UserError(`--refit runs no suite: drop --${suiteFlags.join(', --')}`);
        const out = cmd.getOptionValueSource('out') === 'default' ? opts.refit : opts.out;
        const profile = (await loadCalibration()).refitProfile(readProfile(opts.refit));
        writeProfile(out, profile);
        if (opts.json) printJson({ out, device: profile.device.description, fits: profile.fits, dtypeFits: profile.dtypeFits ?? null });
        else process.stdout.write(`${summaryTable(profile)}\n\nrefitted ${profile.measurements.length} measurements; profile written to ${out}\n`);
        return;
      }
      if (opts.quick && opts.full) throw new UserError('choose one of --quick and --full');
      const mode = opts.full ? ('full' as const) : ('quick' as const);
      const families = opts.only?.split(',').map((s) => s.trim()).filter(Boolean);
      const calibration = await loadCalibration();
      // where no sensor is readable the calibration still runs and says why in one line
      let reader: PowerReader | null = null;
      let powerNote: string | null = null;
      if (opts.power) {
        const found = await findPowerReader();
        if (typeof found === 'string') powerNote = `power: not measured (${found}); ${calibration.POWER_DEFAULTS_KEPT}`;
        else reader = found;
      }
      const ctx = await openGpu({ backend: opts.backend, adapter: opts.adapter, toggles: opts.toggles });
      if (opts.f16 && !ctx.hasF16) process.stderr.write(`roofcast: warning: --f16: ${ctx.report.description || 'this adapter'} has no shader-f16, so the suite measures f32 only\n`);
      const bar = process.stderr.isTTY
        ? new SingleBar({ format: 'calibrate [{bar}] {value}/{total} {label}', stream: process.stderr, hideCursor: true, clearOnComplete: true })
        : null;
      bar?.start(1, 0, { label: 'starting' });
      let result;
      let capture = null;
      try {
        const suite = {
          mode,
          families,
          f16: opts.f16,
          onProgress: (p: { done: number; total: number; label: string }) => {
            bar?.setTotal(Math.max(p.total, 1));
            bar?.update(p.done, { label: p.label.slice(0, 40) });
          },
        };
        const run = reader
          ? calibration.runSuiteWithPower(ctx, suite, {
              reader,
              intervalS: opts.powerIntervalMs / 1000,
              onIdle: (s) => bar?.update(0, { label: `idle power (${s} s)` }),
            })
          : calibration.runSuite(ctx, suite).then((r) => ({ result: r, capture: null }));
        ({ result, capture } = await run.catch((err) => {
          if (err instanceof Error && /unknown kernel families/.test(err.message)) throw new UserError(err.message);
          throw err;
        }));
      } finally {
        bar?.stop();
        ctx.close();
      }
      let profile: Profile;
      try {
        const { buildProfile } = calibration;
        profile = buildProfile(ctx.report, ctx.toggles, result.timingMethod, result.measurements, {
          mode,
          version: VERSION,
          elapsedS: result.elapsedS,
          failures: result.failures,
          families: families ?? 'all',
          familySeconds: result.familySeconds,
          host: calibration.hostInfo(),
        });
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        const failed = result.failures.slice(0, 3).map((f) => `${f.id}: ${f.error}`).join('; ');
        throw new UserError(`calibration incomplete (${why})${failed ? `; failures: ${failed}` : ''}; the profile needs the fma, stream and dispatch families`);
      }
      if (capture) {
        const fit = calibration.fitCapturedPower(capture, profile.ceilings);
        if (fit.ok) profile.power = fit.power;
        else powerNote = `power: not fitted (${fit.reason}); ${calibration.POWER_DEFAULTS_KEPT}`;
      }
      writeProfile(opts.out, profile);
      if (opts.json) {
        printJson({
          out: opts.out,
          device: profile.device.description,
          toggles: profile.toggles,
          timing: profile.timing,
          mode,
          elapsedS: result.elapsedS,
          ceilings: profile.ceilings,
          fits: profile.fits,
          dtypeFits: profile.dtypeFits ?? null,
          measurements: profile.measurements.length,
          failures: result.failures,
          ...(opts.power ? { power: profile.power ?? null, ...(powerNote ? { powerNote } : {}) } : {}),
        });
        return;
      }
      process.stdout.write(`${profile.device.description} (${profile.device.backend}, toggles ${profile.toggles}, ${profile.timing})\n\n`);
      process.stdout.write(summaryTable(profile) + '\n\n');
      if (profile.power) process.stdout.write(powerTable(profile.power) + '\n\n');
      for (const f of result.failures) process.stdout.write(`failed: ${f.id}: ${f.error}\n`);
      if (powerNote) process.stdout.write(`${powerNote}\n`);
      process.stdout.write(
        `${profile.measurements.length} verified measurements in ${result.elapsedS.toFixed(1)} s; profile written to ${opts.out}\n`,
      );
    });
}
