// Mini transformer: SwiGLU activation. gu [T, 2 I] holds gate | up (one fused GEMM);
// out[t][i] = silu(gate[t][i]) * up[t][i].
override T: u32;
override I4: u32;     // FFN width / 4
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> gu: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4f>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= T * I4) { return; }
  let t = i / I4;
  let j = i % I4;
  let g = gu[t * 2u * I4 + j];
  let u = gu[t * 2u * I4 + I4 + j];
  out[i] = g / (1.0 + exp(-g)) * u;
}
