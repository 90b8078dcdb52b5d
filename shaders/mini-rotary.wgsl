// Mini transformer: rotary position embedding (rotate-half form of Llama in Hugging Face).
// Reads the fused projection qkv [T, (QH + 2 KVH) * HD]; writes the rotated q to q [T, QH * HD]
// (the contiguous layout the attention kernels read) and rotates k in place in qkv.
// cos/sin come from a table computed in float64 on the host: WGSL sin/cos are only accurate
// near [-pi, pi], and positions reach thousands of radians.
// Invocation = (token, element of the half head); it loops over the heads, so each table entry is
// read once per token rather than once per head (on lavapipe every lane-varying load costs one
// access per lane: the table read per head cost half as much again as the data).
// `alias E` (the storage type of activations and weights) is replaced with f16 by the host for
// the f16 model (src/kernels/common.ts withElementType); arithmetic stays in f32.
alias E = f32;
override T: u32;
override QH: u32;
override KVH: u32;
override HD2: u32;    // head dim / 2
override WG: u32 = 64;

struct Step { pos0: u32, kvLen: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read_write> qkv: array<E>;
@group(0) @binding(1) var<storage, read_write> q: array<E>;
@group(0) @binding(2) var<storage, read> rope: array<vec2f>;      // [position, HD2] (cos, sin)
@group(0) @binding(3) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= T * HD2) { return; }
  let e = i % HD2;
  let t = i / HD2;
  let hd = 2u * HD2;
  let cs = rope[(step.pos0 + t) * HD2 + e];
  let row = t * (QH + 2u * KVH) * hd + e;
  for (var h = 0u; h < QH; h++) {
    let src = row + h * hd;
    let x1 = f32(qkv[src]);
    let x2 = f32(qkv[src + HD2]);
    let dst = (t * QH + h) * hd + e;
    q[dst] = E(x1 * cs.x - x2 * cs.y);
    q[dst + HD2] = E(x2 * cs.x + x1 * cs.y);
  }
  for (var h = 0u; h < KVH; h++) {
    let src = row + (QH + h) * hd;
    let x1 = f32(qkv[src]);
    let x2 = f32(qkv[src + HD2]);
    qkv[src] = E(x1 * cs.x - x2 * cs.y);
    qkv[src + HD2] = E(x2 * cs.x + x1 * cs.y);
  }
}
