// Mini transformer: fused residual add + RMSNorm (vLLM's fused_add_rms_norm).
// For rows r = ROW0 .. ROW0 + ROWS - 1: if ADD, x[r] += delta[r] (written back: the residual
// stream); out[r - ROW0] = x[r] / sqrt(mean(x[r]^2) + EPS) * w.
// One invocation per row, no barriers: a workgroup-wide reduction per row costs a CPU adapter
// (lavapipe) more than the row's arithmetic, and rows are short (hidden / 4 vec4s).
// `alias E` (the storage type of activations and weights) is replaced with f16 by the host for
// the f16 model (src/kernels/common.ts withElementType); arithmetic stays in f32.
alias E = f32;
override H4: u32;     // hidden / 4
override ADD: u32;    // 1: add delta first
override ROWS: u32;
override ROW0: u32 = 0u;
override OUT_PAD: u32 = 0u; // vec4s of out before its row 0 (so a later row can start at an aligned offset)
override EPS: f32 = 1e-5;
override WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> x: array<vec4<E>>;   // [T, H4]
@group(0) @binding(1) var<storage, read> delta: array<vec4<E>>;     // [T, H4]
@group(0) @binding(2) var<storage, read> w: array<vec4<E>>;         // [H4]
@group(0) @binding(3) var<storage, read_write> out: array<vec4<E>>; // [OUT_PAD + ROWS * H4]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let r = gid.x;
  if (r >= ROWS) { return; }
  let base = (ROW0 + r) * H4;
  var ss = 0.0;
  for (var i = 0u; i < H4; i++) {
    var v = vec4f(x[base + i]);
    if (ADD == 1u) {
      // the sum as stored (rounded to E): the squares are of what the second loop reads back
      v = vec4f(vec4<E>(v + vec4f(delta[base + i])));
      x[base + i] = vec4<E>(v);
    }
    ss += dot(v, v);
  }
  let inv = inverseSqrt(ss / f32(H4 * 4u) + EPS);
  let obase = OUT_PAD + r * H4;
  for (var i = 0u; i < H4; i++) {
    out[obase + i] = vec4<E>(vec4f(x[base + i]) * inv * vec4f(w[i]));
  }
}
