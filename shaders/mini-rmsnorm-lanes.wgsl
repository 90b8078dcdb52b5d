// Mini transformer: fused residual add + RMSNorm as mini-rmsnorm.wgsl, for few rows (decode) on
// adapters with subgroups of exactly 8 (lavapipe): one subgroup per row, the lanes split the row
// and subgroupAdd sums their squares (no barrier). With one invocation per row, a decode step's
// single row runs on one lane of one CPU thread, serially over the whole hidden size.
enable subgroups;
// `alias E` (the storage type of activations and weights) is replaced with f16 by the host for
// the f16 model (src/kernels/common.ts withElementType); arithmetic stays in f32.
alias E = f32;
override H4: u32;     // hidden / 4
override ADD: u32;    // 1: add delta first
override ROWS: u32;
override ROW0: u32 = 0u;
override OUT_PAD: u32 = 0u; // vec4s of out before its row 0 (so a later row can start at an aligned offset)
override EPS: f32 = 1e-5;

@group(0) @binding(0) var<storage, read_write> x: array<vec4<E>>;   // [T, H4]
@group(0) @binding(1) var<storage, read> delta: array<vec4<E>>;     // [T, H4]
@group(0) @binding(2) var<storage, read> w: array<vec4<E>>;         // [H4]
@group(0) @binding(3) var<storage, read_write> out: array<vec4<E>>; // [OUT_PAD + ROWS * H4]

@compute @workgroup_size(8)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let r = wg.x;
  if (r >= ROWS) { return; }
  let base = (ROW0 + r) * H4;
  var ss = 0.0;
  for (var i = lane; i < H4; i += 8u) {
    var v = vec4f(x[base + i]);
    if (ADD == 1u) {
      // the sum as stored (rounded to E): the squares are of what the second loop reads back
      v = vec4f(vec4<E>(v + vec4f(delta[base + i])));
      x[base + i] = vec4<E>(v);
    }
    ss += dot(v, v);
  }
  let inv = inverseSqrt(subgroupAdd(ss) / f32(H4 * 4u) + EPS);
  let obase = OUT_PAD + r * H4;
  for (var i = lane; i < H4; i += 8u) {
    out[obase + i] = vec4<E>(vec4f(x[base + i]) * inv * vec4f(w[i]));
  }
}
