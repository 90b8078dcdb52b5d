import type { Command } from 'commander';
import { listAdapters, openGpu, TOGGLE_SETS, type ToggleSet } from '../../gpu/device.js';
import { formatSi, formatTable, oneOf, printJson } from '../util.js';

interface DevicesOptions {
  backend?: string;
  adapter?: string;
  toggles: ToggleSet;
  json?: boolean;
}

/** Limits worth showing in the table (all of them are in --json). */
const SHOWN_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

export function registerDevices(program: Command): void {
  program
    .command('devices')
    .description('report the WebGPU adapter: vendor, architecture, backend, features, limits, subgroups')
    .option('--backend <name>', 'Dawn backend (vulkan, metal, d3d12, opengl, ...); default: the platform default')
    .option('--adapter <name>', 'substring of the adapter name to pick among several')
    .option('--toggles <set>', `Dawn toggle set: ${TOGGLE_SETS.join(' or ')}`, oneOf(TOGGLE_SETS), 'throughput')
    .option('--json', 'print the adapter report as JSON')
    .action(async (opts: DevicesOptions) => {
      const ctx = await openGpu({ backend: opts.backend, adapter: opts.adapter, toggles: opts.toggles });
      try {
        const adapters = await listAdapters(opts.toggles);
        const r = ctx.report;
        if (opts.json) {
          printJson({ ...r, toggles: ctx.toggles, timestamps: ctx.hasTimestamps, adapters });
          return;
        }
        const rows: (string | number)[][] = [
          ['field', 'value'],
          ['description', r.description],
          ['vendor', r.vendor],
          ['architecture', r.architecture],
          ['driver', r.driver ?? '-'],
          ['backend', r.backend],
          ['toggles', ctx.toggles],
          ['timing', ctx.hasTimestamps ? 'timestamp-query' : 'wall-clock (no timestamp-query)'],
          ['shader-f16', ctx.hasF16 ? 'yes' : 'no'],
          ['subgroups', ctx.hasSubgroups ? `yes (sizes ${r.subgroupMinSize ?? '?'}-${r.subgroupMaxSize ?? '?'})` : 'no'],
          ['subgroup-matrix configs', r.subgroupMatrixConfigs.length ? r.subgroupMatrixConfigs.map((c) => JSON.stringify(c)).join(' ') : 'none'],
        ];
        for (const name of SHOWN_LIMITS) {
          const v = r.limits[name];
          if (v !== undefined) rows.push([name, name.endsWith('Size') && v >= 4096 ? `${v} (${formatSi(v, 'B')})` : v]);
        }
        process.stdout.write(formatTable(rows, ['l', 'l']) + '\n');
        process.stdout.write(`features: ${r.features.join(', ')}\n`);
        if (adapters.length > 1) process.stdout.write(`other adapters: ${adapters.join(', ')}\n`);
      } finally {
        ctx.close();
      }
    });
}
