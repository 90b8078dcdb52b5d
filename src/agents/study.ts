import { fleetPowerW, JOULES_PER_WH } from '../energy/power.js';
import { resolveModel } from '../models/index.js';
import { runMonteCarlo, type AgentSummary } from './montecarlo.js';
import { accuracyFor, listParameters, STUDY_ACCURACY, WORKFLOW_PRESET, type ParameterEntry, type WorkflowId, type WorkflowParams } from './presets.js';
import { buildAgentTarget } from './setup.js';

/**
 * Table III and IV of Kim et al., arXiv 2506.04301 (shared reference agent-energy-study.md):
 * HotpotQA, one request at a time, prefix caching on, vLLM; 8B on 1x A100-40GB, 70B on 8x.
 */
export const STUDY_SOURCE = 'Kim et al., "The Cost of Dynamic Reasoning", arXiv 2506.04301, Tables III and IV';

export interface StudyCell {
  model: 'llama-3.1-8b' | 'llama-3.1-70b';
  gpus: number;
  workload: Extract<WorkflowId, 'sharegpt' | 'reflexion' | 'lats'>;
  accuracy: number | null;
  latencyS: number;
  energyWh: number;
}

export const STUDY_TABLE_III: readonly StudyCell[] = [
  { model: 'llama-3.1-8b', gpus: 1, workload: 'sharegpt', accuracy: null, latencyS: 4.23, energyWh: 0.32 },
  { model: 'llama-3.1-8b', gpus: 1, workload: 'reflexion', accuracy: 0.38, latencyS: 649.34, energyWh: 41.53 },
  { model: 'llama-3.1-8b', gpus: 1, workload: 'lats', accuracy: 0.8, latencyS: 380.9, energyWh: 22.76 },
  { model: 'llama-3.1-70b', gpus: 8, workload: 'sharegpt', accuracy: null, latencyS: 6.4, energyWh: 2.55 },
  { model: 'llama-3.1-70b', gpus: 8, workload: 'reflexion', accuracy: 0.67, latencyS: 720.0, energyWh: 348.41 },
  { model: 'llama-3.1-70b', gpus: 8, workload: 'lats', accuracy: 0.82, latencyS: 305.67, energyWh: 158.48 },
];

/** Table IV: fleet power (W) at a number of queries per day, as published. */
export interface StudyFleetCell {
  model: StudyCell['model'];
  workload: StudyCell['workload'];
  queriesPerDay: number;
  powerW: number;
}

export const STUDY_TABLE_IV: readonly StudyFleetCell[] = [
  { model: 'llama-3.1-8b', workload: 'sharegpt', queriesPerDay: 71.4e6, powerW: 1.0e6 },
  { model: 'llama-3.1-8b', workload: 'reflexion', queriesPerDay: 71.4e6, powerW: 123.6e6 },
  { model: 'llama-3.1-8b', workload: 'lats', queriesPerDay: 71.4e6, powerW: 67.7e6 },
  { model: 'llama-3.1-70b', workload: 'sharegpt', queriesPerDay: 71.4e6, powerW: 7.6e6 },
  { model: 'llama-3.1-70b', workload: 'reflexion', queriesPerDay: 71.4e6, powerW: 1.0e9 },
  { model: 'llama-3.1-70b', workload: 'lats', queriesPerDay: 71.4e6, powerW: 471.5e6 },
  { model: 'llama-3.1-70b', workload: 'reflexion', queriesPerDay: 13.7e9, powerW: 198.9e9 },
];

export const STUDY_GPU = 'a100-sxm4-40gb';
export const STUDY_ENGINE = 'vllm';

export interface StudyRow {
  model: string;
  gpus: number;
  workload: string;
  published: { latencyS: number; energyWh: number };
  predicted: AgentSummary;
  latencyError: number;
  energyError: number;
}

export interface FleetRow {
  model: string;
  workload: string;
  queriesPerDay: number;
  publishedW: number;
  /** the formula applied to the study's own Table III energy: checks Table IV is that formula */
  formulaFromPublishedW: number;
  predictedW: number;
  error: number;
}

export interface StudyResult {
  source: string;
  setup: { gpu: string; engine: string; benchmark: 'hotpotqa'; prefixCaching: true; episodes: number; seed: number };
  tableIII: StudyRow[];
  tableIV: FleetRow[];
  maxAbsLatencyError: number;
  maxAbsEnergyError: number;
  /** the workflow parameters the cells used (ShareGPT, Reflexion, LATS, HotpotQA), by origin */
  parameters: ParameterEntry[];
}

const rel = (predicted: number, published: number): number => predicted / published - 1;

/** Runs every Table III cell with the shared workflow presets and derives Table IV from its energy. */
export function reproduceStudy(
  options: { episodes?: number; seed?: number; params?: WorkflowParams; onProgress?: (cellsDone: number, cells: number) => void } = {},
): StudyResult {
  const episodes = options.episodes ?? 1000;
  const seed = options.seed ?? 1;
  const params = options.params ?? WORKFLOW_PRESET;
  const targets = new Map<string, ReturnType<typeof buildAgentTarget>>();
  const rows: StudyRow[] = [];
  for (const cell of STUDY_TABLE_III) {
    let target = targets.get(cell.model);
    if (!target) {
      target = buildAgentTarget({ model: resolveModel(cell.model), gpu: STUDY_GPU, engine: STUDY_ENGINE, tp: cell.gpus });
      targets.set(cell.model, target);
    }
    const accuracy = cell.workload === 'sharegpt' ? 0 : accuracyFor(cell.model, cell.workload, 'hotpotqa').value;
    const mc = runMonteCarlo(
      target.sim,
      { generate: { workflow: cell.workload, benchmark: 'hotpotqa', accuracy, params } },
      { episodes, seed, queriesPerDay: 71.4e6, pue: 1, prefixCaching: true },
    );
    rows.push({
      model: cell.model,
      gpus: cell.gpus,
      workload: cell.workload,
      published: { latencyS: cell.latencyS, energyWh: cell.energyWh },
      predicted: mc.summary,
      latencyError: rel(mc.summary.latencyS.mean, cell.latencyS),
      energyError: rel(mc.summary.energyWh.mean, cell.energyWh),
    });
    options.onProgress?.(rows.length, STUDY_TABLE_III.length);
  }
  const fleet: FleetRow[] = STUDY_TABLE_IV.map((f) => {
    const row = rows.find((r) => r.model === f.model && r.workload === f.workload);
    const cell = STUDY_TABLE_III.find((c) => c.model === f.model && c.workload === f.workload);
    if (!row || !cell) throw new Error(`Table IV cell without a Table III row: ${f.model} ${f.workload}`);
    const predictedW = fleetPowerW(row.predicted.energyJ.mean, f.queriesPerDay, 1);
    return {
      model: f.model,
      workload: f.workload,
      queriesPerDay: f.queriesPerDay,
      publishedW: f.powerW,
      formulaFromPublishedW: fleetPowerW(cell.energyWh * JOULES_PER_WH, f.queriesPerDay, 1),
      predictedW,
      error: rel(predictedW, f.powerW),
    };
  });
  return {
    source: STUDY_SOURCE,
    setup: { gpu: STUDY_GPU, engine: STUDY_ENGINE, benchmark: 'hotpotqa', prefixCaching: true, episodes, seed },
    tableIII: rows,
    tableIV: fleet,
    maxAbsLatencyError: Math.max(...rows.map((r) => Math.abs(r.latencyError))),
    maxAbsEnergyError: Math.max(...rows.map((r) => Math.abs(r.energyError))),
    parameters: [
      ...listParameters(params, ['hotpotqa']).filter((p) => /^(sharegpt|step|react|reflexion|lats|benchmark)\./.test(p.name)),
      ...STUDY_ACCURACY.map((a) => ({ name: `accuracy.${a.model}.${a.workflow}`, value: a.accuracy.value, origin: 'study' as const, source: a.accuracy.source })),
    ],
  };
}
