// Split-KV attention decode, pass 1, for CPU-like adapters with subgroups of 8 (lavapipe).
// Layout as attention-decode.wgsl: q [batch, numHeads, headDim]; k, v [batch, kvLen, numKvHeads,
// headDim]; partial results part [batch, numHeads, splits, headDim + 2] as (acc[headDim], max, sum).
// A workgroup is one subgroup of 8 lanes serving the G query heads of one KV head over one chunk of
// keys. The lanes split the head dimension (lane l owns elements l, l + 8, ...), so every K and V
// load brings 8 distinct floats and nothing else is loaded per key: on lavapipe each lane-varying
// load costs one access per lane, and the portable kernel also re-reads q from workgroup memory for
// every key and every invocation scans all scores of a block for the max and the sum. Here each
// lane keeps partial dot products in named registers (G x BK), subgroupAdd sums them, and the
// softmax runs on the summed (uniform) scores. The output accumulator lives in workgroup memory,
// read and written once per block and head-dim chunk. No barriers. Needs subgroups of exactly 8.
// Host specialization (src/kernels/attention-common.ts): `const` lines replaced, `//#unroll` expanded.
enable subgroups;
alias T = f32;
const D4: u32 = 32u;   // headDim / 4
const G: u32 = 1u;     // query heads per KV head
const BK: u32 = 16u;   // keys per block (G x BK score registers per lane)
const HD: u32 = D4 * 4u;
const NCH: u32 = (HD + 7u) / 8u;   // head-dim chunks of 8

// The shape is a uniform, not an override, so one compiled pipeline serves every cache length.
struct Shape { kvLen: u32, numKvHeads: u32, splits: u32, chunk: u32 }   // chunk: keys per split, a multiple of BK
override SCALE: f32;   // 1 / sqrt(headDim)

@group(0) @binding(0) var<storage, read> q: array<T>;
@group(0) @binding(1) var<storage, read> k: array<T>;
@group(0) @binding(2) var<storage, read> v: array<T>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<uniform> shape: Shape;

// Output accumulators, [query head][head-dim chunk][lane].
var<workgroup> accs: array<f32, G * NCH * 8u>;

const NEG_BIG: f32 = -3.0e38;

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(subgroup_invocation_id) lane: u32) {
  let KV_LEN = shape.kvLen;
  let NUM_KV_HEADS = shape.numKvHeads;
  let SPLITS = shape.splits;
  let CHUNK = shape.chunk;
  let split = wg.x;
  let kvHead = wg.y;
  let b = wg.z;
  let numHeads = NUM_KV_HEADS * G;
  let head0 = kvHead * G;
  let qBase = (b * numHeads + head0) * HD;
  let kvStride = NUM_KV_HEADS * HD;
  let kvBase = b * KV_LEN * kvStride + kvHead * HD;
  // Chunk count as a run-time value (always NCH: q holds at least one head), so the chunk loops
  // stay loops; unrolled, they compile slowly on lavapipe.
  let nch = min(NCH, arrayLength(&q));

  for (var ch = 0u; ch < nch; ch++) {
    //#unroll g G
    accs[({g}u * NCH + ch) * 8u + lane] = 0.0;
    //#end
  }
  //#unroll g G
  var m{g} = NEG_BIG;
  var l{g} = 0.0;
  //#end

  let keyBegin = split * CHUNK;
  let keyEnd = min(keyBegin + CHUNK, KV_LEN);
  for (var kb = keyBegin; kb < keyEnd; kb += BK) {
    // (1) partial q.k of this lane's head-dim elements, for BK keys and G heads
    //#unroll c BK
    let kr{c} = kvBase + min(kb + {c}u, keyEnd - 1u) * kvStride;
    //#unroll g G
    var s{g}_{c} = 0.0;
    //#end
    //#end
    for (var ch = 0u; ch < nch; ch++) {
      let d = ch * 8u + lane;
      let dl = min(d, HD - 1u);
      //#unroll g G
      let q{g} = select(0.0, f32(q[qBase + {g}u * HD + dl]), d < HD);
      //#end
      //#unroll c BK
      let kx{c} = f32(k[kr{c} + dl]);
      //#unroll g G
      s{g}_{c} = fma(q{g}, kx{c}, s{g}_{c});
      //#end
      //#end
    }
    // (2) full scores (sum over the lanes), online softmax; s becomes the probability
    //#unroll g G
    var mx{g} = m{g};
    //#unroll c BK
    s{g}_{c} = select(NEG_BIG, subgroupAdd(s{g}_{c}) * SCALE, kb + {c}u < keyEnd);
    mx{g} = max(mx{g}, s{g}_{c});
    //#end
    let alpha{g} = exp(m{g} - mx{g});
    m{g} = mx{g};
    var ps{g} = 0.0;
    //#unroll c BK
    s{g}_{c} = exp(s{g}_{c} - mx{g});
    ps{g} += s{g}_{c};
    //#end
    l{g} = l{g} * alpha{g} + ps{g};
    //#end
    // (3) acc = acc * alpha + p . v on this lane's head-dim elements
    for (var ch = 0u; ch < nch; ch++) {
      let dl = min(ch * 8u + lane, HD - 1u);
      //#unroll g G
      var a{g} = accs[({g}u * NCH + ch) * 8u + lane] * alpha{g};
      //#end
      //#unroll c BK
      let vx{c} = f32(v[kr{c} + dl]);
      //#unroll g G
      a{g} = fma(s{g}_{c}, vx{c}, a{g});
      //#end
      //#end
      //#unroll g G
      accs[({g}u * NCH + ch) * 8u + lane] = a{g};
      //#end
    }
  }
  // (acc, max, sum) of this split for each head
  let pStride = HD + 2u;
  for (var ch = 0u; ch < nch; ch++) {
    let d = ch * 8u + lane;
    //#unroll g G
    if (d < HD) { part[((b * numHeads + head0 + {g}u) * SPLITS + split) * pStride + d] = accs[({g}u * NCH + ch) * 8u + lane]; }
    //#end
  }
  if (lane == 0u) {
    //#unroll g G
    let pb{g} = ((b * numHeads + head0 + {g}u) * SPLITS + split) * pStride + HD;
    part[pb{g}] = m{g};
    part[pb{g} + 1u] = l{g};
    //#end
  }
}
