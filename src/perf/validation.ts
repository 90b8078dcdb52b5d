import { readdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { describeZodError } from '../profile/io.js';
import { getModel } from '../models/index.js';
import { resolveTarget } from './target.js';
import { ENGINE_IDS } from './engines.js';
import { KV_DTYPES, WEIGHT_DTYPES } from './graph.js';
import { predict, type PredictionDetail } from './predict.js';

/** A published measurement with the full configuration it was taken under. */
export const ValidationCaseSchema = z.object({
  id: z.string().min(1),
  model: z.string().min(1),
  gpu: z.string().min(1),
  tp: z.number().int().positive(),
  /** identical instances in the measured system (system throughput = instances x one instance) */
  instances: z.number().int().positive().default(1),
  engine: z.enum(ENGINE_IDS),
  weightDtype: z.enum(WEIGHT_DTYPES),
  kvDtype: z.enum(KV_DTYPES),
  mode: z.enum(['latency', 'throughput']),
  batch: z.number().int().positive(),
  inputTokens: z.number().int().positive(),
  outputTokens: z.number().int().positive(),
  measured: z
    .object({
      ttftS: z.number().positive().optional(),
      tpotS: z.number().positive().optional(),
      outputTokensPerS: z.number().positive().optional(),
    })
    .refine((m) => Object.keys(m).length > 0, 'at least one measured metric'),
  source: z.string().min(1),
  notes: z.string().optional(),
});

export const ValidationFileSchema = z.object({
  name: z.string(),
  source: z.string(),
  notes: z.string().optional(),
  cases: z.array(ValidationCaseSchema).min(1),
});

export type ValidationCase = z.infer<typeof ValidationCaseSchema>;
export const METRICS = ['ttftS', 'tpotS', 'outputTokensPerS'] as const;
export type Metric = (typeof METRICS)[number];

/** The bundled data/validation folder (two levels above src/perf and dist/perf alike). */
export function defaultValidationDir(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'data', 'validation');
}

export function loadValidationCases(dir = defaultValidationDir()): ValidationCase[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    throw new UserError(`cannot read validation folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (!files.length) throw new UserError(`no validation files (*.json) in ${dir}`);
  const cases: ValidationCase[] = [];
  const ids = new Set<string>();
  for (const f of files) {
    const path = join(dir, f);
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new UserError(`validation file ${path} is not valid JSON: ${(err as Error).message}`);
    }
    const parsed = ValidationFileSchema.safeParse(data);
    if (!parsed.success) throw new UserError(`validation file ${path}: ${describeZodError(parsed.error)}`);
    for (const c of parsed.data.cases) {
      if (ids.has(c.id)) throw new UserError(`validation file ${path}: duplicate case id '${c.id}'`);
      ids.add(c.id);
      cases.push(c);
    }
  }
  return cases;
}

export interface CaseResult {
  id: string;
  case: ValidationCase;
  prediction: PredictionDetail;
  /** per measured metric: predicted, measured, signed relative error */
  metrics: { metric: Metric; predicted: number; measured: number; error: number }[];
}

export interface ValidationReport {
  cases: CaseResult[];
  /** cases the model cannot cost (unknown model or accelerator, impossible configuration), with why */
  skipped: { id: string; reason: string }[];
  /** mean absolute percentage error per metric (fraction, not percent), and its case count */
  mape: Partial<Record<Metric, { value: number; cases: number }>>;
  /** over every metric of every case */
  overallMape: number;
}

export function runCase(c: ValidationCase): CaseResult {
  const prediction = predict({
    model: getModel(c.model),
    target: resolveTarget({ gpu: c.gpu }),
    engine: c.engine,
    tp: c.tp,
    workload: { batch: c.batch, inputTokens: c.inputTokens, outputTokens: c.outputTokens, weightDtype: c.weightDtype, kvDtype: c.kvDtype },
    mode: c.mode,
    breakdown: false,
  });
  const metrics: CaseResult['metrics'] = [];
  for (const metric of METRICS) {
    const measured = c.measured[metric];
    if (measured === undefined) continue;
    const predicted = metric === 'outputTokensPerS' ? prediction.outputTokensPerS * c.instances : prediction[metric];
    metrics.push({ metric, predicted, measured, error: (predicted - measured) / measured });
  }
  return { id: c.id, case: c, prediction, metrics };
}

export function validate(cases: ValidationCase[]): ValidationReport {
  const results: CaseResult[] = [];
  const skipped: ValidationReport['skipped'] = [];
  for (const c of cases) {
    try {
      results.push(runCase(c));
    } catch (err) {
      // one case the catalog cannot express (e.g. BLOOM) must not hide the others
      if (!(err instanceof UserError)) throw err;
      skipped.push({ id: c.id, reason: err.message });
    }
  }
  const mape: ValidationReport['mape'] = {};
  let all = 0;
  let n = 0;
  for (const metric of METRICS) {
    const errs = results.flatMap((r) => r.metrics.filter((m) => m.metric === metric).map((m) => Math.abs(m.error)));
    if (!errs.length) continue;
    mape[metric] = { value: errs.reduce((a, b) => a + b, 0) / errs.length, cases: errs.length };
    all += errs.reduce((a, b) => a + b, 0);
    n += errs.length;
  }
  return { cases: results, skipped, mape, overallMape: n ? all / n : 0 };
}
