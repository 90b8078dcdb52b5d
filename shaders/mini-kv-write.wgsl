// Mini transformer: KV-cache append. Copies the (rotated) k and the v of T new tokens from the
// fused projection qkv [T, QDIM + 2 KVDIM] into the caches [capacity, KVDIM] at rows pos0 + t.
// `alias E` (the storage type of activations and weights) is replaced with f16 by the host for
// the f16 model (src/kernels/common.ts withElementType); arithmetic stays in f32.
alias E = f32;
override T: u32;
override QDIM4: u32;   // q width / 4
override KVDIM4: u32;  // kv width / 4
override WG: u32 = 64;

struct Step { pos0: u32, kvLen: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> qkv: array<vec4<E>>;
@group(0) @binding(1) var<storage, read_write> kc: array<vec4<E>>;
@group(0) @binding(2) var<storage, read_write> vc: array<vec4<E>>;
@group(0) @binding(3) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= T * KVDIM4) { return; }
  let t = i / KVDIM4;
  let j = i % KVDIM4;
  let src = t * (QDIM4 + 2u * KVDIM4) + QDIM4 + j;
  let dst = (step.pos0 + t) * KVDIM4 + j;
  kc[dst] = qkv[src];
  vc[dst] = qkv[src + KVDIM4];
}
