import type { EpisodeResult } from './simulate.js';

/** A Chrome trace event ("X" complete events and "M" metadata), as Perfetto and chrome://tracing read them. */
interface TraceEvent {
  name: string;
  ph: 'X' | 'M' | 'C';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/**
 * One simulated episode as a Chrome trace (JSON object format): a track per GPU with its prefill,
 * decode and idle spans (power in args), a track of tool calls, and a power counter. Consecutive
 * decode chunks of one call are merged into one span. Times in microseconds.
 */
export function toChromeTrace(result: EpisodeResult, gpus: number, title: string): { traceEvents: TraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, unknown> } {
  const segments = result.segments ?? [];
  const us = (s: number) => Math.round(s * 1e6 * 1000) / 1000;
  const merged: { kind: string; label: string; startS: number; endS: number; energyJ: number }[] = [];
  for (const s of segments) {
    const label = s.label ?? s.kind;
    const last = merged[merged.length - 1];
    const e = s.powerW * (s.endS - s.startS);
    if (last && last.label === label && last.kind === s.kind && Math.abs(last.endS - s.startS) < 1e-12) {
      last.endS = s.endS;
      last.energyJ += e;
    } else merged.push({ kind: s.kind, label, startS: s.startS, endS: s.endS, energyJ: e });
  }
  const events: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: 1, tid: 0, args: { name: title } }];
  for (let g = 0; g < gpus; g++) events.push({ name: 'thread_name', ph: 'M', pid: 1, tid: g, args: { name: `GPU ${g}` } });
  events.push({ name: 'thread_name', ph: 'M', pid: 1, tid: gpus, args: { name: 'tools' } });
  for (let g = 0; g < gpus; g++) {
    for (const m of merged) {
      const dur = m.endS - m.startS;
      events.push({
        name: m.kind === 'idle' ? 'idle (tool wait)' : m.label,
        cat: m.kind,
        ph: 'X',
        pid: 1,
        tid: g,
        ts: us(m.startS),
        dur: us(dur),
        args: { powerW: dur > 0 ? m.energyJ / dur : 0, energyJ: m.energyJ },
      });
    }
  }
  (result.toolSpans ?? []).forEach((t, i) =>
    events.push({ name: `tool ${i + 1}`, cat: 'tool', ph: 'X', pid: 1, tid: gpus, ts: us(t.startS), dur: us(t.endS - t.startS) }),
  );
  for (const s of segments) {
    events.push({ name: 'power per GPU (W)', ph: 'C', pid: 1, tid: 0, ts: us(s.startS), args: { W: s.powerW } });
  }
  return {
    traceEvents: events,
    displayTimeUnit: 'ms',
    otherData: { latencyS: result.latencyS, energyJ: result.energyJ, gpus },
  };
}
