// Mini transformer: rotary position embedding (rotate-half form of Llama in Hugging Face).
// Reads the fused projection qkv [T, (QH + 2 KVH) * HD]; writes the rotated q to q [T, QH * HD]
// (the contiguous layout the attention kernels read) and rotates k in place in qkv.
// cos/sin come from a table computed in float64 on the host: WGSL sin/cos are only accurate
// near [-pi, pi], and positions reach thousands of radians.
override T: u32;
override QH: u32;
override KVH: u32;
override HD2: u32;    // head dim / 2
override WG: u32 = 64;

struct Step { pos0: u32, kvLen: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read> rope: array<vec2f>;      // [position, HD2] (cos, sin)
@group(0) @binding(3) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  let heads = QH + KVH;
  if (i >= T * heads * HD2) { return; }
  let e = i % HD2;
  let hh = (i / HD2) % heads;
  let t = i / (HD2 * heads);
  let hd = 2u * HD2;
  let cs = rope[(step.pos0 + t) * HD2 + e];
  let row = t * (QH + 2u * KVH) * hd;
  if (hh < QH) {
    let src = row + hh * hd + e;
    let x1 = qkv[src];
    let x2 = qkv[src + HD2];
    let dst = (t * QH + hh) * hd + e;
    q[dst] = x1 * cs.x - x2 * cs.y;
    q[dst + HD2] = x2 * cs.x + x1 * cs.y;
  } else {
    let src = row + QH * hd + (hh - QH) * hd + e;
    let x1 = qkv[src];
    let x2 = qkv[src + HD2];
    qkv[src] = x1 * cs.x - x2 * cs.y;
    qkv[src + HD2] = x2 * cs.x + x1 * cs.y;
  }
}
