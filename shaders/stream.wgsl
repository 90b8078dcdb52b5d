// Memory streams: copy (b = a), read (per-invocation sums), write (b = s * (i % 1024) + t) and
// triad (a = b + s * c). Each workgroup owns a contiguous block of WG * PER elements and lane l
// touches elements l, l + WG, ... of it, so neighbouring lanes touch neighbouring addresses
// (coalesced on a GPU). Lavapipe (Mesa 25.0, LLVM 15) does not turn them into vector loads: every
// storage access becomes per-lane scalar code with a bounds check (see src/kernels/stream.ts).
// `alias E` is vec4<f32> or f32 (the host swaps the line): the best element width differs between
// adapters.
alias E = vec4<f32>;
override WG: u32 = 64;
override PER: u32 = 4;

struct Params { n: u32, s: f32, t: f32, _pad: u32 }
@group(0) @binding(0) var<storage, read_write> a: array<E>;
@group(0) @binding(1) var<storage, read_write> b: array<E>;
@group(0) @binding(2) var<storage, read_write> c: array<E>;
@group(0) @binding(3) var<uniform> params: Params;

fn block_base(wid: vec3<u32>, nwg: vec3<u32>, lid: vec3<u32>) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG * PER + lid.x;
}

@compute @workgroup_size(WG)
fn stream_copy(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let base = block_base(wid, nwg, lid);
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < params.n) { b[i] = a[i]; }
  }
}

@compute @workgroup_size(WG)
fn stream_triad(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
  let base = block_base(wid, nwg, lid);
  let s = E(params.s);
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < params.n) { a[i] = b[i] + s * c[i]; }
  }
}

@compute @workgroup_size(WG)
fn stream_write(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
         @builtin(num_workgroups) nwg: vec3<u32>) {
  let base = block_base(wid, nwg, lid);
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < params.n) { b[i] = E(params.s * f32(i % 1024u) + params.t); }
  }
}

// One partial sum per invocation, written to c[invocation]: the reduced output the host verifies.
@compute @workgroup_size(WG)
fn stream_read(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let base = block_base(wid, nwg, lid);
  var acc = E(0.0);
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < params.n) { acc += a[i]; }
  }
  c[(wid.x + wid.y * nwg.x) * WG + lid.x] = acc;
}
