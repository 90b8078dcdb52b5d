import { UserError } from '../errors.js';
import {
  BENCHMARK_PRESETS,
  WORKFLOW_PRESET,
  successProbability,
  type BenchmarkId,
  type BenchmarkParams,
  type WorkflowId,
  type WorkflowParams,
} from './presets.js';
import type { Rng } from './rng.js';
import type { Session, Step } from './trace.js';

export interface GenerateOptions {
  workflow: WorkflowId;
  benchmark: BenchmarkId;
  /** accuracy the study reports for this model and workflow (sets the stopping probability) */
  accuracy: number;
  params?: WorkflowParams;
}

/**
 * Builds a session step by step, tracking the prompt the next call sees. Cached-prefix accounting
 * follows vLLM's automatic prefix caching: a prompt that extends an earlier prompt plus its
 * generated tokens finds those tokens cached; the workflow's fixed system prompt is cached from
 * earlier requests of the same workflow (requests are served one after another).
 */
class SessionBuilder {
  readonly steps: Step[] = [];

  llm(inputTokens: number, cachedPrefixTokens: number, outputTokens: number, parallel = 1): void {
    const cached = Math.max(0, Math.min(Math.round(cachedPrefixTokens), inputTokens - 1));
    const step: Step = { type: 'llm', inputTokens: Math.round(inputTokens), outputTokens: Math.round(outputTokens) };
    if (cached > 0) step.cachedPrefixTokens = cached;
    if (parallel > 1) step.parallel = parallel;
    this.steps.push(step);
  }

  tool(seconds: number, overlap = false): void {
    this.steps.push(overlap ? { type: 'tool', seconds, overlap: true } : { type: 'tool', seconds });
  }
}

/** Number of steps until the agent answers: 1 + geometric, mean `mean`, at most `max`. */
function stepsToAnswer(rng: Rng, mean: number, max: number): number {
  const q = 1 / Math.max(1, mean);
  if (q >= 1) return 1;
  const u = Math.max(rng.next(), Number.MIN_VALUE);
  return Math.min(max, 1 + Math.floor(Math.log(u) / Math.log(1 - q)));
}

function toolSeconds(rng: Rng, b: BenchmarkParams): number {
  return rng.lognormal(b.toolLatencyS.value, b.toolLatencyCv.value);
}

/** A tool call of the benchmark; on HumanEval the LLM first writes the tests it runs. */
function toolCall(sb: SessionBuilder, rng: Rng, b: BenchmarkParams, p: WorkflowParams, parallel = 1): void {
  if (b.testGenerationTokens.value > 0) {
    const input = b.questionTokens.value + 200; // test-writing instruction (assumed ~200 tokens)
    sb.llm(input, 200, rng.tokens(b.testGenerationTokens.value, p.step.outputCv.value), parallel);
  }
  let wait = 0;
  for (let i = 0; i < parallel; i++) wait = Math.max(wait, toolSeconds(rng, b));
  sb.tool(wait);
}

function promptTokens(b: BenchmarkParams, shots: number): number {
  const table = b.promptTokensByShots.value;
  return table[Math.max(0, Math.min(table.length - 1, Math.round(shots)))];
}

/**
 * ReAct steps on a growing context: each step is one Thought+Action call, then (except for the
 * final Finish) a tool whose observation is appended. Returns the context after the last step.
 */
function reactSteps(
  sb: SessionBuilder,
  rng: Rng,
  b: BenchmarkParams,
  p: WorkflowParams,
  startTokens: number,
  cachedAtStart: number,
  steps: number,
): number {
  let ctx = startTokens;
  let cached = cachedAtStart;
  for (let i = 0; i < steps; i++) {
    const out = rng.tokens(p.step.thoughtActionTokens.value, p.step.outputCv.value);
    sb.llm(ctx, cached, out);
    cached = ctx + out; // this prompt and its output are cached for the next call
    ctx += out;
    if (i < steps - 1) {
      toolCall(sb, rng, b, p);
      ctx += rng.tokens(b.observationTokens.value, 0.5);
    }
  }
  return ctx;
}

function sharegpt(sb: SessionBuilder, rng: Rng, p: WorkflowParams): void {
  const q = p.sharegpt;
  sb.llm(rng.tokens(q.inputTokens.value, q.inputCv.value), 0, rng.tokens(q.outputTokens.value, q.outputCv.value));
}

function cot(sb: SessionBuilder, rng: Rng, b: BenchmarkParams, p: WorkflowParams): void {
  const sys = promptTokens(b, p.cot.shots.value);
  sb.llm(sys + b.questionTokens.value, sys, rng.tokens(p.cot.outputTokens.value, p.cot.outputCv.value));
}

function react(sb: SessionBuilder, rng: Rng, b: BenchmarkParams, p: WorkflowParams): void {
  const sys = promptTokens(b, p.react.shots.value);
  const steps = stepsToAnswer(rng, p.react.meanStepsToAnswer.value, p.react.maxLlmCalls.value);
  reactSteps(sb, rng, b, p, sys + b.questionTokens.value, sys, steps);
}

function reflexion(sb: SessionBuilder, rng: Rng, b: BenchmarkParams, p: WorkflowParams, accuracy: number): void {
  const r = p.reflexion;
  const sys = promptTokens(b, r.shots.value);
  const trials = Math.round(r.maxTrials.value);
  const window = Math.max(0, Math.round(r.memoryReflections.value));
  const pTrial = successProbability(accuracy, trials);
  const memory: number[] = []; // reflection lengths, oldest first
  let cachedMemory = 0; // tokens of the memory that sit where they sat in the previous trial prompt
  for (let t = 0; t < trials; t++) {
    // the memory sits after the question: reflections kept in place are a cached prefix
    const memoryTokens = memory.reduce((a, x) => a + x, 0);
    const start = sys + b.questionTokens.value + memoryTokens;
    const cached = t === 0 ? sys : sys + b.questionTokens.value + cachedMemory;
    const steps = stepsToAnswer(rng, p.react.meanStepsToAnswer.value, r.maxStepsPerTrial.value);
    const ctx = reactSteps(sb, rng, b, p, start, cached, steps);
    if (rng.bernoulli(pTrial) || t === trials - 1) return;
    // the reflection prompt quotes the failed trajectory after its own instructions
    const trajectory = ctx - sys;
    const out = rng.tokens(r.reflectionTokens.value, p.step.outputCv.value);
    sb.llm(r.reflectionPromptTokens.value + trajectory, r.reflectionPromptTokens.value, out);
    memory.push(out);
    if (memory.length > window) {
      memory.shift(); // the oldest reflection leaves: everything after the question shifts
      cachedMemory = 0;
    } else cachedMemory = memoryTokens;
  }
}

function lats(sb: SessionBuilder, rng: Rng, b: BenchmarkParams, p: WorkflowParams, accuracy: number): void {
  const l = p.lats;
  const n = Math.round(l.children.value);
  const maxIter = Math.round(l.maxIterations.value);
  const maxDepth = Math.round(l.maxDepth.value);
  const pIter = successProbability(accuracy, maxIter);
  const root = promptTokens(b, l.shots.value) + b.questionTokens.value;
  const stepTokens = p.step.thoughtActionTokens.value + b.observationTokens.value;
  const valueRoot = l.valuePromptTokens.value + b.questionTokens.value;
  for (let it = 0; it < maxIter; it++) {
    // selection: MCTS descends to a node of the kept tree (depth assumed uniform over the upper half)
    let depth = rng.int(0, Math.max(0, Math.floor(maxDepth / 2)));
    // expansion, then rollout until the agent answers or the depth limit: each level asks for n
    // children concurrently, runs their tools in parallel and scores them with n value calls
    let finished = false;
    while (!finished && depth < maxDepth) {
      const path = root + depth * stepTokens; // LATS keeps only the root-to-node path
      const out = rng.tokens(p.step.thoughtActionTokens.value, p.step.outputCv.value);
      sb.llm(path, path - b.observationTokens.value, out, n);
      finished = rng.bernoulli(1 / p.react.meanStepsToAnswer.value);
      if (!finished) toolCall(sb, rng, b, p, n);
      const child = out + (finished ? 0 : rng.tokens(b.observationTokens.value, 0.5));
      const valueInput = valueRoot + depth * stepTokens + child;
      sb.llm(valueInput, valueRoot + depth * stepTokens, rng.tokens(l.valueTokens.value, 0.5), n);
      depth++;
    }
    if (rng.bernoulli(pIter)) return;
  }
}

function llmcompiler(sb: SessionBuilder, rng: Rng, b: BenchmarkParams, p: WorkflowParams): void {
  const c = p.llmcompiler;
  let history = b.questionTokens.value;
  for (let round = 0; round < c.maxRounds.value; round++) {
    const tasks = Math.max(1, Math.round(rng.lognormal(c.meanTasks.value, 0.4)));
    const plan = tasks * rng.tokens(c.tokensPerTask.value, 0.3) + 10;
    const plannerInput = c.plannerPromptTokens.value + history;
    sb.llm(plannerInput, c.plannerPromptTokens.value + (round > 0 ? history - 1 : 0), plan);
    // tasks stream to the executor while the plan is decoded: tools overlap planning
    let wait = 0;
    for (let i = 0; i < tasks; i++) wait = Math.max(wait, toolSeconds(rng, b));
    sb.tool(wait, true);
    let observations = 0;
    for (let i = 0; i < tasks; i++) observations += rng.tokens(b.observationTokens.value, 0.5);
    history += plan + observations;
    sb.llm(c.joinerPromptTokens.value + history, c.joinerPromptTokens.value, rng.tokens(c.joinerTokens.value, 0.5));
    if (!rng.bernoulli(c.replanProbability.value)) return;
  }
}

/** One episode of `workflow` on `benchmark` as a trace session. */
export function generateSession(rng: Rng, options: GenerateOptions, id: string): Session {
  const p = options.params ?? WORKFLOW_PRESET;
  const b = BENCHMARK_PRESETS[options.benchmark];
  if (!b) throw new UserError(`unknown benchmark '${options.benchmark}'`);
  const sb = new SessionBuilder();
  switch (options.workflow) {
    case 'sharegpt':
      sharegpt(sb, rng, p);
      break;
    case 'cot':
      cot(sb, rng, b, p);
      break;
    case 'react':
      react(sb, rng, b, p);
      break;
    case 'reflexion':
      reflexion(sb, rng, b, p, options.accuracy);
      break;
    case 'lats':
      lats(sb, rng, b, p, options.accuracy);
      break;
    case 'llmcompiler':
      llmcompiler(sb, rng, b, p);
      break;
    default:
      throw new UserError(`unknown workflow '${String(options.workflow)}'`);
  }
  return { id, steps: sb.steps };
}
