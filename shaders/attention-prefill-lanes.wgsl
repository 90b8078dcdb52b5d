// Flash-style causal attention prefill for CPU-like adapters with subgroups of 8 (lavapipe).
// Layout, row-major: q, o [seq, numHeads, headDim]; k, v [seq, numKvHeads, headDim].
// One invocation owns one query row; a subgroup of 8 rows walks the head dimension in chunks of 8.
// In each chunk every lane loads a different element of a K (or V) row, and subgroupBroadcast with
// a constant lane hands each element to all 8 rows: one load per 8 useful floats, where a load at
// the same address in every lane (a K/V tile shared by the rows) costs as much as 8 distinct ones
// on lavapipe inside loops. Scores of a tile of BC keys and the chunk's 8 q / output values per row
// are named registers (no dynamically indexed private arrays); the output accumulator lives in
// workgroup memory, read and written once per chunk and tile. Subgroups work independently: no
// barriers. Needs a subgroup size of exactly 8 (checked on the host).
// Host specialization (src/kernels/attention-common.ts): the `const` lines are replaced, and each
// `//#unroll NAME COUNT` ... `//#end` block is repeated COUNT times with {NAME} = 0, 1, ...
enable subgroups;
alias T = f32;
const D4: u32 = 32u;   // headDim / 4
const BR: u32 = 8u;    // query rows per workgroup (= invocations, a multiple of 8)
const BC: u32 = 16u;   // keys per tile (= named score registers per invocation)
const HD: u32 = D4 * 4u;
const NCH: u32 = (HD + 7u) / 8u;   // head-dim chunks of 8

struct Shape { seq: u32, numHeads: u32, numKvHeads: u32 }
override SCALE: f32;   // 1 / sqrt(headDim)

@group(0) @binding(0) var<storage, read> q: array<T>;
@group(0) @binding(1) var<storage, read> k: array<T>;
@group(0) @binding(2) var<storage, read> v: array<T>;
@group(0) @binding(3) var<storage, read_write> o: array<T>;
@group(0) @binding(4) var<uniform> shape: Shape;

// Output accumulators, [head-dim element][row of the workgroup].
var<workgroup> accs: array<f32, NCH * 8u * BR>;

const NEG_BIG: f32 = -3.0e38;

@compute @workgroup_size(BR)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32,
        @builtin(subgroup_invocation_id) lane: u32) {
  let SEQ = shape.seq;
  let NUM_HEADS = shape.numHeads;
  let NUM_KV_HEADS = shape.numKvHeads;
  let numQTiles = (SEQ + BR - 1u) / BR;
  // Chunk count as a run-time value, so the chunk loop stays a loop (unrolling it compiles for minutes).
  // (min: a caller's output buffer may be longer than seq rows.)
  let nch = min((arrayLength(&o) / (SEQ * NUM_HEADS) + 7u) / 8u, NCH);
  // Heaviest (last) query tiles first, so the causal triangle load-balances across workers.
  let rowStart = (numQTiles - 1u - wg.x) * BR;
  let head = wg.y;
  let kvHead = head / (NUM_HEADS / NUM_KV_HEADS);
  let row = rowStart + lid;
  let qBase = (min(row, SEQ - 1u) * NUM_HEADS + head) * HD;
  let kvStride = NUM_KV_HEADS * HD;
  let kvBase = kvHead * HD;

  for (var ch = 0u; ch < nch; ch++) {
    //#unroll j 8
    accs[(ch * 8u + {j}u) * BR + lid] = 0.0;
    //#end
  }
  var m = NEG_BIG;
  var l = 0.0;

  let kvEnd = min(rowStart + BR, SEQ);   // causal: keys past the tile's last row are never needed
  for (var t0 = 0u; t0 < kvEnd; t0 += BC) {
    //#unroll c BC
    var s{c} = 0.0;
    let kr{c} = kvBase + min(t0 + {c}u, SEQ - 1u) * kvStride;
    //#end
    for (var ch = 0u; ch < nch; ch++) {
      let d0 = ch * 8u;
      let dl = min(d0 + lane, HD - 1u);
      //#unroll j 8
      let q{j} = select(0.0, f32(q[qBase + min(d0 + {j}u, HD - 1u)]), d0 + {j}u < HD) * SCALE;
      //#end
      //#unroll c BC
      let kx{c} = f32(k[kr{c} + dl]);
      //#unroll j 8
      s{c} = fma(q{j}, subgroupBroadcast(kx{c}, {j}u), s{c});
      //#end
      //#end
    }
    // Causal mask (also masks keys past SEQ, since row < SEQ for every written row).
    var mNew = m;
    //#unroll c BC
    if (t0 + {c}u > row) { s{c} = NEG_BIG; }
    mNew = max(mNew, s{c});
    //#end
    let alpha = exp(m - mNew);
    var ps = 0.0;
    //#unroll c BC
    let p{c} = exp(s{c} - mNew);
    ps += p{c};
    //#end
    l = l * alpha + ps;
    m = mNew;
    for (var ch = 0u; ch < nch; ch++) {
      let d0 = ch * 8u;
      let dl = min(d0 + lane, HD - 1u);
      //#unroll j 8
      var a{j} = accs[(d0 + {j}u) * BR + lid] * alpha;
      //#end
      //#unroll c BC
      let vx{c} = f32(v[kr{c} + dl]);
      //#unroll j 8
      a{j} = fma(p{c}, subgroupBroadcast(vx{c}, {j}u), a{j});
      //#end
      //#end
      //#unroll j 8
      accs[(d0 + {j}u) * BR + lid] = a{j};
      //#end
    }
  }
  let inv = 1.0 / l;
  for (var ch = 0u; ch < nch; ch++) {
    //#unroll j 8
    if (row < SEQ && ch * 8u + {j}u < HD) { o[qBase + ch * 8u + {j}u] = T(accs[(ch * 8u + {j}u) * BR + lid] * inv); }
    //#end
  }
}
