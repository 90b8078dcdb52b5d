// Mini transformer: embedding gather. x[t][:] = table[tokens[pos0 + t]][:] for t < T.
// Token ids come from a GPU buffer (argmax writes the next one there), so decode never reads back.
// `alias E` (the storage type of activations and weights) is replaced with f16 by the host for
// the f16 model (src/kernels/common.ts withElementType); arithmetic stays in f32.
alias E = f32;
override T: u32;      // tokens in this step
override H4: u32;     // hidden / 4
override VOCAB: u32;
override WG: u32 = 64;

struct Step { pos0: u32, kvLen: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> tokens: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<vec4<E>>;   // [VOCAB, H4]
@group(0) @binding(2) var<storage, read_write> x: array<vec4<E>>; // [T, H4]
@group(0) @binding(3) var<uniform> step: Step;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= T * H4) { return; }
  let t = i / H4;
  let tok = min(tokens[step.pos0 + t], VOCAB - 1u);
  x[i] = table[tok * H4 + i % H4];
}
