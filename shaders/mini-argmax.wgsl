// Mini transformer: greedy sampling. One workgroup finds the index of the largest logit (lowest
// index on ties) and writes it as the token at position pos0 + T, the next step's input.
// `alias E` (the storage type of activations and weights) is replaced with f16 by the host for
// the f16 model (src/kernels/common.ts withElementType); arithmetic stays in f32.
alias E = f32;
override VOCAB: u32;
override T: u32;
const WG: u32 = 256u;

struct Step { pos0: u32, kvLen: u32, pad0: u32, pad1: u32 }

@group(0) @binding(0) var<storage, read> logits: array<E>;
@group(0) @binding(1) var<storage, read_write> tokens: array<u32>;
@group(0) @binding(2) var<uniform> step: Step;

var<workgroup> bestV: array<f32, WG>;
var<workgroup> bestI: array<u32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var v = -3.0e38;
  var idx = 0xffffffffu;
  for (var i = lid; i < VOCAB; i += WG) {
    let l = f32(logits[i]);
    if (l > v) { v = l; idx = i; }
  }
  bestV[lid] = v;
  bestI[lid] = idx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      let ov = bestV[lid + s];
      let oi = bestI[lid + s];
      if (ov > bestV[lid] || (ov == bestV[lid] && oi < bestI[lid])) {
        bestV[lid] = ov;
        bestI[lid] = oi;
      }
    }
    workgroupBarrier();
  }
  if (lid == 0u) { tokens[step.pos0 + T] = bestI[0]; }
}
