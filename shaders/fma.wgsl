// FMA peak: each invocation runs 4 independent vec4 chains x = fma(x, a, b) for ITERS steps
// (independent chains hide FMA latency; 8 chains ran slower on lavapipe: 32 live vectors spill), then writes the sum of its lanes so nothing is dead code.
// a is in [0.25, 0.75] so every chain contracts to b / (1 - a): f32/f16 rounding stays bounded and a
// float64 reference matches. `alias T` is replaced with f16 by the host for the f16 variant.
alias T = f32;
override WG: u32 = 64;
override ITERS: u32 = 256;

struct Params { a: f32, b: f32, threads: u32, _pad: u32 }
@group(0) @binding(0) var<storage, read> x0: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= params.threads) { return; }
  let a = vec4<T>(T(params.a));
  let b = vec4<T>(T(params.b));
  let s = vec4<T>(x0[t]);
  var c0 = s;
  var c1 = s.yzwx;
  var c2 = -s;
  var c3 = -s.yzwx;
  for (var i = 0u; i < ITERS; i++) {
    c0 = fma(c0, a, b); c1 = fma(c1, a, b); c2 = fma(c2, a, b); c3 = fma(c3, a, b);
  }
  let sum = vec4<f32>(c0 + c1) + vec4<f32>(c2 + c3);
  out[t] = (sum.x + sum.y) + (sum.z + sum.w);
}
