// Split-KV attention decode, pass 2: combines the splits' (acc, max, sum) of each (batch, head).
// part [batch, numHeads, splits, headDim + 2] (f32, from attention-decode.wgsl); out [batch, numHeads, headDim].
// Workgroup = one (head, batch); invocation = one vec4 column of headDim.
alias T = f32;
const D4: u32 = 32u;   // headDim / 4

struct Shape { numHeads: u32, splits: u32 }

@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<vec4<T>>;
@group(0) @binding(2) var<uniform> shape: Shape;

@compute @workgroup_size(D4)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) col: u32) {
  let NUM_HEADS = shape.numHeads;
  let SPLITS = shape.splits;
  let bh = wg.y * NUM_HEADS + wg.x;
  let stride = D4 * 4u + 2u;
  let base = bh * SPLITS * stride;
  var mx = -3.0e38;
  for (var s = 0u; s < SPLITS; s++) { mx = max(mx, part[base + s * stride + D4 * 4u]); }
  var acc = vec4<f32>(0.0);
  var sum = 0.0;
  for (var s = 0u; s < SPLITS; s++) {
    let p = base + s * stride;
    let w = exp(part[p + D4 * 4u] - mx);
    sum += w * part[p + D4 * 4u + 1u];
    let c = p + col * 4u;
    acc += w * vec4<f32>(part[c], part[c + 1u], part[c + 2u], part[c + 3u]);
  }
  o[bh * D4 + col] = vec4<T>(acc / sum);
}
