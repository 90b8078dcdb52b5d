import type { StepBatch, StepCost } from '../perf/types.js';
import { stepPowerW, type PowerModel, type PowerPeaks } from '../energy/power.js';
import { PowerTimeline, type PowerSegment } from '../energy/timeline.js';
import type { Session } from './trace.js';

/** Everything the simulator needs of (model, accelerator, engine, tp), joined by the caller. */
export interface SimTarget {
  /** cost of one engine step on the instance (src/perf stepCost bound to its context) */
  stepCost: (batch: StepBatch) => StepCost;
  power: PowerModel;
  peaks: PowerPeaks;
  /** GPUs of the instance (tensor-parallel degree): all draw power for the whole request */
  gpus: number;
  /** KV-cache bytes per token of context, whole model (all layers, all GPUs together) */
  kvBytesPerToken: number;
  /** the engine's token budget per step: longer prefills run as chunks (none when absent) */
  maxPrefillTokensPerStep?: number;
}

export interface SimOptions {
  prefixCaching: boolean;
  /**
   * Decode steps are costed in chunks: one stepCost at the chunk's middle context, times the
   * chunk length (decode time is close to affine in context, so the error is second order).
   */
  decodeChunk?: number;
  /** keep the power segments and tool spans (for --trace-out) */
  record?: boolean;
}

export interface ToolSpan {
  startS: number;
  endS: number;
}

export interface EpisodeResult {
  latencyS: number;
  energyJ: number;
  llmCalls: number;
  inputTokens: number;
  outputTokens: number;
  /** prompt tokens actually prefilled (cache misses) */
  prefillTokens: number;
  gpuBusyS: number;
  gpuIdleS: number;
  prefillS: number;
  decodeS: number;
  /** tool execution time, overlapped or not */
  toolS: number;
  /** largest KV footprint of the request at any moment, bytes (whole instance) */
  kvPeakBytes: number;
  segments?: PowerSegment[];
  toolSpans?: ToolSpan[];
}

/** vLLM caches whole blocks of 16 tokens: a cached prefix counts only in whole blocks. */
export const PREFIX_BLOCK_TOKENS = 16;
const CONTEXT_BUCKET = 32;

interface CostedStep {
  seconds: number;
  powerW: number;
}

/**
 * Memoised step costs for one SimTarget: agents repeat near-identical steps thousands of times,
 * so decode context is bucketed to 32 tokens and prefill lengths to 16-token blocks.
 */
export class StepCostCache {
  private readonly decodeMemo = new Map<number, CostedStep>();
  private readonly prefillMemo = new Map<number, CostedStep>();

  constructor(readonly target: SimTarget) {}

  private costed(batch: StepBatch): CostedStep {
    const c = this.target.stepCost(batch);
    return { seconds: c.seconds, powerW: stepPowerW(this.target.power, c, this.target.peaks) };
  }

  decode(batch: number, contextTokens: number): CostedStep {
    const ctx = Math.max(1, Math.round(contextTokens / CONTEXT_BUCKET)) * CONTEXT_BUCKET;
    const key = ctx * 4096 + batch;
    let hit = this.decodeMemo.get(key);
    if (!hit) {
      hit = this.costed({ prefill: [], decode: Array.from({ length: batch }, () => ({ pastTokens: ctx })) });
      this.decodeMemo.set(key, hit);
    }
    return hit;
  }

  prefill(count: number, tokens: number, pastTokens: number): CostedStep {
    const t = Math.ceil(tokens / PREFIX_BLOCK_TOKENS) * PREFIX_BLOCK_TOKENS;
    const past = Math.floor(pastTokens / PREFIX_BLOCK_TOKENS) * PREFIX_BLOCK_TOKENS;
    const key = (t * 2 ** 20 + past) * 64 + Math.min(count, 63);
    let hit = this.prefillMemo.get(key);
    if (!hit) {
      hit = this.costed({ prefill: Array.from({ length: count }, () => ({ tokens: t, pastTokens: past })), decode: [] });
      this.prefillMemo.set(key, hit);
    }
    return hit;
  }
}

/** Costs one session on the target: prefill and decode via stepCost, tool waits at idle power. */
export function simulateSession(session: Session, cache: StepCostCache, options: SimOptions): EpisodeResult {
  const { target } = cache;
  const chunk = Math.max(1, Math.floor(options.decodeChunk ?? 16));
  const record = options.record === true;
  const tl = new PowerTimeline(target.gpus, target.power.idleW.value, record);
  const toolSpans: ToolSpan[] = [];
  let llmCalls = 0;
  let inputTokens = 0;
  let outputTokens = 0;
  let prefillTokens = 0;
  let toolS = 0;
  let kvPeakTokens = 0;
  let lastDecodeStartS = 0;
  let callNo = 0;

  for (const step of session.steps) {
    if (step.type === 'tool') {
      const start = step.overlap ? Math.min(lastDecodeStartS, tl.wallS) : tl.wallS;
      const end = start + step.seconds;
      toolS += step.seconds;
      if (record) toolSpans.push({ startS: start, endS: end });
      if (end > tl.wallS) tl.idleFor(end - tl.wallS, record ? 'tool wait' : undefined);
      continue;
    }
    callNo++;
    const p = step.parallel ?? 1;
    const input = step.inputTokens;
    const cached = options.prefixCaching
      ? Math.floor(Math.min(step.cachedPrefixTokens ?? 0, input - 1) / PREFIX_BLOCK_TOKENS) * PREFIX_BLOCK_TOKENS
      : 0;
    const fresh = input - cached;
    llmCalls += p;
    inputTokens += p * input;
    outputTokens += p * step.outputTokens;
    prefillTokens += p * fresh;
    // parallel calls share the cached prefix (LATS children); without caching each holds its own
    const kv = options.prefixCaching ? cached + p * (fresh + step.outputTokens) : p * (input + step.outputTokens);
    kvPeakTokens = Math.max(kvPeakTokens, kv);

    // prefill produces the first output token; the remaining ones are decode steps. A prompt past
    // the engine's step budget is prefilled in chunks, each attending to what came before.
    const perStep = Math.max(PREFIX_BLOCK_TOKENS, Math.floor((target.maxPrefillTokensPerStep ?? Infinity) / p));
    for (let done = 0; done < fresh; done += perStep) {
      const n = Math.min(perStep, fresh - done);
      const pre = cache.prefill(p, n, cached + done);
      tl.busyFor('prefill', pre.seconds, pre.powerW, record ? `llm ${callNo} prefill ${fresh} tok x${p}` : undefined);
    }
    lastDecodeStartS = tl.wallS;
    const steps = step.outputTokens - 1;
    for (let k = 0; k < steps; k += chunk) {
      const m = Math.min(chunk, steps - k);
      const d = cache.decode(p, input + k + m / 2);
      tl.busyFor('decode', d.seconds * m, d.powerW, record ? `llm ${callNo} decode x${p}` : undefined);
    }
  }

  const result: EpisodeResult = {
    latencyS: tl.wallS,
    energyJ: tl.energyJ,
    llmCalls,
    inputTokens,
    outputTokens,
    prefillTokens,
    gpuBusyS: tl.busyS,
    gpuIdleS: tl.idleS,
    prefillS: tl.prefillS,
    decodeS: tl.decodeS,
    toolS,
    kvPeakBytes: kvPeakTokens * target.kvBytesPerToken,
  };
  if (record) {
    result.segments = tl.segments ?? [];
    result.toolSpans = toolSpans;
  }
  return result;
}
