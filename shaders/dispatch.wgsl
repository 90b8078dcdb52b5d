// Near-empty kernel for dispatch overhead: one invocation stores a token so a run is verifiable;
// every other invocation does nothing.
override WG: u32 = 64;
override TOKEN: u32 = 1;

@group(0) @binding(0) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x == 0u && gid.y == 0u) {
    sink[0] = TOKEN;
  }
}
