import { UserError } from '../errors.js';

/** A figure with where it comes from ("assumed: <why>" where no measurement exists). */
export interface EngineFigure {
  value: number;
  source: string;
}

/**
 * A serving engine as the cost model sees it: host-side cost per step and per kernel, whether
 * decode steps replay a CUDA graph, kernel-efficiency factors relative to the best library
 * kernels of the target, and how much memory it leaves for the KV cache.
 */
export interface EngineSpec {
  id: EngineId;
  name: string;
  /** host time per engine step (scheduling, input preparation, sampling launch), seconds */
  stepFixedS: EngineFigure;
  /** more host time per sequence in the step, seconds */
  stepPerSequenceS: EngineFigure;
  /** more host time per tensor-parallel worker per step (driver-to-worker dispatch), seconds */
  stepPerWorkerS: EngineFigure;
  /** CPU time to issue one kernel eagerly; a kernel costs max(GPU time, this) */
  eagerIssueS: EngineFigure;
  /**
   * extra wait per eager collective per doubling of the TP group: each all-reduce waits for the
   * slowest rank's CPU to catch up, and the expected maximum of n ranks' jitter grows like log2(n)
   */
  eagerSyncS: EngineFigure;
  /** decode-only steps up to this batch replay a CUDA graph (no per-kernel issue cost); 0 = never */
  graphMaxBatch: EngineFigure;
  /**
   * all-reduces up to this size use a custom NVLink kernel with two synchronisation steps
   * (reduce-scatter + all-gather through peer memory) instead of NCCL's 2(n-1)-step ring; 0 = never
   */
  customAllReduceMaxBytes: EngineFigure;
  /** multipliers on the target's best GEMM, attention and streaming efficiencies */
  gemmFactor: EngineFigure;
  attentionFactor: EngineFigure;
  memoryFactor: EngineFigure;
  /** fraction of device memory the engine may use (weights, activations, KV cache) */
  memoryUtilization: EngineFigure;
  /** fixed reserve per GPU (CUDA context, graphs, NCCL buffers, workspaces), bytes */
  reserveBytes: EngineFigure;
  /** token budget of one step: prefill is chunked to it and activations are reserved for it */
  maxBatchedTokens: EngineFigure;
  /** most sequences in one batch */
  maxSequences: EngineFigure;
  /** KV cache block size in tokens (allocation granularity) */
  blockTokens: EngineFigure;
  /** bare roofline: efficiencies 1, no launch cost, no overhead */
  ideal: boolean;
}

export const ENGINE_IDS = ['vllm', 'vllm-legacy', 'trtllm', 'ideal', 'webgpu'] as const;
export type EngineId = (typeof ENGINE_IDS)[number];

const GIB = 1024 ** 3;
const MIB = 1024 ** 2;
const B4 = 'hardware.md B.4';

const ENGINES: Record<EngineId, EngineSpec> = {
  vllm: {
    id: 'vllm',
    name: 'vLLM 0.6+ (CUDA graphs in decode, async output processing)',
    stepFixedS: { value: 0.4e-3, source: `assumed: ${B4} says overhead drops to a few hundred us with CUDA graphs and async scheduling` },
    stepPerSequenceS: { value: 8e-6, source: 'assumed: Python scheduling/input preparation per sequence, reduced in v0.6 (vLLM v0.6.0 blog, S16)' },
    stepPerWorkerS: { value: 0, source: 'assumed: vLLM 0.6 broadcasts step inputs to workers through shared memory, negligible next to the step' },
    eagerIssueS: { value: 10e-6, source: `assumed: PyTorch eager op issue, between the ~4 us async CUDA launch and the ~20 us framework round trip of ${B4}` },
    eagerSyncS: { value: 0, source: 'assumed: decode replays CUDA graphs, ranks do not drift per kernel; prefill kernels are long' },
    graphMaxBatch: { value: 256, source: 'vLLM 0.6 captures CUDA graphs for decode batch sizes up to 256 (_BATCH_SIZES_TO_CAPTURE)' },
    customAllReduceMaxBytes: { value: 8 * MIB, source: 'vLLM custom all-reduce (custom_all_reduce.py, default max_size 8 MiB; since v0.3, 2024), two-shot above 512 KiB (U: recalled)' },
    gemmFactor: { value: 1, source: 'assumed: cuBLAS/CUTLASS GEMMs as fast as the MAMF best shapes of the reference profile' },
    attentionFactor: { value: 1, source: 'assumed: FlashAttention/FlashInfer reach the reference attention ceiling' },
    memoryFactor: { value: 1, source: 'assumed: decode GEMV and paged-attention kernels stream as fast as STREAM' },
    memoryUtilization: { value: 0.9, source: 'vLLM default gpu_memory_utilization=0.9 (vLLM engine arguments docs)' },
    reserveBytes: { value: 1.5 * GIB, source: 'assumed: CUDA context ~0.5 GiB + captured CUDA graphs and NCCL buffers ~1 GiB' },
    maxBatchedTokens: { value: 8192, source: 'assumed: a common max_num_batched_tokens with chunked prefill' },
    maxSequences: { value: 256, source: 'vLLM default max_num_seqs=256 (vLLM engine arguments docs)' },
    blockTokens: { value: 16, source: 'vLLM default block_size=16' },
    ideal: false,
  },
  'vllm-legacy': {
    id: 'vllm-legacy',
    name: 'vLLM 2023 releases (eager PyTorch, no CUDA graphs)',
    stepFixedS: { value: 0, source: 'fitted: grid search on the 31 Splitwise TP2/TP4 rows of data/validation (TTFT+TPOT MAPE 7.2%); held out: the 18 TP8 rows (16.3%): no fixed part beyond the per-worker and per-sequence costs' },
    stepPerSequenceS: { value: 0.3e-3, source: 'fitted: grid search on the 31 Splitwise TP2/TP4 rows of data/validation (TTFT+TPOT MAPE 7.2%); held out: the 18 TP8 rows (16.3%); pre-0.6 Python per-sequence work (block tables, sampling metadata) dominated, vLLM v0.6.0 blog S16' },
    stepPerWorkerS: { value: 1e-3, source: 'fitted: grid search on the 31 Splitwise TP2/TP4 rows of data/validation (TTFT+TPOT MAPE 7.2%); held out: the 18 TP8 rows (16.3%); 2023 vLLM drove each tensor-parallel worker through a Ray remote call per step' },
    eagerIssueS: { value: 10e-6, source: `assumed: PyTorch eager op issue, between the ~4 us async CUDA launch and the ~20 us framework round trip of ${B4}` },
    eagerSyncS: { value: 20e-6, source: 'fitted: grid search on the 31 Splitwise TP2/TP4 rows of data/validation (TTFT+TPOT MAPE 7.2%); held out: the 18 TP8 rows (16.3%); TPOT stops falling from TP4 to TP8 in that data although weights per GPU halve' },
    graphMaxBatch: { value: 0, source: 'vLLM added CUDA graphs in v0.2.7 (2024); the 2023 releases ran eagerly' },
    customAllReduceMaxBytes: { value: 0, source: 'the 2023 releases all-reduced through NCCL only (custom all-reduce arrived in 2024)' },
    gemmFactor: { value: 0.7, source: 'fitted: grid search on the 31 Splitwise TP2/TP4 rows of data/validation (TTFT+TPOT MAPE 7.2%); held out: the 18 TP8 rows (16.3%); 2023 PyTorch/cuBLAS builds reach less of peak than the 2024-25 MAMF runs of hardware.md B.1' },
    attentionFactor: { value: 0.7, source: 'assumed: same software factor as the GEMMs (xformers prefill attention)' },
    memoryFactor: { value: 1, source: 'assumed: same streaming efficiency' },
    memoryUtilization: { value: 0.9, source: 'vLLM default gpu_memory_utilization=0.9' },
    reserveBytes: { value: 1 * GIB, source: 'assumed: CUDA context and NCCL buffers, no CUDA graphs' },
    maxBatchedTokens: { value: 2560, source: 'vLLM 0.1/0.2 default max_num_batched_tokens=2560 (U: recalled)' },
    maxSequences: { value: 256, source: 'vLLM default max_num_seqs=256' },
    blockTokens: { value: 16, source: 'vLLM default block_size=16' },
    ideal: false,
  },
  trtllm: {
    id: 'trtllm',
    name: 'TensorRT-LLM (C++ runtime / PyTorch backend with CUDA graphs and overlap scheduler)',
    stepFixedS: { value: 0.1e-3, source: 'assumed: C++ batch manager with the overlap scheduler hides most host work' },
    stepPerSequenceS: { value: 1e-6, source: 'assumed: C++ per-request bookkeeping' },
    stepPerWorkerS: { value: 0, source: 'assumed: MPI/NCCL-driven workers, no per-step RPC' },
    eagerIssueS: { value: 5e-6, source: `assumed: prefill kernels issued without graphs, ~4-6 us per launch (${B4})` },
    eagerSyncS: { value: 0, source: 'assumed: C++ runtime, no per-kernel Python jitter' },
    graphMaxBatch: { value: 2048, source: 'assumed: decode CUDA graphs padded up to the maximum batch' },
    customAllReduceMaxBytes: { value: 8 * MIB, source: 'assumed: TensorRT-LLM custom all-reduce plugin (AUTO strategy: one-/two-shot for small messages), same limit as vLLM' },
    gemmFactor: { value: 1, source: 'assumed: cuBLASLt/CUTLASS GEMMs at the reference ceiling' },
    attentionFactor: { value: 1, source: 'assumed: TRT-LLM FMHA/XQA at the reference ceiling' },
    memoryFactor: { value: 1, source: 'assumed: same streaming efficiency' },
    memoryUtilization: { value: 0.9, source: 'TensorRT-LLM default kv_cache_free_gpu_mem_fraction=0.9 (applied here to all memory, U)' },
    reserveBytes: { value: 1.5 * GIB, source: 'assumed: CUDA context, CUDA graphs and workspaces' },
    maxBatchedTokens: { value: 8192, source: 'TensorRT-LLM default max_num_tokens=8192 (trtllm-build docs, U)' },
    maxSequences: { value: 2048, source: 'TensorRT-LLM default max_batch_size=2048 (trtllm-build docs, U)' },
    blockTokens: { value: 32, source: 'TensorRT-LLM default tokens_per_block=32 (U)' },
    ideal: false,
  },
  webgpu: {
    id: 'webgpu',
    name: 'roofcast WGSL runner on a calibrated adapter (all dispatches of a step in one compute pass)',
    stepFixedS: { value: 0, source: 'definition: no host overhead beyond what the profile measured (issue 5)' },
    stepPerSequenceS: { value: 0, source: 'definition: the runner has no scheduler' },
    stepPerWorkerS: { value: 0, source: 'definition: one adapter' },
    eagerIssueS: { value: 0, source: "definition: dispatches are recorded into one pass; their cost is the profile's dispatchOverheadS" },
    eagerSyncS: { value: 0, source: 'definition: one adapter' },
    graphMaxBatch: { value: Number.MAX_SAFE_INTEGER, source: 'definition: no per-kernel host issue cost' },
    customAllReduceMaxBytes: { value: 0, source: 'definition: one adapter' },
    gemmFactor: { value: 1, source: "definition: the profile's fitted GEMM curve is this runner's kernel" },
    attentionFactor: { value: 1, source: "definition: the profile's fitted attention curves" },
    memoryFactor: { value: 1, source: "definition: the profile's fitted stream curve" },
    memoryUtilization: { value: 1, source: 'definition: memory is the --memory-gib figure or the largest buffer' },
    reserveBytes: { value: 0, source: 'definition: activations only' },
    maxBatchedTokens: { value: Number.MAX_SAFE_INTEGER, source: 'definition: a prompt is one prefill pass' },
    maxSequences: { value: Number.MAX_SAFE_INTEGER, source: 'definition' },
    blockTokens: { value: 1, source: 'definition: contiguous KV cache' },
    ideal: false,
  },
  ideal: {
    id: 'ideal',
    name: 'bare roofline (peak FLOP/s and bandwidth, no overheads)',
    stepFixedS: { value: 0, source: 'definition' },
    stepPerSequenceS: { value: 0, source: 'definition' },
    stepPerWorkerS: { value: 0, source: 'definition' },
    eagerIssueS: { value: 0, source: 'definition' },
    eagerSyncS: { value: 0, source: 'definition' },
    graphMaxBatch: { value: Number.MAX_SAFE_INTEGER, source: 'definition' },
    customAllReduceMaxBytes: { value: Number.MAX_SAFE_INTEGER, source: 'definition: the fewest synchronisation steps' },
    gemmFactor: { value: 1, source: 'definition' },
    attentionFactor: { value: 1, source: 'definition' },
    memoryFactor: { value: 1, source: 'definition' },
    memoryUtilization: { value: 1, source: 'definition' },
    reserveBytes: { value: 0, source: 'definition' },
    maxBatchedTokens: { value: Number.MAX_SAFE_INTEGER, source: 'definition' },
    maxSequences: { value: Number.MAX_SAFE_INTEGER, source: 'definition' },
    blockTokens: { value: 1, source: 'definition' },
    ideal: true,
  },
};

export function getEngine(id: string): EngineSpec {
  const engine = (ENGINES as Record<string, EngineSpec | undefined>)[id];
  if (!engine) throw new UserError(`unknown engine '${id}' (known: ${ENGINE_IDS.join(', ')})`);
  return engine;
}

export function listEngines(): EngineSpec[] {
  return ENGINE_IDS.map((id) => ENGINES[id]);
}
