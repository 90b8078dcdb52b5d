import { describe, expect, it } from 'vitest';
import { reproduceStudy, STUDY_TABLE_III, STUDY_TABLE_IV } from '../src/agents/study.js';
import { fleetPowerW, JOULES_PER_WH } from '../src/energy/power.js';

describe('study reproduction (Kim et al. Table III/IV)', () => {
  const r = reproduceStudy({ episodes: 300, seed: 1 });
  const cell = (model: string, workload: string) => r.tableIII.find((x) => x.model === model && x.workload === workload)!;

  it('keeps the cells the README reports within 15% (none of these uses a fitted parameter)', () => {
    for (const [model, workload] of [
      ['llama-3.1-8b', 'sharegpt'],
      ['llama-3.1-8b', 'lats'],
    ]) {
      expect(Math.abs(cell(model, workload).latencyError)).toBeLessThan(0.15);
      expect(Math.abs(cell(model, workload).energyError)).toBeLessThan(0.15);
    }
    expect(Math.abs(cell('llama-3.1-70b', 'sharegpt').latencyError)).toBeLessThan(0.15);
    expect(Math.abs(cell('llama-3.1-70b', 'lats').energyError)).toBeLessThan(0.15);
  });

  it('agents cost tens to hundreds of times a chat turn, as the study reports (62-136x)', () => {
    for (const model of ['llama-3.1-8b', 'llama-3.1-70b']) {
      for (const workload of ['reflexion', 'lats']) {
        const ratio = cell(model, workload).predicted.energyWh.mean / cell(model, 'sharegpt').predicted.energyWh.mean;
        expect(ratio).toBeGreaterThan(30);
        expect(ratio).toBeLessThan(300);
      }
    }
  });

  it('derives every fleet-power cell from the predicted energy by the formula', () => {
    expect(r.tableIV).toHaveLength(STUDY_TABLE_IV.length);
    for (const f of r.tableIV) {
      const e = cell(f.model, f.workload).predicted.energyJ.mean;
      expect(f.predictedW).toBe(fleetPowerW(e, f.queriesPerDay, 1));
      const published = STUDY_TABLE_III.find((c) => c.model === f.model && c.workload === f.workload)!;
      expect(f.formulaFromPublishedW).toBeCloseTo((published.energyWh * JOULES_PER_WH * f.queriesPerDay) / 86_400, 3);
    }
  });

  it('lists the parameters it used with their origin', () => {
    expect(r.parameters.filter((p) => p.origin === 'fitted').map((p) => p.name)).toEqual(['reflexion.maxTrials']);
    expect(r.parameters.some((p) => p.name === 'accuracy.llama-3.1-70b.lats' && p.origin === 'study')).toBe(true);
  });
});
