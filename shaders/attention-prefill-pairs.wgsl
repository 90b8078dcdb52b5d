// Flash-style causal attention prefill for CPU-like adapters with subgroups of 8 (lavapipe): the
// 'lanes' kernel (attention-prefill-lanes.wgsl) with two query rows per invocation, so every K/V
// element loaded and broadcast across the subgroup feeds two FMAs instead of one.
// Layout, row-major: q, o [seq, numHeads, headDim]; k, v [seq, numKvHeads, headDim].
// A workgroup of BR / 2 invocations owns BR query rows: invocation i holds rows i and i + BR / 2.
// A subgroup walks the head dimension in chunks of 8; in each chunk every lane loads a different
// element of a K (or V) row and subgroupBroadcast with a constant lane hands it to all lanes (on
// lavapipe a load inside a loop costs as much whether or not the lanes share its address, so one
// load now serves 8 elements). Scores of a tile of BC keys and the chunk's q / output values are
// named registers; the output accumulators live in workgroup memory, read and written once per
// chunk and tile. Subgroups work independently: no barriers. Needs subgroups of exactly 8.
// Host specialization (src/kernels/attention-common.ts): the `const` lines are replaced, and each
// `//#unroll NAME COUNT` ... `//#end` block is repeated COUNT times with {NAME} = 0, 1, ...
enable subgroups;
alias T = f32;
const D4: u32 = 32u;   // headDim / 4
const BR: u32 = 16u;   // query rows per workgroup (= 2 x invocations, a multiple of 16)
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
const NI: u32 = BR / 2u;   // invocations; invocation i owns rows i and i + NI of the tile

const NEG_BIG: f32 = -3.0e38;

@compute @workgroup_size(NI)
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
  //#unroll r 2
  let row{r} = rowStart + lid + {r}u * NI;
  let qBase{r} = (min(row{r}, SEQ - 1u) * NUM_HEADS + head) * HD;
  //#end
  let kvStride = NUM_KV_HEADS * HD;
  let kvBase = kvHead * HD;

  for (var ch = 0u; ch < nch; ch++) {
    //#unroll j 8
    accs[(ch * 8u + {j}u) * BR + lid] = 0.0;
    accs[(ch * 8u + {j}u) * BR + lid + NI] = 0.0;
    //#end
  }
  //#unroll r 2
  var m{r} = NEG_BIG;
  var l{r} = 0.0;
  //#end

  let kvEnd = min(rowStart + BR, SEQ);   // causal: keys past the tile's last row are never needed
  for (var t0 = 0u; t0 < kvEnd; t0 += BC) {
    //#unroll c BC
    var s0_{c} = 0.0;
    var s1_{c} = 0.0;
    let kr{c} = kvBase + min(t0 + {c}u, SEQ - 1u) * kvStride;
    //#end
    for (var ch = 0u; ch < nch; ch++) {
      let d0 = ch * 8u;
      let dl = min(d0 + lane, HD - 1u);
      //#unroll j 8
      let ok{j} = d0 + {j}u < HD;
      let a{j} = select(0.0, f32(q[qBase0 + min(d0 + {j}u, HD - 1u)]), ok{j}) * SCALE;
      let b{j} = select(0.0, f32(q[qBase1 + min(d0 + {j}u, HD - 1u)]), ok{j}) * SCALE;
      //#end
      //#unroll c BC
      let kx{c} = f32(k[kr{c} + dl]);
      //#unroll j 8
      let kb{c}_{j} = subgroupBroadcast(kx{c}, {j}u);
      s0_{c} = fma(a{j}, kb{c}_{j}, s0_{c});
      s1_{c} = fma(b{j}, kb{c}_{j}, s1_{c});
      //#end
      //#end
    }
    //#unroll r 2
    var mNew{r} = m{r};
    //#unroll c BC
    if (t0 + {c}u > row{r}) { s{r}_{c} = NEG_BIG; }
    mNew{r} = max(mNew{r}, s{r}_{c});
    //#end
    let alpha{r} = exp(m{r} - mNew{r});
    var ps{r} = 0.0;
    //#unroll c BC
    let p{r}_{c} = exp(s{r}_{c} - mNew{r});
    ps{r} += p{r}_{c};
    //#end
    l{r} = l{r} * alpha{r} + ps{r};
    m{r} = mNew{r};
    //#end
    for (var ch = 0u; ch < nch; ch++) {
      let d0 = ch * 8u;
      let dl = min(d0 + lane, HD - 1u);
      //#unroll j 8
      var a{j} = accs[(d0 + {j}u) * BR + lid] * alpha0;
      var b{j} = accs[(d0 + {j}u) * BR + lid + NI] * alpha1;
      //#end
      //#unroll c BC
      let vx{c} = f32(v[kr{c} + dl]);
      //#unroll j 8
      let vb{c}_{j} = subgroupBroadcast(vx{c}, {j}u);
      a{j} = fma(p0_{c}, vb{c}_{j}, a{j});
      b{j} = fma(p1_{c}, vb{c}_{j}, b{j});
      //#end
      //#end
      //#unroll j 8
      accs[(d0 + {j}u) * BR + lid] = a{j};
      accs[(d0 + {j}u) * BR + lid + NI] = b{j};
      //#end
    }
  }
  //#unroll r 2
  let inv{r} = 1.0 / l{r};
  //#end
  for (var ch = 0u; ch < nch; ch++) {
    //#unroll j 8
    //#unroll r 2
    if (row{r} < SEQ && ch * 8u + {j}u < HD) { o[qBase{r} + ch * 8u + {j}u] = T(accs[(ch * 8u + {j}u) * BR + lid + {r}u * NI] * inv{r}); }
    //#end
    //#end
  }
}
