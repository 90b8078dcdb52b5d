import type { Command } from 'commander';
import { UserError } from '../../errors.js';
import { resolveModel } from '../../models/index.js';
import { getAccelerator } from '../../hardware/index.js';
import { BENCHMARKS, WORKFLOWS } from '../../agents/presets.js';
import { agentReport, checkWorkflowList, compareReport, profileReport } from '../../report/build.js';
import { writeReport } from '../../report/write.js';
import type { Report } from '../../report/figure.js';
import { formatTable, parsePositive, parsePositiveInt, printJson } from '../util.js';
import { addCompareOptions, compareOptionsFrom, type CompareCliOptions } from './compare.js';

interface ReportCliOptions extends CompareCliOptions {
  out?: string;
  profile?: string;
  compare?: boolean;
  agent?: boolean;
  gpu?: string;
  tp?: number;
  workflows: string;
  memoryGib?: number;
}

const DEFAULT_INPUT = 512;
const DEFAULT_OUTPUT = 128;

function buildReport(o: ReportCliOptions): Report {
  const modes = [o.profile !== undefined, Boolean(o.compare), Boolean(o.agent)].filter(Boolean).length;
  if (modes !== 1) throw new UserError('give exactly one of --profile FILE, --compare (with the compare flags) or --agent (with the agent flags)');
  if (o.profile !== undefined) {
    if (o.workflow) throw new UserError('--workflow applies to --agent and --compare reports, not to --profile');
    return profileReport({
      profilePath: o.profile,
      model: o.model ? resolveModel(o.model) : undefined,
      engine: o.engine,
      weightDtype: o.weightDtype,
      inputTokens: o.input ?? DEFAULT_INPUT,
      outputTokens: o.output ?? DEFAULT_OUTPUT,
      memoryBytes: o.memoryGib === undefined ? undefined : o.memoryGib * 1024 ** 3,
    });
  }
  if (o.compare) return compareReport(compareOptionsFrom(o));
  if (!o.model) throw new UserError('--agent needs --model ID');
  if (!o.gpu) throw new UserError('--agent needs --gpu ID (see roofcast devices)');
  if (!o.workflow) throw new UserError(`--agent needs --workflow ID (${WORKFLOWS.join(', ')})`);
  if (o.input !== undefined || o.output !== undefined) throw new UserError('--input/--output apply to --profile and --compare reports; --agent takes --workflow');
  if (o.workflow !== 'sharegpt' && !o.benchmark) throw new UserError(`--benchmark is required for ${o.workflow} (${BENCHMARKS.join(', ')})`);
  return agentReport({
    model: resolveModel(o.model),
    gpu: getAccelerator(o.gpu).id,
    engine: o.engine,
    tp: o.tp,
    weightDtype: o.weightDtype,
    workflow: o.workflow,
    benchmark: o.benchmark ?? 'hotpotqa',
    workflows: checkWorkflowList(o.workflows, WORKFLOWS),
    episodes: o.episodes,
    seed: o.seed,
    prefixCaching: o.prefixCaching === 'on',
  });
}

export function registerReport(program: Command): void {
  const cmd = program
    .command('report')
    .description('write a self-contained HTML report (inline SVG charts) plus SVG, CSV and JSON: of a calibrated profile, a hardware comparison or an agent workflow');
  cmd
    .option('--out <dir>', 'folder to write index.html, figures/, data/ and report.json into')
    .option('--profile <file>', 'report on a calibrated profile: roofline, bandwidth, and with --model the per-operator breakdown')
    .option('--memory-gib <gib>', 'device memory of the profile for the breakdown (default: the adapter largest buffer)', parsePositive)
    .option('--compare', 'report on a hardware comparison: takes the flags of roofcast compare')
    .option('--agent', 'report on an agent workflow: takes --model, --gpu, --workflow, --benchmark, --tp and the episode flags')
    .option('--gpu <id>', '--agent: catalog accelerator')
    .option('--tp <n>', '--agent: tensor-parallel GPUs (default: the smallest that fits)', parsePositiveInt)
    .option('--workflows <list>', '--agent: workflows of the energy-per-query chart', WORKFLOWS.join(','));
  addCompareOptions(cmd)
    .option('--json', 'print what was written as JSON')
    .action(async (o: ReportCliOptions) => {
      if (!o.out) throw new UserError('give --out DIR (the report folder)');
      const report = buildReport(o);
      const written = await writeReport(report, o.out);
      if (o.json) {
        printJson({ out: written.dir, index: `${written.dir}/index.html`, figures: written.figures, files: written.files });
        return;
      }
      process.stdout.write(
        `wrote ${written.dir}/index.html (${written.figures.length} charts, ${written.files.length} files)\n` +
          formatTable([['figure', 'title'], ...written.figures.map((f) => [f.id, f.title])], ['l', 'l']) +
          '\n',
      );
    });
}
