import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { acceleratorIds } from './index.js';

/**
 * GPU-hour rental prices per catalog accelerator, each with the date it was read and its source.
 * Prices move weekly and differ 2-5x between providers for the same chip (community vs secure
 * cloud, neocloud vs hyperscaler): the built-in table is one consistent on-demand snapshot, mostly
 * one provider's secure-cloud list, and `--price-file` replaces any row.
 */
export const PriceEntrySchema = z.object({
  gpu: z.string().min(1),
  usdPerGpuHour: z.number().positive(),
  /** the day the price was read, YYYY-MM-DD */
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date YYYY-MM-DD'),
  source: z.string().min(1),
});

export const PriceFileSchema = z.object({
  currency: z.literal('USD').optional(),
  prices: z.array(PriceEntrySchema).min(1),
});

export type PriceEntry = z.infer<typeof PriceEntrySchema>;
export type PriceTable = Map<string, PriceEntry>;

// Transcriptions of the providers' public pricing pages, as recorded with URL and date by
// tgarg01/silybench-data derived/csv/gpu_prices.csv (RunPod, Lambda), api-evangelist/lambda-labs
// plans (Lambda, V100) and the tokenwatt/gpu-cloud-prices dataset (DigitalOcean MI300X list price).
const RUNPOD_SECURE = 'RunPod Secure Cloud on-demand, https://www.runpod.io/pricing (as recorded in tgarg01/silybench-data gpu_prices.csv)';
const LAMBDA = 'Lambda on-demand, https://lambda.ai/pricing (as recorded in tgarg01/silybench-data gpu_prices.csv)';

export const BUILTIN_PRICES: readonly PriceEntry[] = [
  { gpu: 'h100-sxm', usdPerGpuHour: 3.49, date: '2026-09-25', source: `${RUNPOD_SECURE}: H100 SXM` },
  { gpu: 'h100-pcie', usdPerGpuHour: 2.89, date: '2026-09-25', source: `${RUNPOD_SECURE}: H100 PCIe` },
  { gpu: 'h100-nvl', usdPerGpuHour: 3.19, date: '2026-09-25', source: `${RUNPOD_SECURE}: H100 NVL` },
  { gpu: 'h200-sxm', usdPerGpuHour: 4.59, date: '2026-09-25', source: `${RUNPOD_SECURE}: H200` },
  { gpu: 'b200', usdPerGpuHour: 6.79, date: '2026-09-25', source: `${RUNPOD_SECURE}: B200` },
  { gpu: 'a100-sxm4-80gb', usdPerGpuHour: 1.59, date: '2026-09-25', source: `${RUNPOD_SECURE}: A100 SXM 80GB` },
  { gpu: 'a100-pcie-80gb', usdPerGpuHour: 1.59, date: '2026-09-25', source: `${RUNPOD_SECURE}: A100 PCIe 80GB` },
  { gpu: 'a100-sxm4-40gb', usdPerGpuHour: 1.99, date: '2026-09-25', source: `${LAMBDA}: 1x A100 SXM 40GB` },
  { gpu: 'l40s', usdPerGpuHour: 1.09, date: '2026-09-25', source: `${RUNPOD_SECURE}: L40S` },
  { gpu: 'rtx-4090', usdPerGpuHour: 0.74, date: '2026-09-25', source: `${RUNPOD_SECURE}: RTX 4090` },
  {
    gpu: 'v100-sxm2',
    usdPerGpuHour: 0.79,
    date: '2026-09-20',
    source: 'Lambda on-demand, https://lambda.ai/instances: 8x Tesla V100 per GPU (as transcribed in api-evangelist/lambda-labs plans)',
  },
  {
    gpu: 'mi300x',
    usdPerGpuHour: 2.59,
    date: '2026-10-07',
    source: 'DigitalOcean API list price gpu-mi300x1-192gb (as collected in the tokenwatt/gpu-cloud-prices dataset)',
  },
];

/** One line naming the first problems zod found, with the field path. */
function describeIssues(error: z.ZodError, max = 3): string {
  const parts = error.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  return parts.join('; ') + (error.issues.length > max ? ` (+${error.issues.length - max} more)` : '');
}

/** Validates a parsed price file; unknown accelerator ids and duplicates are errors naming the field. */
export function parsePriceFile(data: unknown, origin: string): PriceEntry[] {
  const result = PriceFileSchema.safeParse(data);
  if (!result.success) throw new UserError(`${origin} is not a valid price file: ${describeIssues(result.error)}`);
  const known = new Set(acceleratorIds());
  const seen = new Set<string>();
  result.data.prices.forEach((p, i) => {
    if (!known.has(p.gpu)) throw new UserError(`${origin} is not a valid price file: prices.${i}.gpu: unknown accelerator '${p.gpu}' (see roofcast devices)`);
    if (seen.has(p.gpu)) throw new UserError(`${origin} is not a valid price file: prices.${i}.gpu: '${p.gpu}' is listed twice`);
    seen.add(p.gpu);
  });
  return result.data.prices;
}

export function readPriceFile(path: string): PriceEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read price file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UserError(`price file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parsePriceFile(data, `price file ${path}`);
}

/** The built-in table with the rows of `overrides` (a price file) replacing those of the same gpu. */
export function priceTable(overrides: readonly PriceEntry[] = []): PriceTable {
  const table: PriceTable = new Map(BUILTIN_PRICES.map((p) => [p.gpu, p]));
  for (const p of overrides) table.set(p.gpu, p);
  return table;
}
