// Split-KV attention decode, pass 1: one query token per sequence against its KV cache.
// Layout, row-major: q [batch, numHeads, headDim]; k, v [batch, kvLen, numKvHeads, headDim];
// partial results part [batch, numHeads, splits, headDim + 2] as (acc[headDim], max, sum), f32.
// Workgroup (split, kvHead, batch) handles all G = numHeads / numKvHeads query heads of one KV head,
// so each K/V element is read once, over the keys [split * CHUNK, (split + 1) * CHUNK).
// Per block of BK keys: (1) invocation = key: G scores; (2) invocation = key again: block max and
// exp; (3) invocation = (vec4 column, key phase): acc += p * v. Scores live only in
// workgroup memory.
// Host specialization (src/kernels/attention-common.ts): `const` lines replaced, `//#unroll` expanded.
alias T = f32;
const D4: u32 = 32u;   // headDim / 4
const G: u32 = 1u;     // query heads per KV head
const BK: u32 = 64u;   // keys per block = invocations, a multiple of D4

// The shape is a uniform, not an override, so one compiled pipeline serves every cache length.
struct Shape { kvLen: u32, numKvHeads: u32, splits: u32, chunk: u32 }   // chunk: keys per split, a multiple of BK
override SCALE: f32;   // 1 / sqrt(headDim)

@group(0) @binding(0) var<storage, read> q: array<vec4<T>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<T>>;
@group(0) @binding(3) var<storage, read_write> part: array<f32>;
@group(0) @binding(4) var<uniform> shape: Shape;

const R: u32 = BK / D4;        // key phases in step (3)
const NEG_BIG: f32 = -3.0e38;

var<workgroup> qs: array<vec4<f32>, G * D4>;
var<workgroup> sc: array<f32, G * BK>;       // scores
var<workgroup> pr: array<f32, G * BK>;       // probabilities
var<workgroup> red: array<vec4<f32>, G * BK>; // final reduction over key phases

@compute @workgroup_size(BK)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let KV_LEN = shape.kvLen;
  let NUM_KV_HEADS = shape.numKvHeads;
  let SPLITS = shape.splits;
  let CHUNK = shape.chunk;
  let split = wg.x;
  let kvHead = wg.y;
  let b = wg.z;
  let numHeads = NUM_KV_HEADS * G;
  let head0 = kvHead * G;
  // headDim / 4 as a run-time value keeps the loop a loop (lavapipe compiles unrolled ones slowly).
  let d4 = arrayLength(&q) / (arrayLength(&q) / D4);
  for (var e = lid; e < G * D4; e += BK) {
    qs[e] = vec4<f32>(q[(b * numHeads + head0) * D4 + e]) * SCALE;
  }
  let keyBegin = split * CHUNK;
  let keyEnd = min(keyBegin + CHUNK, KV_LEN);
  let col = lid % D4;
  let phase = lid / D4;
  //#unroll g G
  var m{g} = NEG_BIG;
  var l{g} = 0.0;
  var acc{g} = vec4<f32>(0.0);
  //#end
  workgroupBarrier();
  // Two barriers per block: scores and probabilities live in separate arrays, so step (1) of the
  // next block may overwrite sc while step (3) still reads pr.
  for (var kb = keyBegin; kb < keyEnd; kb += BK) {
    // (1) scores: invocation = key
    let key = kb + lid;
    let kBase = ((b * KV_LEN + min(key, KV_LEN - 1u)) * NUM_KV_HEADS + kvHead) * D4;
    //#unroll g G
    var s{g} = 0.0;
    //#end
    for (var i = 0u; i < d4; i++) {
      let kv = vec4<f32>(k[kBase + i]);
      //#unroll g G
      s{g} += dot(qs[{g}u * D4 + i], kv);
      //#end
    }
    //#unroll g G
    sc[{g}u * BK + lid] = select(NEG_BIG, s{g}, key < keyEnd);
    //#end
    workgroupBarrier();
    // (2) block max (every invocation, uniform loads), then p for its own key
    //#unroll g G
    var mx{g} = m{g};
    //#end
    for (var j = 0u; j < BK; j++) {
      //#unroll g G
      mx{g} = max(mx{g}, sc[{g}u * BK + j]);
      //#end
    }
    //#unroll g G
    pr[{g}u * BK + lid] = exp(sc[{g}u * BK + lid] - mx{g});
    let alpha{g} = exp(m{g} - mx{g});
    m{g} = mx{g};
    acc{g} *= alpha{g};
    l{g} *= alpha{g};
    //#end
    workgroupBarrier();
    // (3) acc += p * v: invocation = (vec4 column, key phase); the block sum of p for l
    for (var j = 0u; j < BK; j++) {
      //#unroll g G
      l{g} += pr[{g}u * BK + j];
      //#end
    }
    let kEnd = min(BK, keyEnd - kb);
    for (var j = phase; j < kEnd; j += R) {
      let vv = vec4<f32>(v[((b * KV_LEN + kb + j) * NUM_KV_HEADS + kvHead) * D4 + col]);
      //#unroll g G
      acc{g} = fma(vec4<f32>(pr[{g}u * BK + j]), vv, acc{g});
      //#end
    }
  }
  // Sum the key phases, then write (acc, max, sum) of this split for each head.
  workgroupBarrier();
  //#unroll g G
  red[{g}u * BK + lid] = acc{g};
  //#end
  workgroupBarrier();
  if (phase == 0u) {
    //#unroll g G
    var total{g} = acc{g};
    for (var r = 1u; r < R; r++) { total{g} += red[{g}u * BK + r * D4 + col]; }
    let pBase{g} = ((b * numHeads + head0 + {g}u) * SPLITS + split) * (D4 * 4u + 2u);
    part[pBase{g} + col * 4u] = total{g}.x;
    part[pBase{g} + col * 4u + 1u] = total{g}.y;
    part[pBase{g} + col * 4u + 2u] = total{g}.z;
    part[pBase{g} + col * 4u + 3u] = total{g}.w;
    if (col == 0u) {
      part[pBase{g} + D4 * 4u] = m{g};
      part[pBase{g} + D4 * 4u + 1u] = l{g};
    }
    //#end
  }
}
