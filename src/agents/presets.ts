import type { Sourced } from '../hardware/types.js';

/**
 * Workflow and benchmark parameters as data, each with where it comes from. "study" is Kim et al.,
 * "The Cost of Dynamic Reasoning", arXiv 2506.04301 (shared reference agent-energy-study.md).
 * "assumed" figures are stated guesses with the reason; "fitted" ones were chosen so that the model
 * reproduces a number of the study, which is then not independent evidence (see study.ts).
 * A preset is shared by every model: 8B and 70B runs of one workflow use the same parameters;
 * only the stopping probability follows the accuracy the study reports per model.
 */
export const WORKFLOWS = ['sharegpt', 'cot', 'react', 'reflexion', 'lats', 'llmcompiler'] as const;
export type WorkflowId = (typeof WORKFLOWS)[number];
export const BENCHMARKS = ['hotpotqa', 'webshop', 'math', 'humaneval'] as const;
export type BenchmarkId = (typeof BENCHMARKS)[number];

const STUDY = 'Kim et al. arXiv 2506.04301 (agent-energy-study.md)';
const s = (value: number, source: string): Sourced => ({ value, source });

export interface BenchmarkParams {
  id: BenchmarkId;
  name: string;
  /** ReAct-style system prompt tokens by number of few-shot examples (index = shots) */
  promptTokensByShots: Sourced<number[]>;
  questionTokens: Sourced;
  /** tokens a tool result appends to the context */
  observationTokens: Sourced;
  toolLatencyS: Sourced;
  /** coefficient of variation of tool latency (log-normal) */
  toolLatencyCv: Sourced;
  /** HumanEval: the "tool" first asks the LLM to write tests (output tokens; 0 = no such call) */
  testGenerationTokens: Sourced;
  /** accuracy used for stopping when the study gives none for the model (see successProbability) */
  defaultAccuracy: Sourced;
}

const linearShots = (base: number, perShot: number): number[] =>
  Array.from({ length: 6 }, (_, k) => base + perShot * k);

export const BENCHMARK_PRESETS: Record<BenchmarkId, BenchmarkParams> = {
  hotpotqa: {
    id: 'hotpotqa',
    name: 'HotpotQA (Wikipedia search/lookup)',
    promptTokensByShots: {
      value: [250, 580, 800, 1100, 1340, 1540],
      source: `${STUDY}: few-shot ReAct prompt for HotpotQA, 0..5 examples (released prompts, chars/4)`,
    },
    questionTokens: s(40, 'assumed: a HotpotQA question is one or two sentences'),
    observationTokens: s(
      180,
      `derived from ${STUDY}: prompts grow 3-4x from ~1,000 tokens over a trial (~10 steps) = ~250 tokens/step, less ~70 of thought+action`,
    ),
    toolLatencyS: s(1.2, `${STUDY}: Wikipedia API, about 1.2 s per tool call`),
    toolLatencyCv: s(0.5, 'assumed: network API latency spread'),
    testGenerationTokens: s(0, 'no test generation on HotpotQA'),
    defaultAccuracy: s(0.5, 'assumed: between the study accuracies of Reflexion 8B (38%) and 70B (67%)'),
  },
  webshop: {
    id: 'webshop',
    name: 'WebShop (local web pages)',
    promptTokensByShots: { value: linearShots(300, 450), source: 'assumed: a WebShop example trajectory is ~450 tokens (longer page text than HotpotQA)' },
    questionTokens: s(60, 'assumed: a shopping instruction with attributes and price'),
    observationTokens: s(250, 'assumed: a search-results or product page rendered as text'),
    toolLatencyS: s(0.02, `${STUDY}: local web pages, about 20 ms per call`),
    toolLatencyCv: s(0.3, 'assumed'),
    testGenerationTokens: s(0, 'no test generation on WebShop'),
    defaultAccuracy: s(0.5, 'assumed'),
  },
  math: {
    id: 'math',
    name: 'MATH (Wolfram Alpha + Python)',
    promptTokensByShots: { value: linearShots(250, 300), source: 'assumed: a worked MATH example is ~300 tokens' },
    questionTokens: s(80, 'assumed: a competition problem statement'),
    observationTokens: s(80, 'assumed: a Wolfram Alpha or Python result is short'),
    toolLatencyS: s(1.0, 'assumed: a Wolfram Alpha web API round trip, like the Wikipedia API (1.2 s in the study)'),
    toolLatencyCv: s(0.6, 'assumed'),
    testGenerationTokens: s(0, 'no test generation on MATH'),
    defaultAccuracy: s(0.5, 'assumed'),
  },
  humaneval: {
    id: 'humaneval',
    name: 'HumanEval (generated tests + local execution)',
    promptTokensByShots: { value: linearShots(200, 350), source: 'assumed: a HumanEval example (signature, docstring, solution) is ~350 tokens' },
    questionTokens: s(150, 'assumed: a HumanEval prompt (signature and docstring)'),
    observationTokens: s(120, 'assumed: test results and tracebacks'),
    toolLatencyS: s(0.3, 'assumed: running a few unit tests in a local Python process'),
    toolLatencyCv: s(0.5, 'assumed'),
    testGenerationTokens: s(200, `${STUDY}: test generation is itself an LLM call (size assumed: a few asserts)`),
    defaultAccuracy: s(0.5, 'assumed'),
  },
};

/** Parameters of the ReAct step every tool-using workflow is built of. */
export interface StepParams {
  /** output tokens of one Thought + Action call */
  thoughtActionTokens: Sourced;
  outputCv: Sourced;
}

export interface WorkflowParams {
  sharegpt: { inputTokens: Sourced; inputCv: Sourced; outputTokens: Sourced; outputCv: Sourced };
  cot: { shots: Sourced; outputTokens: Sourced; outputCv: Sourced };
  step: StepParams;
  react: { shots: Sourced; maxLlmCalls: Sourced; meanStepsToAnswer: Sourced };
  reflexion: {
    shots: Sourced;
    maxStepsPerTrial: Sourced;
    maxTrials: Sourced;
    memoryReflections: Sourced;
    reflectionPromptTokens: Sourced;
    reflectionTokens: Sourced;
  };
  lats: {
    shots: Sourced;
    children: Sourced;
    maxIterations: Sourced;
    maxDepth: Sourced;
    valuePromptTokens: Sourced;
    valueTokens: Sourced;
  };
  llmcompiler: {
    plannerPromptTokens: Sourced;
    tokensPerTask: Sourced;
    meanTasks: Sourced;
    joinerPromptTokens: Sourced;
    joinerTokens: Sourced;
    replanProbability: Sourced;
    maxRounds: Sourced;
  };
}

export const WORKFLOW_PRESET: WorkflowParams = {
  sharegpt: {
    inputTokens: s(220, 'assumed: ShareGPT first-turn prompts are a few sentences to a paragraph'),
    inputCv: s(1.0, 'assumed: ShareGPT prompt lengths are heavy-tailed'),
    outputTokens: s(300, `${STUDY} (inferred there): 4.23 s on 8B implies roughly 300-350 output tokens (lower end)`),
    outputCv: s(0.6, 'assumed'),
  },
  cot: {
    shots: s(5, 'assumed: same few-shot count as the ReAct default'),
    outputTokens: s(250, `assumed; ${STUDY}: agents emit fewer output tokens per call than CoT`),
    outputCv: s(0.5, 'assumed'),
  },
  step: {
    thoughtActionTokens: s(110, `assumed; ${STUDY}: agent calls emit fewer output tokens than CoT (250 assumed)`),
    outputCv: s(0.5, 'assumed'),
  },
  react: {
    shots: s(5, `${STUDY}: released-code default, 5 few-shot examples`),
    maxLlmCalls: s(15, `${STUDY}: released-code iteration limit 30 graph steps (about 15 LLM calls)`),
    meanStepsToAnswer: s(6, 'assumed: HotpotQA needs 2-3 searches and lookups per hop, then Finish'),
  },
  reflexion: {
    shots: s(2, `${STUDY}: released-code default, 2 few-shot examples`),
    maxStepsPerTrial: s(10, `${STUDY}: released-code default, up to 10 steps per trial`),
    maxTrials: s(
      60,
      `fitted: the study does not state the Table III budget (released code: 4 trials; "highest-accuracy configuration"); 60 minimises the larger error of the two Reflexion latency cells (8B 649 s, 70B 720 s), which are therefore not independent evidence`,
    ),
    memoryReflections: s(3, 'Shinn et al., Reflexion (NeurIPS 2023): the memory keeps at most 1-3 reflections (upper end)'),
    reflectionPromptTokens: s(600, 'assumed: reflection instructions and 2 example reflections'),
    reflectionTokens: s(120, 'assumed: a short paragraph diagnosing the failed trial'),
  },
  lats: {
    shots: s(5, 'assumed: same ReAct few-shot prompt as the ReAct default'),
    children: s(5, `${STUDY}: upstream LATS default, 5 children per expansion`),
    maxIterations: s(50, `${STUDY}: upstream LATS default, up to 50 iterations`),
    maxDepth: s(7, 'assumed: LATS HotpotQA tree depth limit (upstream run scripts)'),
    valuePromptTokens: s(900, 'assumed: value-function instructions with scored example trajectories'),
    valueTokens: s(40, 'assumed: a one-line judgement and a score'),
  },
  llmcompiler: {
    plannerPromptTokens: s(1800, 'assumed: LLMCompiler planner instructions, tool descriptions and examples'),
    tokensPerTask: s(35, 'assumed: one DAG task line, e.g. 1. search("...")'),
    meanTasks: s(2.5, 'assumed: HotpotQA questions need about two searches'),
    joinerPromptTokens: s(900, 'assumed: joiner instructions and examples'),
    joinerTokens: s(60, 'assumed: a thought and Finish/Replan'),
    replanProbability: s(0.25, 'assumed'),
    maxRounds: s(3, 'assumed'),
  },
};

/**
 * Accuracies the study reports per model (Table III, HotpotQA). They set how often a Reflexion
 * trial or a LATS iteration succeeds and so ends the episode: the study's source for step counts
 * differing between models.
 */
export const STUDY_ACCURACY: { model: string; workflow: WorkflowId; benchmark: BenchmarkId; accuracy: Sourced }[] = [
  { model: 'llama-3.1-8b', workflow: 'reflexion', benchmark: 'hotpotqa', accuracy: s(0.38, `${STUDY} Table III`) },
  { model: 'llama-3.1-8b', workflow: 'lats', benchmark: 'hotpotqa', accuracy: s(0.8, `${STUDY} Table III`) },
  { model: 'llama-3.1-70b', workflow: 'reflexion', benchmark: 'hotpotqa', accuracy: s(0.67, `${STUDY} Table III`) },
  { model: 'llama-3.1-70b', workflow: 'lats', benchmark: 'hotpotqa', accuracy: s(0.82, `${STUDY} Table III`) },
];

/** The accuracy the generator stops on: the study's for this model, else the benchmark default. */
export function accuracyFor(model: string, workflow: WorkflowId, benchmark: BenchmarkId): Sourced {
  const hit = STUDY_ACCURACY.find((a) => a.model === model && a.workflow === workflow && a.benchmark === benchmark);
  return hit ? hit.accuracy : BENCHMARK_PRESETS[benchmark].defaultAccuracy;
}

/**
 * Probability that one attempt (a Reflexion trial, a LATS iteration) succeeds, such that
 * `attempts` independent attempts reach `accuracy`: 1 - (1 - p)^attempts = accuracy.
 */
export function successProbability(accuracy: number, attempts: number): number {
  if (accuracy >= 1) return 1;
  if (accuracy <= 0) return 0;
  return 1 - Math.pow(1 - accuracy, 1 / attempts);
}

export type ParameterOrigin = 'study' | 'other source' | 'assumed' | 'fitted';

export interface ParameterEntry {
  name: string;
  value: number | number[];
  origin: ParameterOrigin;
  source: string;
}

function originOf(source: string): ParameterOrigin {
  if (source.startsWith('fitted')) return 'fitted';
  if (source.startsWith('assumed')) return 'assumed';
  return source.includes('2506.04301') ? 'study' : 'other source';
}

/** Every preset parameter with where it comes from: the study, another source, assumed, or fitted. */
export function listParameters(params: WorkflowParams = WORKFLOW_PRESET, benchmarks: BenchmarkId[] = [...BENCHMARKS]): ParameterEntry[] {
  const out: ParameterEntry[] = [];
  const walk = (prefix: string, o: unknown): void => {
    if (!o || typeof o !== 'object') return;
    if ('value' in o && 'source' in o) {
      const e = o as Sourced<number | number[]>;
      out.push({ name: prefix, value: e.value, origin: originOf(e.source), source: e.source });
      return;
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'id' && k !== 'name') walk(prefix ? `${prefix}.${k}` : k, v);
  };
  walk('', params);
  for (const b of benchmarks) walk(`benchmark.${b}`, BENCHMARK_PRESETS[b]);
  return out;
}
