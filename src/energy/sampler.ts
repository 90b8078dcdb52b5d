import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PowerModel } from './power.js';

const run = promisify(execFile);

/** One power reading of the whole board (or package, for powercap), watts. */
export interface PowerSample {
  tS: number;
  powerW: number;
}

export interface PowerSampling {
  available: boolean;
  /** what was read: "nvidia-smi power.draw (GPU 0)", "hwmon power1_average", ... */
  source: string;
  samples: PowerSample[];
  /** why nothing could be read, when available is false */
  reason?: string;
}

/** A power sensor: what it reads, and one reading in watts (NaN where it has none yet). */
export interface PowerReader {
  source: string;
  read: () => Promise<number>;
}
type Reader = PowerReader;

/** Environment variable naming a shell command that prints the GPU's power in watts (first number). */
export const POWER_CMD_ENV = 'ROOFCAST_POWER_CMD';

/**
 * A reader that runs a user-given shell command and takes the first number it prints as watts:
 * for sensors roofcast does not know (a BMC, a smart plug, a vendor tool) and for tests.
 */
export async function commandReader(command: string): Promise<Reader | string> {
  const read = async () => {
    const { stdout } = await run('/bin/sh', ['-c', command], { timeout: 5000 });
    const m = /[-+]?\d+(\.\d+)?([eE][-+]?\d+)?/.exec(stdout);
    const w = m ? Number(m[0]) : NaN;
    if (!Number.isFinite(w) || w < 0) throw new Error(`printed '${stdout.trim().slice(0, 60)}', not watts`);
    return w;
  };
  try {
    await read();
    return { source: `${POWER_CMD_ENV} '${command}'`, read };
  } catch (err) {
    const e = err as Error & { code?: unknown; stderr?: string };
    const why = typeof e.code === 'number' ? `exited with status ${e.code}` : e.message.split('\n')[0];
    return `${POWER_CMD_ENV} '${command}': ${why}`;
  }
}

async function nvidiaSmiReader(): Promise<Reader | string> {
  try {
    const read = async () => {
      const { stdout } = await run('nvidia-smi', ['--query-gpu=power.draw', '--format=csv,noheader,nounits'], {
        timeout: 5000,
      });
      const w = Number(stdout.trim().split('\n')[0]);
      if (!Number.isFinite(w)) throw new Error(`nvidia-smi printed '${stdout.trim()}'`);
      return w;
    };
    await read();
    return { source: 'nvidia-smi --query-gpu=power.draw (GPU 0)', read };
  } catch (err) {
    return `nvidia-smi: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'not installed' : (err as Error).message}`;
  }
}

/** AMD GPUs expose board power in microwatts under /sys/class/drm/card* /device/hwmon. */
function hwmonReader(): Reader | string {
  const drm = '/sys/class/drm';
  if (!existsSync(drm)) return 'hwmon: no /sys/class/drm';
  for (const card of readdirSync(drm).filter((c) => /^card\d+$/.test(c))) {
    const hwmonDir = join(drm, card, 'device', 'hwmon');
    if (!existsSync(hwmonDir)) continue;
    for (const h of readdirSync(hwmonDir)) {
      for (const f of ['power1_average', 'power1_input']) {
        const file = join(hwmonDir, h, f);
        if (existsSync(file)) {
          return { source: `hwmon ${file}`, read: async () => Number(readFileSync(file, 'utf8').trim()) / 1e6 };
        }
      }
    }
  }
  return 'hwmon: no GPU power sensor under /sys/class/drm/card*/device/hwmon';
}

/**
 * Linux powercap (RAPL) counts energy of the CPU package, not of a discrete GPU; it is used only
 * for integrated GPUs that share the package, and its source says so.
 */
function powercapReader(): Reader | string {
  const file = '/sys/class/powercap/intel-rapl:0/energy_uj';
  if (!existsSync(file)) return 'powercap: no /sys/class/powercap/intel-rapl:0';
  try {
    readFileSync(file, 'utf8');
  } catch {
    return `powercap: ${file} is not readable (needs root)`;
  }
  let last: { uj: number; t: number } | null = null;
  return {
    source: `powercap ${file} (CPU package incl. integrated GPU, not a discrete GPU)`,
    read: async () => {
      const uj = Number(readFileSync(file, 'utf8').trim());
      const t = performance.now() / 1000;
      const prev = last;
      last = { uj, t };
      return prev && t > prev.t && uj >= prev.uj ? (uj - prev.uj) / 1e6 / (t - prev.t) : NaN;
    },
  };
}

/**
 * Finds a power sensor this machine exposes, or explains why there is none. A command named by
 * ROOFCAST_POWER_CMD is used instead of the search (and its failure is the reason).
 */
export async function findPowerReader(env: NodeJS.ProcessEnv = process.env): Promise<Reader | string> {
  const command = env[POWER_CMD_ENV]?.trim();
  if (command) return commandReader(command);
  const reasons: string[] = [];
  for (const make of [nvidiaSmiReader, async () => hwmonReader(), async () => powercapReader()]) {
    const r = await make();
    if (typeof r === 'string') reasons.push(r);
    else return r;
  }
  return reasons.join('; ');
}

/**
 * Samples power every `intervalS` for `durationS` seconds while the caller keeps the GPU busy.
 * Where the machine exposes no sensor it returns available: false and the reason, and callers keep
 * the default power model.
 */
export async function samplePower(durationS: number, intervalS: number): Promise<PowerSampling> {
  const reader = await findPowerReader();
  if (typeof reader === 'string') {
    return { available: false, source: 'none', samples: [], reason: `no power sensor readable here (${reader})` };
  }
  const samples: PowerSample[] = [];
  const t0 = performance.now() / 1000;
  for (;;) {
    const tS = performance.now() / 1000 - t0;
    if (tS > durationS) break;
    const w = await reader.read();
    if (Number.isFinite(w)) samples.push({ tS, powerW: w });
    await new Promise((r) => setTimeout(r, intervalS * 1000));
  }
  return { available: samples.length > 0, source: reader.source, samples, ...(samples.length ? {} : { reason: 'sensor gave no readings' }) };
}

/** A sampler running in the background; `stop` ends it and returns its samples. */
export interface BackgroundSampler {
  stop(): Promise<PowerSample[]>;
  /** readings that failed (a sensor that drops out is not fatal) */
  errors(): number;
}

/**
 * Reads `reader` every `intervalS` seconds until stopped, without blocking the caller (the GPU work
 * runs between readings). `tS` is taken when a reading starts, on the clock of `now` (default
 * performance.now() in seconds), so samples can be matched to the windows in which kernels ran.
 */
export function startPowerSampler(reader: PowerReader, intervalS: number, now: () => number = () => performance.now() / 1000): BackgroundSampler {
  const samples: PowerSample[] = [];
  let failed = 0;
  let stopped = false;
  let wake: (() => void) | null = null;
  const loop = (async () => {
    while (!stopped) {
      const tS = now();
      try {
        const w = await reader.read();
        if (Number.isFinite(w)) samples.push({ tS, powerW: w });
      } catch {
        failed++;
      }
      const waitMs = Math.max(0, (tS + intervalS - now()) * 1000);
      if (stopped) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      (wake as (() => void) | null)?.();
      await loop;
      return samples;
    },
    errors: () => failed,
  };
}

/** What the GPU was doing from tS on (until the next entry): achieved fractions of peak. */
export interface ActivityMark {
  tS: number;
  uMem: number;
  uFlop: number;
}

export interface PowerFit {
  model: PowerModel;
  rmsErrorW: number;
  points: number;
}

/** Reference utilisations for a machine with no catalog entry (the local calibration GPU). */
const LOCAL_BASE: PowerModel = {
  acceleratorId: 'local',
  idleW: { value: 0, source: 'replaced by the fit' },
  tdpW: { value: 0, source: 'replaced by the fit' },
  memoryBoundW: { value: 0, source: 'replaced by the fit' },
  memoryRefUtil: { value: 0.6, source: 'assumed: decode-like bandwidth use (Splitwise decode reached 56-62% of peak)' },
  computeRefUtil: { value: 0.8, source: 'hardware.md B.1: large-GEMM efficiency ~0.8' },
};

function activityAt(activity: readonly ActivityMark[], tS: number): ActivityMark | null {
  let hit: ActivityMark | null = null;
  for (const a of activity) if (a.tS <= tS) hit = a;
  return hit;
}

function solve3(a: number[][], b: number[]): number[] | null {
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < 3; c++) {
    let piv = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
    if (Math.abs(m[piv][c]) < 1e-12) return null;
    [m[c], m[piv]] = [m[piv], m[c]];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k < 4; k++) m[r][k] -= f * m[c][k];
    }
  }
  return [m[0][3] / m[0][0], m[1][3] / m[1][1], m[2][3] / m[2][2]];
}

/**
 * Least-squares fit of P = idle + a * uMem + b * uFlop to samples taken while the GPU ran the
 * marked activity; returns `base` with idle and decode power replaced by the fit. Needs samples
 * at idle, memory-bound and compute-bound activity, else it returns null (keep the defaults).
 */
export function fitPowerModel(samples: readonly PowerSample[], activity: readonly ActivityMark[], base: PowerModel = LOCAL_BASE): PowerFit | null {
  const rows: { u: number[]; p: number }[] = [];
  for (const s of samples) {
    const a = activityAt(activity, s.tS);
    if (a) rows.push({ u: [1, a.uMem, a.uFlop], p: s.powerW });
  }
  if (rows.length < 3) return null;
  const ata = [0, 1, 2].map((i) => [0, 1, 2].map((j) => rows.reduce((acc, r) => acc + r.u[i] * r.u[j], 0)));
  const atb = [0, 1, 2].map((i) => rows.reduce((acc, r) => acc + r.u[i] * r.p, 0));
  const x = solve3(ata, atb);
  if (!x || x.some((v) => !Number.isFinite(v))) return null;
  const [idle, perMem, perFlop] = x;
  const rms = Math.sqrt(rows.reduce((acc, r) => acc + (r.p - (x[0] + x[1] * r.u[1] + x[2] * r.u[2])) ** 2, 0) / rows.length);
  const source = `fitted to ${rows.length} local power samples`;
  return {
    model: {
      ...base,
      idleW: { value: idle, source },
      memoryBoundW: { value: idle + perMem * base.memoryRefUtil.value, source },
      // the compute term reaches "prompt-phase" power at the reference GEMM utilisation
      tdpW: { value: idle + perFlop * base.computeRefUtil.value, source },
    },
    rmsErrorW: rms,
    points: rows.length,
  };
}
