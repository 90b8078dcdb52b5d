// Empty kernel for dispatch overhead: binds one buffer (so the pipeline layout matches a real
// kernel) but does no work unless the guard, which never holds, is true.
override WG: u32 = 64;

@group(0) @binding(0) var<storage, read_write> sink: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x == 0xffffffffu) {
    sink[0] = gid.x;
  }
}
