// Split-K reduce: C[i] = sum over splits z of P[z * MN + i], summed in f32 in split order.
// `alias T` is replaced with f16 by the host for the f16 GEMM (f16 output, f32 partials).
alias T = f32;
override MN: u32;
override SPLITS: u32;
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read> p: array<f32>;
@group(0) @binding(1) var<storage, read_write> c: array<T>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= MN) { return; }
  var s = p[i];
  for (var z = 1u; z < SPLITS; z++) {
    s += p[z * MN + i];
  }
  c[i] = T(s);
}
