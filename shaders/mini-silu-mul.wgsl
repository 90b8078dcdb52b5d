// Mini transformer: SwiGLU activation. gu [T, 2 I] holds gate | up (one fused GEMM);
// out[t][i] = silu(gate[t][i]) * up[t][i].
// `alias E` (the storage type of activations and weights) is replaced with f16 by the host for
// the f16 model (src/kernels/common.ts withElementType); arithmetic stays in f32.
alias E = f32;
override T: u32;
override I4: u32;     // FFN width / 4
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> gu: array<vec4<E>>;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<E>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= T * I4) { return; }
  let t = i / I4;
  let j = i % I4;
  let g = vec4f(gu[t * 2u * I4 + j]);
  let u = vec4f(gu[t * 2u * I4 + I4 + j]);
  out[i] = vec4<E>(g / (1.0 + exp(-g)) * u);
}
