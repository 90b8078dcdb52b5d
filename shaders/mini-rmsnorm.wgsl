// Mini transformer: fused residual add + RMSNorm (vLLM's fused_add_rms_norm).
// For rows r = ROW0 .. ROW0 + gridX - 1: if ADD, x[r] += delta[r] (written back: the residual
// stream); out[r - ROW0] = x[r] / sqrt(mean(x[r]^2) + EPS) * w. One workgroup per row.
override H4: u32;     // hidden / 4
override ADD: u32;    // 1: add delta first
override ROW0: u32 = 0u;
override EPS: f32 = 1e-5;
const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read_write> x: array<vec4f>;   // [T, H4]
@group(0) @binding(1) var<storage, read> delta: array<vec4f>;     // [T, H4]
@group(0) @binding(2) var<storage, read> w: array<vec4f>;         // [H4]
@group(0) @binding(3) var<storage, read_write> out: array<vec4f>; // [rows, H4]

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = ROW0 + wid.x;
  let base = row * H4;
  var ss = 0.0;
  for (var i = lid; i < H4; i += WG) {
    var v = x[base + i];
    if (ADD == 1u) {
      v += delta[base + i];
      x[base + i] = v;
    }
    ss += dot(v, v);
  }
  partial[lid] = ss;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { partial[lid] += partial[lid + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(partial[0] / f32(H4 * 4u) + EPS);
  let obase = wid.x * H4;
  for (var i = lid; i < H4; i += WG) {
    out[obase + i] = x[base + i] * inv * w[i];
  }
}
