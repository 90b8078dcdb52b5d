// Flash-style causal attention prefill (online softmax; the score matrix is never written).
// Layout, row-major: q, o [seq, numHeads, headDim]; k, v [seq, numKvHeads, headDim].
// Variant of attention-prefill.wgsl with the headDim loops unrolled into named variables (on
// lavapipe it compiles for minutes at headDim 128, so it is opt-in). One invocation owns one query row: its q row and output accumulator are named variables (kept in
// registers or spilled to the stack; dynamically indexed private arrays compile to slow code on
// some drivers), the workgroup streams K/V tiles of BC keys through workgroup memory, scores are
// computed 8 keys at a time, and K/V tiles past the workgroup's last query row are never loaded.
// Host specialization (src/kernels/attention-common.ts): the `const` lines are replaced, and each
// `//#unroll NAME COUNT` ... `//#end` block is repeated COUNT times with {NAME} = 0, 1, ...
alias T = f32;
const D4: u32 = 32u;   // headDim / 4
const BR: u32 = 32u;   // query rows per workgroup (= invocations)
const BC: u32 = 32u;   // keys per K/V tile, a multiple of 8

// The shape is a uniform, not an override, so one compiled pipeline serves every sequence length.
struct Shape { seq: u32, numHeads: u32, numKvHeads: u32 }
override SCALE: f32;   // 1 / sqrt(headDim)

@group(0) @binding(0) var<storage, read> q: array<vec4<T>>;
@group(0) @binding(1) var<storage, read> k: array<vec4<T>>;
@group(0) @binding(2) var<storage, read> v: array<vec4<T>>;
@group(0) @binding(3) var<storage, read_write> o: array<vec4<T>>;
@group(0) @binding(4) var<uniform> shape: Shape;

var<workgroup> kt: array<vec4<f32>, BC * D4>;
var<workgroup> vt: array<vec4<f32>, BC * D4>;

const NEG_BIG: f32 = -3.0e38;

@compute @workgroup_size(BR)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let SEQ = shape.seq;
  let NUM_HEADS = shape.numHeads;
  let NUM_KV_HEADS = shape.numKvHeads;
  let numQTiles = (SEQ + BR - 1u) / BR;
  // Heaviest (last) query tiles first, so the causal triangle load-balances across workers.
  let rowStart = (numQTiles - 1u - wg.x) * BR;
  let head = wg.y;
  let kvHead = head / (NUM_HEADS / NUM_KV_HEADS);
  let row = rowStart + lid;
  let qBase = (min(row, SEQ - 1u) * NUM_HEADS + head) * D4;

  //#unroll i D4
  let qr{i} = vec4<f32>(q[qBase + {i}u]) * SCALE;
  var acc{i} = vec4<f32>(0.0);
  //#end
  var m = NEG_BIG;
  var l = 0.0;

  let kvEnd = min(rowStart + BR, SEQ);   // causal: keys past the tile's last row are never needed
  for (var t0 = 0u; t0 < kvEnd; t0 += BC) {
    workgroupBarrier();
    for (var e = lid; e < BC * D4; e += BR) {
      let key = min(t0 + e / D4, SEQ - 1u);
      let g = (key * NUM_KV_HEADS + kvHead) * D4 + e % D4;
      kt[e] = vec4<f32>(k[g]);
      vt[e] = vec4<f32>(v[g]);
    }
    workgroupBarrier();
    let cEnd = min(BC, kvEnd - t0);
    for (var c0 = 0u; c0 < cEnd; c0 += 8u) {
      let kb = c0 * D4;
      //#unroll c 8
      var s{c} = 0.0;
      //#end
      //#unroll i D4
      //#unroll c 8
      let k{c}_{i} = kt[kb + {c}u * D4 + {i}u];
      s{c} = fma(qr{i}.w, k{c}_{i}.w, fma(qr{i}.z, k{c}_{i}.z, fma(qr{i}.y, k{c}_{i}.y, fma(qr{i}.x, k{c}_{i}.x, s{c}))));
      //#end
      //#end
      // Causal mask (also masks keys past SEQ, since row < SEQ for every written row).
      let key0 = t0 + c0;
      //#unroll c 8
      if (key0 + {c}u > row) { s{c} = NEG_BIG; }
      //#end
      let mNew = max(m, max(max(max(s0, s1), max(s2, s3)), max(max(s4, s5), max(s6, s7))));
      let alpha = exp(m - mNew);
      //#unroll c 8
      let p{c} = exp(s{c} - mNew);
      //#end
      l = l * alpha + (((p0 + p1) + (p2 + p3)) + ((p4 + p5) + (p6 + p7)));
      m = mNew;
      //#unroll i D4
      acc{i} *= alpha;
      //#unroll c 8
      acc{i} = fma(vec4<f32>(p{c}), vt[kb + {c}u * D4 + {i}u], acc{i});
      //#end
      //#end
    }
  }
  if (row < SEQ) {
    let inv = 1.0 / l;
    //#unroll i D4
    o[qBase + {i}u] = vec4<T>(acc{i} * inv);
    //#end
  }
}
