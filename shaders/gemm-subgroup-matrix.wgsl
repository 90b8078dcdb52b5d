// f16 GEMM on the adapter's matrix units (chromium_experimental_subgroup_matrix), f32 or f16
// accumulate (alias R, the config's result type). One subgroup per workgroup computes a
// (TR*SM) x (TC*SN) tile of C. Each stage copies an A tile and a B tile (row-major 'kn' weight) into
// workgroup memory with zero fill, so any M, N, K works; the result goes through workgroup memory
// to guarded stores. The host replaces the const lines below with the chosen config, and rewrites
// the load/store calls for Dawn's newer syntax (majorness as template parameter) when needed.
enable f16;
enable chromium_experimental_subgroup_matrix;
alias R = f32;
const SM: u32 = 16u;
const SN: u32 = 16u;
const SK: u32 = 16u;
const TR: u32 = 2u;
const TC: u32 = 2u;
const KS: u32 = 2u;
const BM: u32 = SM * TR;
const BN: u32 = SN * TC;
const BK: u32 = SK * KS;
override M: u32;
override N: u32;
override K: u32;
override SG: u32 = 32;

@group(0) @binding(0) var<storage, read> a: array<f16>;
@group(0) @binding(1) var<storage, read> b: array<f16>;
@group(0) @binding(2) var<storage, read_write> c: array<f16>;

var<workgroup> As: array<f16, BM * BK>;
var<workgroup> Bs: array<f16, BK * BN>;
var<workgroup> Cs: array<R, BM * BN>;

@compute @workgroup_size(SG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let m0 = wid.y * BM;
  let n0 = wid.x * BN;
  var acc: array<subgroup_matrix_result<R, SN, SM>, TR * TC>;
  for (var k0 = 0u; k0 < K; k0 += BK) {
    for (var i = lid; i < BM * BK; i += SG) {
      let r = i / BK;
      let k = k0 + i % BK;
      As[i] = select(f16(0.0), a[min(m0 + r, M - 1u) * K + min(k, K - 1u)], k < K && m0 + r < M);
    }
    for (var i = lid; i < BK * BN; i += SG) {
      let k = k0 + i / BN;
      let n = n0 + i % BN;
      Bs[i] = select(f16(0.0), b[min(k, K - 1u) * N + min(n, N - 1u)], k < K && n < N);
    }
    workgroupBarrier();
    for (var ks = 0u; ks < KS; ks++) {
      for (var tr = 0u; tr < TR; tr++) {
        let left = subgroupMatrixLoad<subgroup_matrix_left<f16, SK, SM>>(&As, tr * SM * BK + ks * SK, false, BK);
        for (var tc = 0u; tc < TC; tc++) {
          let right = subgroupMatrixLoad<subgroup_matrix_right<f16, SN, SK>>(&Bs, ks * SK * BN + tc * SN, false, BN);
          acc[tr * TC + tc] = subgroupMatrixMultiplyAccumulate(left, right, acc[tr * TC + tc]);
        }
      }
    }
    workgroupBarrier();
  }
  for (var tr = 0u; tr < TR; tr++) {
    for (var tc = 0u; tc < TC; tc++) {
      subgroupMatrixStore(&Cs, tr * SM * BN + tc * SN, acc[tr * TC + tc], false, BN);
    }
  }
  workgroupBarrier();
  for (var i = lid; i < BM * BN; i += SG) {
    let r = m0 + i / BN;
    let n = n0 + i % BN;
    if (r < M && n < N) { c[r * N + n] = f16(Cs[i]); }
  }
}
