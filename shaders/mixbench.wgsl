// Mixbench-style roofline probe: every element is read once, put through FMAS dependent FMAs and
// written once, so arithmetic intensity = 2 * FMAS / (2 * sizeof(elem)) FLOP/byte is set by FMAS.
// Each invocation handles 4 vec4 elements of its workgroup's block (coalesced across lanes).
alias T = f32;
override WG: u32 = 64;
override FMAS: u32 = 1;
const PER: u32 = 4u;

struct Params { a: f32, b: f32, n: u32, _pad: u32 }
@group(0) @binding(0) var<storage, read> src: array<vec4<T>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<T>>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let base = (wid.x + wid.y * nwg.x) * WG * PER + lid.x;
  let a = vec4<T>(T(params.a));
  let b = vec4<T>(T(params.b));
  // Load the PER elements first and run their chains interleaved, so FMA latency is hidden.
  let i0 = base; let i1 = base + WG; let i2 = base + 2u * WG; let i3 = base + 3u * WG;
  let n = params.n;
  var v0 = src[min(i0, n - 1u)];
  var v1 = src[min(i1, n - 1u)];
  var v2 = src[min(i2, n - 1u)];
  var v3 = src[min(i3, n - 1u)];
  for (var j = 0u; j < FMAS; j++) {
    v0 = fma(v0, a, b); v1 = fma(v1, a, b); v2 = fma(v2, a, b); v3 = fma(v3, a, b);
  }
  if (i0 < n) { dst[i0] = v0; }
  if (i1 < n) { dst[i1] = v1; }
  if (i2 < n) { dst[i2] = v2; }
  if (i3 < n) { dst[i3] = v3; }
}
