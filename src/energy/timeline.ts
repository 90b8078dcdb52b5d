/**
 * Piecewise-constant power trace of the GPUs of one instance over a request's wall-clock time.
 * Every GPU of a tensor-parallel instance runs the same steps, so one timeline stands for all of
 * them and energy is multiplied by the GPU count. Segments are contiguous from t = 0: the GPU is
 * either busy (prefill, decode) or idle (waiting on a tool, still allocated), so for every GPU
 * idle + busy time = wall time, by construction, and energy is the sum of power x duration.
 */
export type SegmentKind = 'prefill' | 'decode' | 'idle';

export interface PowerSegment {
  kind: SegmentKind;
  startS: number;
  endS: number;
  powerW: number;
  /** free text for trace viewers (e.g. "llm 3 decode, batch 5") */
  label?: string;
}

export class PowerTimeline {
  private tS = 0;
  private busy = 0;
  private idle = 0;
  private prefill = 0;
  private energyPerGpu = 0;
  readonly segments: PowerSegment[] | null;

  /** `record`: keep every segment (for trace output); off, only the sums are kept (fast). */
  constructor(
    readonly gpus: number,
    readonly idlePowerW: number,
    record = false,
  ) {
    if (!Number.isInteger(gpus) || gpus < 1) throw new Error(`gpus must be a whole number >= 1, got ${gpus}`);
    this.segments = record ? [] : null;
  }

  /** Appends a busy segment of `seconds` at `powerW` per GPU. */
  busyFor(kind: 'prefill' | 'decode', seconds: number, powerW: number, label?: string): void {
    if (!(seconds >= 0)) throw new Error(`negative or NaN duration ${seconds}`);
    this.push(kind, seconds, powerW, label);
    this.busy += seconds;
    if (kind === 'prefill') this.prefill += seconds;
  }

  /** Appends an idle segment (tool wait). */
  idleFor(seconds: number, label?: string): void {
    if (!(seconds >= 0)) throw new Error(`negative or NaN duration ${seconds}`);
    if (seconds === 0) return;
    this.push('idle', seconds, this.idlePowerW, label);
    this.idle += seconds;
  }

  private push(kind: SegmentKind, seconds: number, powerW: number, label?: string): void {
    if (this.segments && seconds > 0) {
      const seg: PowerSegment = { kind, startS: this.tS, endS: this.tS + seconds, powerW };
      if (label !== undefined) seg.label = label;
      this.segments.push(seg);
    }
    this.tS += seconds;
    this.energyPerGpu += powerW * seconds;
  }

  get wallS(): number {
    return this.tS;
  }
  get busyS(): number {
    return this.busy;
  }
  get idleS(): number {
    return this.idle;
  }
  get prefillS(): number {
    return this.prefill;
  }
  get decodeS(): number {
    return this.busy - this.prefill;
  }
  /** energy of one GPU, joules */
  get energyPerGpuJ(): number {
    return this.energyPerGpu;
  }
  /** energy of every GPU of the instance, joules */
  get energyJ(): number {
    return this.energyPerGpu * this.gpus;
  }
}

/** Integrates a list of piecewise-constant segments: joules for one GPU. */
export function integrateSegmentsJ(segments: readonly PowerSegment[]): number {
  let j = 0;
  for (const s of segments) j += s.powerW * (s.endS - s.startS);
  return j;
}
