import { costAggregate, newAccumulator, prefillPairs, type StepAggregate } from '../perf/cost.js';
import { powerAtUtilisationW } from '../energy/power.js';
import { quantile } from '../agents/montecarlo.js';
import type { Session } from '../agents/trace.js';
import { UserError } from '../errors.js';
import { BlockPool } from './blocks.js';
import { Deque, EventHeap } from './heap.js';
import type { ServeInstance } from './instance.js';
import type { Arrival } from './workload.js';

/**
 * Discrete-event simulation of one serving instance under a stream of agent sessions.
 *
 * Scheduler (vLLM V1-like): one queue of running requests and one FCFS waiting queue. Each engine
 * step has a token budget (max_num_batched_tokens) and a sequence limit (max_num_seqs); running
 * requests are served first, in order (a decode takes 1 token, an unfinished prefill the rest of
 * its prompt, or with chunked prefill as much as the budget leaves), then waiting requests are
 * admitted while budget, sequence slots and KV blocks last. Prefill and decode share steps; with
 * chunked prefill off a prompt is never split (one larger than the budget runs alone in its step).
 * When a running request needs a KV block and none is free, the latest admitted request is
 * preempted: its blocks are freed and it is recomputed later (vLLM's RECOMPUTE), and no new
 * request is admitted in that step. A step lasts what src/perf costs for its exact mix of prefill
 * chunks (tokens, context) and decodes (context).
 *
 * Prefix cache: traces carry token counts, not tokens, so content identity is modelled. A block's
 * key stands for the whole prefix up to its end (like vLLM's chained block hashes): the first
 * cachedPrefixTokens of a call repeat the previous call of the same session (its prompt and output),
 * in whole blocks; everything after is new content of that call (its prompt blocks shared by its
 * parallel children, output blocks per child). The first call of every session starts with the
 * workflow's shared system prompt: the shortest cachedPrefixTokens any session's first call
 * declares, the same tokens for all sessions. Blocks are cached once computed and full; a freed
 * block keeps its content until the pool reuses it, least recently freed first.
 */
export interface ServeOptions {
  prefixCaching: boolean;
  chunkedPrefill: boolean;
  /** sessions run one at a time, each arriving when the previous ends (the unloaded baseline) */
  closedLoop?: boolean;
  /** keep per-request and per-step records (tests, traces) */
  record?: boolean;
}

export interface Percentiles {
  mean: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface RequestRecord {
  session: number;
  call: number;
  child: number;
  promptTokens: number;
  outputTokens: number;
  generated: number;
  enqueueS: number;
  firstTokenS: number;
  finishS: number;
  promptPrefilled: number;
  promptCached: number;
  outputComputed: number;
  outputCached: number;
  recomputed: number;
  preemptions: number;
}

export interface StepRecord {
  startS: number;
  seconds: number;
  /** per GPU; idle periods are recorded with tokens 0 */
  powerW: number;
  tokens: number;
  usedBlocks: number;
}

export interface TokenCounts {
  /** prompt tokens of all LLM calls (each parallel child counts its own prompt) */
  prompt: number;
  /** prompt tokens served from the prefix cache */
  cached: number;
  /** prompt tokens computed the first time */
  prefilled: number;
  /** output tokens whose KV was computed (every output token but each call's last) */
  decoded: number;
  /** output tokens whose KV came back from the cache after a preemption */
  decodeCached: number;
  /** tokens computed again after preemption */
  recomputed: number;
  output: number;
  /** tokens computed by all steps, from the cost side (equals prefilled + decoded + recomputed) */
  stepTokens: number;
}

export interface ServeRun {
  qps: number;
  sessions: number;
  completedSessions: number;
  llmCalls: number;
  makespanS: number;
  throughputQps: number;
  latencyS: Percentiles;
  ttftS: Percentiles;
  tpotS: Percentiles;
  energyJ: number;
  energyWhPerQuery: number;
  /** per-session attributed energy, Wh */
  energyWhPerSession: Percentiles;
  kvCacheBytes: { mean: number; max: number };
  kvPoolBytes: number;
  prefixHitRate: number;
  gpuUtilisation: number;
  busyS: number;
  steps: number;
  /** mean sequences per step */
  meanBatch: number;
  preemptions: number;
  evictions: number;
  maxUsedBlocks: number;
  numBlocks: number;
  tokens: TokenCounts;
  sessionEnergyJ?: number[];
  requests?: RequestRecord[];
  stepRecords?: StepRecord[];
}

interface SessionState {
  index: number;
  session: Session;
  arrivalS: number;
  started: boolean;
  stepIndex: number;
  call: number;
  pending: number;
  first: Request | null;
  lastDecodeStartS: number;
  keys: number[];
  finishS: number;
  energyJ: number;
  idleMark: number;
}

interface Request {
  session: SessionState;
  call: number;
  child: number;
  N: number;
  M: number;
  generated: number;
  computed: number;
  blocks: number[];
  parentKeys: number[];
  reuse: number;
  callBranch: number;
  childBranch: number;
  enqueueS: number;
  firstTokenS: number;
  finishS: number;
  done: boolean;
  /** tokens whose KV was ever computed or found cached (positions below it) */
  frontier: number;
  promptPrefilled: number;
  promptCached: number;
  outputComputed: number;
  outputCached: number;
  recomputed: number;
  preemptions: number;
}

/** block key = branch x KEY_SCALE + block index: exact in a double up to 2^32 branches */
const KEY_SCALE = 2 ** 21;
const SHARED_BRANCH = 0;

function percentiles(values: number[]): Percentiles {
  if (values.length === 0) return { mean: NaN, p50: NaN, p95: NaN, p99: NaN };
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (const v of values) sum += v;
  const arr = sorted as unknown as number[];
  return { mean: sum / values.length, p50: quantile(arr, 0.5), p95: quantile(arr, 0.95), p99: quantile(arr, 0.99) };
}

/** The workflow's shared system prompt: the shortest cached prefix any session's first call declares. */
export function sharedPrefixTokens(sessions: Iterable<Session>): number {
  let min = Infinity;
  for (const s of sessions) {
    const first = s.steps.find((x) => x.type === 'llm');
    const c = first && first.type === 'llm' ? (first.cachedPrefixTokens ?? 0) : 0;
    if (c > 0 && c < min) min = c;
  }
  return Number.isFinite(min) ? min : 0;
}

/** Runs the instance on `arrivals` until every session has finished. `qps` is only reported. */
export function simulateServing(instance: ServeInstance, arrivals: Arrival[], qps: number, options: ServeOptions): ServeRun {
  const B = instance.blockTokens;
  const W = instance.ctx.windowTokens;
  const tile = instance.ctx.causalTile;
  const gpus = instance.tp;
  const maxTokens = instance.maxBatchedTokens;
  const maxSeqs = instance.maxSeqs;
  const chunked = options.chunkedPrefill;
  const caching = options.prefixCaching;
  const record = options.record === true;
  const pool = new BlockPool(instance.numBlocks, caching);
  const idleW = instance.power.idleW.value;
  const peakFlops = instance.peaks.flopsPerS;
  const peakBw = instance.peaks.memoryBytesPerS;
  const blocksFor = (tokens: number) => Math.ceil(tokens / B);

  const shared = sharedPrefixTokens(arrivals.map((a) => a.session));
  const sharedKeys = Array.from({ length: Math.floor(shared / B) }, (_, j) => SHARED_BRANCH * KEY_SCALE + j);
  let nextBranch = SHARED_BRANCH + 1;

  // every request must fit the pool on its own, or it could never run
  for (const a of arrivals) {
    for (const st of a.session.steps) {
      if (st.type !== 'llm') continue;
      const need = blocksFor(st.inputTokens + st.outputTokens);
      if (need > instance.numBlocks) {
        throw new UserError(
          `session ${a.session.id}: a call of ${st.inputTokens} + ${st.outputTokens} tokens needs ${need} KV blocks; the pool holds ${instance.numBlocks}`,
        );
      }
      if (need >= KEY_SCALE) throw new UserError(`session ${a.session.id}: a call of ${st.inputTokens + st.outputTokens} tokens is too long`);
    }
  }

  const states: SessionState[] = arrivals.map((a, index) => ({
    index,
    session: a.session,
    arrivalS: a.arrivalS,
    started: false,
    stepIndex: 0,
    call: 0,
    pending: 0,
    first: null,
    lastDecodeStartS: 0,
    keys: sharedKeys,
    finishS: NaN,
    energyJ: 0,
    idleMark: 0,
  }));
  const events = new EventHeap<SessionState>();
  if (options.closedLoop) {
    if (states.length > 0) {
      states[0].arrivalS = 0;
      events.push(0, states[0]);
    }
  } else for (const s of states) events.push(s.arrivalS, s);

  const waiting = new Deque<Request>();
  const running: Request[] = [];
  const latencies: number[] = [];
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const requestRecords: RequestRecord[] | undefined = record ? [] : undefined;
  const stepRecords: StepRecord[] | undefined = record ? [] : undefined;
  const tokens: TokenCounts = { prompt: 0, cached: 0, prefilled: 0, decoded: 0, decodeCached: 0, recomputed: 0, output: 0, stepTokens: 0 };
  let llmCalls = 0;
  let completed = 0;
  let active = 0; // sessions arrived and not finished
  let now = 0;
  let busyS = 0;
  let energyJ = 0;
  let kvBlockSeconds = 0;
  let maxUsed = 0;
  let steps = 0;
  let seqSteps = 0;
  let preemptions = 0;
  // idle energy is shared by the sessions present (all waiting on tools); what falls while none is
  // present is spread over all sessions at the end
  let idlePerSessionJ = 0;
  let orphanIdleJ = 0;

  const keyOf = (r: Request, j: number): number =>
    j < r.reuse ? r.parentKeys[j] : ((j + 1) * B <= r.N ? r.callBranch : r.childBranch) * KEY_SCALE + j;

  function finishSession(s: SessionState, t: number): void {
    s.finishS = t;
    s.energyJ += idlePerSessionJ - s.idleMark;
    latencies.push(t - s.arrivalS);
    completed++;
    active--;
    if (options.closedLoop && s.index + 1 < states.length) {
      const next = states[s.index + 1];
      next.arrivalS = t;
      events.push(t, next);
    }
  }

  /** Runs the session's steps from `t` until it issues an LLM call, waits on a tool, or ends. */
  function advance(s: SessionState, t: number): void {
    const stepsOf = s.session.steps;
    while (s.stepIndex < stepsOf.length) {
      const st = stepsOf[s.stepIndex++];
      if (st.type === 'tool') {
        const start = st.overlap ? Math.min(s.lastDecodeStartS, t) : t;
        const end = start + st.seconds;
        if (end > t) {
          events.push(end, s);
          return;
        }
        continue;
      }
      const p = st.parallel ?? 1;
      const C = st.cachedPrefixTokens ?? 0;
      const reuse = Math.min(Math.floor(C / B), s.keys.length);
      const callBranch = nextBranch++;
      s.pending = p;
      s.first = null;
      for (let c = 0; c < p; c++) {
        const r: Request = {
          session: s,
          call: s.call,
          child: c,
          N: st.inputTokens,
          M: st.outputTokens,
          generated: 0,
          computed: 0,
          blocks: [],
          parentKeys: s.keys,
          reuse,
          callBranch,
          childBranch: nextBranch++,
          enqueueS: t,
          firstTokenS: NaN,
          finishS: NaN,
          done: false,
          frontier: 0,
          promptPrefilled: 0,
          promptCached: 0,
          outputComputed: 0,
          outputCached: 0,
          recomputed: 0,
          preemptions: 0,
        };
        if (c === 0) s.first = r;
        waiting.pushBack(r);
        llmCalls++;
      }
      s.call++;
      return;
    }
    finishSession(s, t);
  }

  function finishRequest(r: Request, t: number): void {
    r.done = true;
    r.finishS = t;
    for (let i = r.blocks.length - 1; i >= 0; i--) pool.release(r.blocks[i]); // tail blocks are evicted first
    r.blocks = [];
    ttfts.push(r.firstTokenS - r.enqueueS);
    if (r.M > 1) tpots.push((t - r.firstTokenS) / (r.M - 1));
    tokens.prompt += r.N;
    tokens.cached += r.promptCached;
    tokens.prefilled += r.promptPrefilled;
    tokens.decoded += r.outputComputed;
    tokens.decodeCached += r.outputCached;
    tokens.recomputed += r.recomputed;
    tokens.output += r.generated;
    requestRecords?.push({
      session: r.session.index,
      call: r.call,
      child: r.child,
      promptTokens: r.N,
      outputTokens: r.M,
      generated: r.generated,
      enqueueS: r.enqueueS,
      firstTokenS: r.firstTokenS,
      finishS: r.finishS,
      promptPrefilled: r.promptPrefilled,
      promptCached: r.promptCached,
      outputComputed: r.outputComputed,
      outputCached: r.outputCached,
      recomputed: r.recomputed,
      preemptions: r.preemptions,
    });
    const s = r.session;
    if (--s.pending === 0) {
      const f = s.first!;
      const n = Math.floor((f.N + f.M) / B);
      const keys = new Array<number>(n);
      for (let j = 0; j < n; j++) keys[j] = keyOf(f, j);
      s.keys = keys;
      s.lastDecodeStartS = f.firstTokenS;
      s.first = null;
      advance(s, t);
    }
  }

  function preempt(victim: Request): void {
    running.pop();
    for (let i = victim.blocks.length - 1; i >= 0; i--) pool.release(victim.blocks[i]);
    victim.blocks = [];
    victim.computed = 0;
    victim.preemptions++;
    preemptions++;
    waiting.pushFront(victim);
  }

  /** Counts tokens [0, h) found in the cache at admission; first-time ones are cache hits. */
  function markCached(r: Request, h: number): void {
    if (h <= r.frontier) return;
    const promptPart = Math.max(0, Math.min(h, r.N) - r.frontier);
    r.promptCached += promptPart;
    r.outputCached += h - r.frontier - promptPart;
    r.frontier = h;
  }

  /** Counts tokens [p, p + k) computed in a step: first-time prompt, first-time output, or recompute. */
  function markComputed(r: Request, p: number, k: number): void {
    const end = p + k;
    const start = Math.max(p, r.frontier);
    if (end <= start) {
      r.recomputed += k;
      return;
    }
    const fresh = end - start;
    const promptPart = Math.max(0, Math.min(end, r.N) - start);
    r.promptPrefilled += promptPart;
    r.outputComputed += fresh - promptPart;
    r.recomputed += k - fresh;
    r.frontier = end;
  }

  const agg: StepAggregate = { tokens: 0, prefillSeqs: 0, prefillTokens: 0, prefillPairs: 0, prefillKvTokens: 0, decodeSeqs: 0, decodeKvTokens: 0, sampled: 0 };
  const acc = newAccumulator(false);
  const sched: Request[] = [];
  const schedK: number[] = [];
  const hits: number[] = [];

  /** Takes `k` tokens for `r` if it fits the budget rule; 0 when it must wait. */
  const chunkFor = (remaining: number, budget: number): number =>
    remaining <= budget ? remaining : chunked ? budget : budget === maxTokens ? remaining : 0;

  function step(): void {
    let budget = maxTokens;
    sched.length = 0;
    schedK.length = 0;
    let preempted = false;
    for (let i = 0; i < running.length && budget > 0; i++) {
      const r = running[i];
      const k = chunkFor(r.N + r.generated - r.computed, budget);
      if (k === 0) continue;
      const need = blocksFor(r.computed + k) - r.blocks.length;
      let self = false;
      while (need > pool.freeBlocks) {
        const victim = running[running.length - 1];
        preempt(victim);
        preempted = true;
        if (victim === r) {
          self = true;
          break;
        }
      }
      if (self) break;
      for (let n = 0; n < need; n++) r.blocks.push(pool.allocate());
      sched.push(r);
      schedK.push(k);
      budget -= k;
    }
    if (!preempted) {
      while (budget > 0 && running.length < maxSeqs && waiting.length > 0) {
        const r = waiting.peekFront()!;
        const total = r.N + r.generated;
        hits.length = 0;
        let hitFree = 0;
        if (caching) {
          const maxHit = Math.floor((total - 1) / B); // at least one token is computed to sample
          for (let j = 0; j < maxHit; j++) {
            const b = pool.lookup(keyOf(r, j));
            if (b < 0) break;
            hits.push(b);
            if (pool.refCount(b) === 0) hitFree++;
          }
        }
        const hitTokens = hits.length * B;
        const k = chunkFor(total - hitTokens, budget);
        if (k === 0) break;
        const need = blocksFor(hitTokens + k) - hits.length;
        if (need > pool.freeBlocks - hitFree) break;
        waiting.popFront();
        for (const b of hits) pool.touch(b);
        r.blocks = hits.slice();
        for (let n = 0; n < need; n++) r.blocks.push(pool.allocate());
        r.computed = hitTokens;
        markCached(r, hitTokens);
        running.push(r);
        sched.push(r);
        schedK.push(k);
        budget -= k;
      }
    }
    if (sched.length === 0) throw new Error(`scheduler made no progress at t=${now} (${running.length} running, ${waiting.length} waiting)`);

    agg.prefillSeqs = agg.prefillTokens = agg.prefillPairs = agg.prefillKvTokens = agg.decodeSeqs = agg.decodeKvTokens = agg.sampled = 0;
    for (let i = 0; i < sched.length; i++) {
      const r = sched[i];
      const k = schedK[i];
      const p = r.computed;
      if (k === 1 && r.generated > 0) {
        agg.decodeSeqs++;
        agg.decodeKvTokens += Math.min(p + 1, W);
      } else {
        agg.prefillSeqs++;
        agg.prefillTokens += k;
        agg.prefillPairs += prefillPairs(k, p, W, tile);
        agg.prefillKvTokens += Math.min(p + k, W + k);
      }
      if (p + k === r.N + r.generated) agg.sampled++;
    }
    agg.tokens = agg.prefillTokens + agg.decodeSeqs;
    costAggregate(instance.ctx, agg, acc);
    const dt = acc.seconds;
    const powerW = powerAtUtilisationW(instance.power, acc.bytes / (dt * peakBw), acc.flops / (dt * peakFlops));
    const stepJ = powerW * dt * gpus;
    const used = pool.usedBlocks;
    if (used > maxUsed) maxUsed = used;
    stepRecords?.push({ startS: now, seconds: dt, powerW, tokens: agg.tokens, usedBlocks: used });
    kvBlockSeconds += used * dt;
    energyJ += stepJ;
    busyS += dt;
    steps++;
    seqSteps += sched.length;
    tokens.stepTokens += agg.tokens;
    const end = now + dt;
    now = end;

    let finished = false;
    for (let i = 0; i < sched.length; i++) {
      const r = sched[i];
      const k = schedK[i];
      const old = r.computed;
      markComputed(r, old, k);
      r.computed = old + k;
      if (caching) {
        const full = Math.floor(r.computed / B);
        for (let j = Math.floor(old / B); j < full; j++) pool.register(r.blocks[j], keyOf(r, j));
      }
      r.session.energyJ += (stepJ * k) / agg.tokens;
      if (r.computed === r.N + r.generated) {
        r.generated++;
        if (r.generated === 1) r.firstTokenS = end;
        if (r.generated === r.M) {
          finishRequest(r, end);
          finished = true;
        }
      }
    }
    if (finished) {
      let w = 0;
      for (let i = 0; i < running.length; i++) if (!running[i].done) running[w++] = running[i];
      running.length = w;
    }
  }

  for (;;) {
    while (events.size > 0 && events.nextTimeS <= now) {
      const t = events.nextTimeS;
      const s = events.pop();
      if (!s.started) {
        s.started = true;
        s.idleMark = idlePerSessionJ;
        active++;
      }
      advance(s, t);
    }
    if (running.length > 0 || waiting.length > 0) {
      step();
      continue;
    }
    if (events.size === 0) break;
    const next = events.nextTimeS;
    const dt = next - now;
    const idleJ = idleW * dt * gpus;
    energyJ += idleJ;
    if (active > 0) idlePerSessionJ += idleJ / active;
    else orphanIdleJ += idleJ;
    stepRecords?.push({ startS: now, seconds: dt, powerW: idleW, tokens: 0, usedBlocks: pool.usedBlocks });
    kvBlockSeconds += pool.usedBlocks * dt;
    now = next;
  }

  const n = states.length;
  if (completed !== n) throw new Error(`${n - completed} sessions never finished`);
  const sessionEnergyJ = states.map((s) => s.energyJ + (n > 0 ? orphanIdleJ / n : 0));
  const makespanS = now;
  const kvPoolBytes = instance.numBlocks * instance.kvBytesPerBlock;
  const run: ServeRun = {
    qps,
    sessions: n,
    completedSessions: completed,
    llmCalls,
    makespanS,
    throughputQps: makespanS > 0 ? completed / makespanS : 0,
    latencyS: percentiles(latencies),
    ttftS: percentiles(ttfts),
    tpotS: percentiles(tpots),
    energyJ,
    energyWhPerQuery: n > 0 ? energyJ / n / 3600 : 0,
    energyWhPerSession: percentiles(sessionEnergyJ.map((j) => j / 3600)),
    kvCacheBytes: { mean: makespanS > 0 ? (kvBlockSeconds / makespanS) * instance.kvBytesPerBlock : 0, max: maxUsed * instance.kvBytesPerBlock },
    kvPoolBytes,
    prefixHitRate: tokens.prompt > 0 ? tokens.cached / tokens.prompt : 0,
    gpuUtilisation: makespanS > 0 ? busyS / makespanS : 0,
    busyS,
    steps,
    meanBatch: steps > 0 ? seqSteps / steps : 0,
    preemptions,
    evictions: pool.evictions,
    maxUsedBlocks: maxUsed,
    numBlocks: instance.numBlocks,
    tokens,
  };
  if (record) {
    run.sessionEnergyJ = sessionEnergyJ;
    run.requests = requestRecords;
    run.stepRecords = stepRecords;
  }
  return run;
}
