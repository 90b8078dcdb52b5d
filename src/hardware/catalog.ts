import type { AcceleratorSpec, Dtype, InterconnectSpec, PeakRates, Sourced } from './types.js';

/**
 * Accelerator data sheets. Every figure comes from /work/shared/reference/hardware.md (section and
 * its source tag [Sx] in each `source`; "(U)" marks figures that file flags as uncertain).
 * Units: FLOP/s, bytes, bytes/s, watts, seconds. GB and TB are decimal (1e9, 1e12) as data sheets
 * use them; only AMD's cache sizes are stated in MiB by the vendor and are converted as such.
 */
const T = 1e12;
const GB = 1e9;
const MB = 1e6;
const MiB = 2 ** 20;

function s(value: number, source: string): Sourced<number> {
  return { value, source };
}

/** Peak table row from hardware.md A.1 (TFLOPS / TOPS, dense); null = no such unit or no source. */
function peaks(tflops: Partial<Record<Dtype, number | null>>, source: string): PeakRates {
  const row = {} as PeakRates;
  for (const d of ['fp32', 'tf32', 'bf16', 'fp16', 'fp8', 'int8', 'int4'] as Dtype[]) {
    const v = tflops[d];
    row[d] = v == null ? null : s(v * T, source);
  }
  return row;
}

/** ~10% of TDP where hardware.md has no measured idle power (its stated rule for SXM parts). */
function defaultIdle(tdpW: number): Sourced<number> {
  return s(0.1 * tdpW, 'default: ~10% of TDP (hardware.md, Power constants)');
}

// Per-step latency of a ring collective, derived from the H100 NCCL AllReduce curve (hardware.md
// B.3 [S6]): 8 GPUs, 1 MB at 43.7 GB/s and 16 MB at 234 GB/s busBW give times 40.0 us and 119.7 us;
// the straight line through them has a 34.7 us intercept, spread over the 2(n-1) = 14 ring steps.
const NVLINK_STEP_S = s(2.5e-6, 'derived: H100 NCCL AllReduce 1 MB / 16 MB busBW, 8 GPUs (hardware.md B.3 [S6]): 34.7 us intercept / 14 ring steps');
const NVLINK_STEP_DEFAULT_S = s(2.5e-6, 'default: H100 NVLink per-step figure (hardware.md B.3 [S6]) applied to this part, no measurement');
// No PCIe collective measurement in hardware.md: twice the NVLink step (host bridge, no NVSwitch).
const PCIE_STEP_S = s(5e-6, 'default: 2x the H100 NVLink per-step latency (hardware.md B.3), no PCIe collective measurement');

function nvlink(bidirGBs: number, source: string, maxGpus: number, latency = NVLINK_STEP_DEFAULT_S): InterconnectSpec {
  return {
    kind: 'nvlink',
    bytesPerS: s((bidirGBs / 2) * GB, `${source}: ${bidirGBs} GB/s bidirectional, half per direction`),
    latencyS: latency,
    maxGpus,
  };
}

/** PCIe-only cards: tensor parallelism over the host link (8 cards per server, a stated default). */
function pcie(gen: 4 | 5, source: string): InterconnectSpec {
  const bidir = gen === 4 ? 64 : 128;
  return {
    kind: 'pcie',
    bytesPerS: s((bidir / 2) * GB, `${source}: PCIe Gen${gen} x16 ${bidir} GB/s bidirectional (hardware.md A.2), half per direction`),
    latencyS: PCIE_STEP_S,
    maxGpus: 8,
  };
}

const A2 = 'hardware.md A.2';
const A1 = 'hardware.md A.1';

const H100_SXM_PEAKS = peaks(
  { fp32: 67, tf32: 494.7, bf16: 989.4, fp16: 989.4, fp8: 1978.9, int8: 1979 },
  `${A1}, NVIDIA H100 datasheet [S1][S2][S3]`,
);
const A100_PEAKS = peaks(
  { fp32: 19.5, tf32: 156, bf16: 312, fp16: 312, fp8: null, int8: 624 },
  `${A1}, NVIDIA A100 datasheet [S2][S3a]`,
);
const MI300_PEAKS = peaks(
  { fp32: 163.4, tf32: 653.7, bf16: 1307.4, fp16: 1307.4, fp8: 2614.9, int8: 2614.9 },
  `${A1}, AMD MI300X/MI325X specs [S2][S5]`,
);

export const ACCELERATOR_CATALOG: readonly AcceleratorSpec[] = [
  {
    id: 'h100-sxm',
    name: 'NVIDIA H100 SXM5 80GB',
    vendor: 'nvidia',
    peakFlopsPerS: H100_SXM_PEAKS,
    memoryBytes: s(80 * GB, `${A2}, NVIDIA H100 datasheet [S1]`),
    memoryBytesPerS: s(3.35 * T, `${A2}, NVIDIA H100 datasheet [S1]`),
    l2Bytes: s(50 * MB, `${A2}, NVIDIA H100 datasheet [S1]`),
    interconnect: nvlink(900, `${A2}, NVLink4 [S1]`, 8, NVLINK_STEP_S),
    tdpW: s(700, `${A2}, NVIDIA H100 datasheet [S1]`),
    idlePowerW: s(75, `${A2}, Splitwise power model idle constant, DGX-H100 [S8]`),
  },
  {
    id: 'h100-pcie',
    name: 'NVIDIA H100 PCIe 80GB',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 51, tf32: 378, bf16: 756, fp16: 756, fp8: 1513, int8: 1513 },
      `${A1}, NVIDIA H100 datasheet PCIe column [S1][S2]`,
    ),
    memoryBytes: s(80 * GB, `${A2}, NVIDIA H100 datasheet [S1]`),
    memoryBytesPerS: s(2.0 * T, `${A2}, NVIDIA H100 datasheet / product brief PB-11133-001 [S1]`),
    l2Bytes: s(50 * MB, `${A2}, NVIDIA H100 datasheet [S1]`),
    // NVLink bridge joins pairs of cards
    interconnect: nvlink(600, `${A2}, NVLink bridge [S1]`, 2),
    tdpW: s(350, `${A2}, H100 PCIe product brief PB-11133-001: 350 W [S1]`),
    idlePowerW: defaultIdle(350),
  },
  {
    id: 'h100-nvl',
    name: 'NVIDIA H100 NVL 94GB (per GPU)',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 60, tf32: 417.5, bf16: 835.5, fp16: 835.5, fp8: 1670.5, int8: 1670.5 },
      `${A1}, NVIDIA H100 datasheet NVL column (U: recalled)`,
    ),
    memoryBytes: s(94 * GB, `${A2} [S2]`),
    memoryBytesPerS: s(3.9 * T, `${A2} [S2]`),
    l2Bytes: s(50 * MB, `${A2} [S2]`),
    interconnect: nvlink(600, `${A2}, NVLink bridge [S2]`, 2),
    tdpW: s(400, `${A2}: 350-400 W, upper bound [S2]`),
    idlePowerW: defaultIdle(400),
  },
  {
    id: 'h200-sxm',
    name: 'NVIDIA H200 SXM 141GB',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 67, tf32: 494.7, bf16: 989.4, fp16: 989.4, fp8: 1979, int8: 1979 },
      `${A1}, same die and clocks as H100 SXM [S2][S4]`,
    ),
    memoryBytes: s(141 * GB, `${A2}, NVIDIA H200 spec [S4]`),
    memoryBytesPerS: s(4.8 * T, `${A2}, NVIDIA H200 spec [S4]`),
    l2Bytes: s(50 * MB, `${A2} [S2]`),
    interconnect: nvlink(900, `${A2}, NVLink4 [S2]`, 8),
    tdpW: s(700, `${A2}, NVIDIA H200 spec [S4]`),
    idlePowerW: s(80.3, `${A2}, Serial Alice measurement (U: low credibility) [S19]`),
  },
  {
    id: 'a100-sxm4-40gb',
    name: 'NVIDIA A100 SXM4 40GB',
    vendor: 'nvidia',
    peakFlopsPerS: A100_PEAKS,
    memoryBytes: s(40 * GB, `${A2}, NVIDIA A100 datasheet [S3a]`),
    memoryBytesPerS: s(1.555 * T, `${A2}, NVIDIA A100 datasheet [S3a]`),
    l2Bytes: s(40 * MB, `${A2} [S3a]`),
    interconnect: nvlink(600, `${A2}, NVLink3 [S3a]`, 8),
    tdpW: s(400, `${A2}, NVIDIA A100 datasheet [S3a]`),
    idlePowerW: defaultIdle(400),
  },
  {
    id: 'a100-sxm4-80gb',
    name: 'NVIDIA A100 SXM4 80GB',
    vendor: 'nvidia',
    peakFlopsPerS: A100_PEAKS,
    memoryBytes: s(80 * GB, `${A2}, NVIDIA A100 datasheet [S3a]`),
    memoryBytesPerS: s(2.039 * T, `${A2}, NVIDIA A100 datasheet [S3a]`),
    l2Bytes: s(40 * MB, `${A2} [S3a]`),
    interconnect: nvlink(600, `${A2}, NVLink3 [S3a]`, 8),
    tdpW: s(400, `${A2}, NVIDIA A100 datasheet [S3a]`),
    idlePowerW: s(63, `${A2}, Splitwise power model idle constant, DGX-A100 [S8]`),
  },
  {
    id: 'a100-pcie-80gb',
    name: 'NVIDIA A100 PCIe 80GB',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 19.5, tf32: 156, bf16: 312, fp16: 312, fp8: null, int8: 624 },
      `${A1}, same spec as SXM (lower power limit) [S2]`,
    ),
    memoryBytes: s(80 * GB, `${A2} [S2][S20]`),
    memoryBytesPerS: s(1.935 * T, `${A2} [S20]`),
    l2Bytes: s(40 * MB, `${A2} [S2]`),
    interconnect: nvlink(600, `${A2}, NVLink bridge (pairs) [S2]`, 2),
    tdpW: s(300, `${A2} [S20]`),
    idlePowerW: defaultIdle(300),
  },
  {
    id: 'b200',
    name: 'NVIDIA B200 (HGX, 1000 W)',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      // FP4 (9,000) is a float format, not int4: int4 stays null
      { fp32: 80, tf32: 1125, bf16: 2250, fp16: 2250, fp8: 4500, int8: 4500 },
      `${A1}, HGX B200 1000 W table [S2][S3b]`,
    ),
    memoryBytes: s(180 * GB, `${A2}: 180 GB usable (192 GiB physical) [S2][S3b]`),
    memoryBytesPerS: s(8.0 * T, `${A2} [S2][S3b]`),
    l2Bytes: s(126 * MB, `${A2} (U: Blackwell tuning guide, GB200 example)`),
    interconnect: nvlink(1800, `${A2}, NVLink5 [S2][S3b]`, 8),
    tdpW: s(1000, `${A2}: 1000 W max TGP [S2][S3b]`),
    idlePowerW: defaultIdle(1000),
  },
  {
    id: 'gb200',
    name: 'NVIDIA GB200 (per GPU, 1200 W)',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 80, tf32: 1250, bf16: 2500, fp16: 2500, fp8: 5000, int8: 5000 },
      `${A1}, GB200 1200 W table [S2][S3b]`,
    ),
    memoryBytes: s(186 * GB, `${A2} [S2][S3b]`),
    memoryBytesPerS: s(8.0 * T, `${A2} [S2][S3b]`),
    l2Bytes: s(126 * MB, `${A2} (U)`),
    // the NVL72 rack is one NVLink domain of 72 GPUs
    interconnect: nvlink(1800, `${A2}, NVLink5 [S2][S3b]`, 72),
    tdpW: s(1200, `${A2} [S3b]`),
    idlePowerW: defaultIdle(1200),
  },
  {
    id: 'l40s',
    name: 'NVIDIA L40S 48GB',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 91.6, tf32: 183, bf16: 362, fp16: 362, fp8: 733, int8: 733 },
      `${A1}, NVIDIA L40S datasheet [S2][S18]`,
    ),
    memoryBytes: s(48 * GB, `${A2} [S2][S18]`),
    memoryBytesPerS: s(0.864 * T, `${A2} [S18]`),
    l2Bytes: s(96 * MB, `${A2} [S2]`),
    interconnect: pcie(4, `${A2}: no NVLink`),
    tdpW: s(350, `${A2} [S2][S18]`),
    idlePowerW: defaultIdle(350),
  },
  {
    id: 'l4',
    name: 'NVIDIA L4 24GB',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 30.3, tf32: 60, bf16: 121, fp16: 121, fp8: 242.5, int8: 242.5 },
      `${A1}, NVIDIA L4 datasheet (sparse figures halved) [S18]`,
    ),
    memoryBytes: s(24 * GB, `${A2} [S18]`),
    memoryBytesPerS: s(0.3 * T, `${A2} [S18]`),
    l2Bytes: s(48 * MB, `${A2} [S18]`),
    interconnect: pcie(4, `${A2}: no NVLink`),
    tdpW: s(72, `${A2} [S18]`),
    idlePowerW: defaultIdle(72),
  },
  {
    id: 'a10g',
    name: 'NVIDIA A10G 24GB (AWS G5)',
    vendor: 'nvidia',
    peakFlopsPerS: peaks(
      { fp32: 35, tf32: 35, bf16: 70, fp16: 70, fp8: null, int8: 140 },
      `${A1}, Baseten A10 vs A10G (U: NVIDIA publishes no table) [S17]`,
    ),
    memoryBytes: s(24 * GB, `${A2} [S17]`),
    memoryBytesPerS: s(0.6 * T, `${A2} [S17]`),
    l2Bytes: s(6 * MB, `${A2} [S17]`),
    interconnect: pcie(4, `${A2}: no NVLink`),
    tdpW: s(300, `${A2} (U for A10G) [S17]`),
    idlePowerW: defaultIdle(300),
  },
  {
    id: 'v100-sxm2',
    name: 'NVIDIA V100 SXM2 32GB',
    vendor: 'nvidia',
    // Volta tensor cores do FP16 only: no bf16, tf32, fp8 or int8 tensor rates
    peakFlopsPerS: peaks(
      { fp32: 15.7, tf32: null, bf16: null, fp16: 125, fp8: null, int8: null },
      `${A1}, V100 datasheet (U: recalled)`,
    ),
    memoryBytes: s(32 * GB, `${A2}: 16/32 GB, the 32 GB part (U: datasheet)`),
    memoryBytesPerS: s(0.9 * T, `${A2} [S23]`),
    l2Bytes: s(6 * MB, `${A2} [S23]`),
    interconnect: nvlink(300, `${A2}, NVLink2 (U)`, 8),
    tdpW: s(300, `${A2} (U: datasheet)`),
    idlePowerW: defaultIdle(300),
  },
  {
    id: 'mi300x',
    name: 'AMD Instinct MI300X 192GB',
    vendor: 'amd',
    peakFlopsPerS: MI300_PEAKS,
    memoryBytes: s(192 * GB, `${A2}, AMD MI300X spec [S2][S5]`),
    memoryBytesPerS: s(5.3 * T, `${A2}, AMD MI300X spec [S2][S5]`),
    // the 256 MiB Infinity Cache is the last level; L2 is 4 MiB per XCD
    l2Bytes: s(32 * MiB, `${A2}, ROCm Instinct architecture table: 32 MiB L2 [S5]`),
    llcBytes: s(256 * MiB, `${A2}, ROCm Instinct architecture table: 256 MiB Infinity Cache [S5]`),
    interconnect: {
      kind: 'infinity-fabric',
      bytesPerS: s(448 * GB, `${A2}: Infinity Fabric 896 GB/s aggregate (U), half per direction`),
      latencyS: NVLINK_STEP_DEFAULT_S,
      maxGpus: 8,
    },
    tdpW: s(750, `${A2} [S2][S5]`),
    idlePowerW: defaultIdle(750),
  },
  {
    id: 'mi325x',
    name: 'AMD Instinct MI325X 256GB',
    vendor: 'amd',
    peakFlopsPerS: MI300_PEAKS,
    memoryBytes: s(256 * GB, `${A2} [S2]`),
    memoryBytesPerS: s(6.0 * T, `${A2} [S2]`),
    l2Bytes: s(32 * MiB, `${A2}: same as MI300X [S2][S5]`),
    llcBytes: s(256 * MiB, `${A2}: same as MI300X [S2][S5]`),
    interconnect: {
      kind: 'infinity-fabric',
      bytesPerS: s(448 * GB, `${A2}: Infinity Fabric ~896 GB/s aggregate (U), half per direction`),
      latencyS: NVLINK_STEP_DEFAULT_S,
      maxGpus: 8,
    },
    tdpW: s(1000, `${A2} [S2]`),
    idlePowerW: defaultIdle(1000),
  },
  {
    id: 'rtx-4090',
    name: 'NVIDIA GeForce RTX 4090 24GB',
    vendor: 'nvidia',
    // GeForce tensor rates with FP32 accumulation (what inference kernels use) are half the FP16-acc ones
    peakFlopsPerS: peaks(
      { fp32: 82.6, tf32: 82.6, bf16: 165.2, fp16: 165.2, fp8: 330.3, int8: 660.6 },
      `${A1}, Ada whitepaper, FP32-accumulate rates (U: recalled; [S24] confirms sparse FP16-acc and FP32)`,
    ),
    memoryBytes: s(24 * GB, `${A2} [S24]`),
    memoryBytesPerS: s(1.008 * T, `${A2} [S24]`),
    l2Bytes: s(72 * MB, `${A2} [S24]`),
    interconnect: pcie(4, `${A2}: no NVLink`),
    tdpW: s(450, `${A2} [S24]`),
    idlePowerW: defaultIdle(450),
  },
];
