/**
 * WGSL text of the tiled GEMM kernels, generated per tile configuration so that the register block
 * is fully unrolled into named variables (compilers keep those in registers; a private array indexed
 * in loops may spill on some drivers). Shapes enter as `override` constants, so strides and trip
 * counts are compile-time too.
 *
 * C[M,N] = A[M,K] x B, with B stored either K-major rows of N ('kn': B[k][n], the layout of a
 * row-major weight used as x.W) or transposed ('nk': Bt[n][k], a PyTorch Linear weight). Any M, N, K
 * is accepted: row and column indices are clamped once per thread (outside the K loop), so the
 * interior runs without bounds checks; only the stores and the K remainder are guarded.
 */

export type GemmKind = 'register' | 'tiled' | 'lane' | 'subgroup' | 'subgroup-register';
export type GemmLayoutB = 'kn' | 'nk';

export interface GemmConfig {
  /** kebab-case id, e.g. 'reg-4x8-w16x1' */
  id: string;
  /** 'register': each thread reads its block straight from global memory (caches do the reuse);
   *  'tiled': two-level, workgroup tile staged in var<workgroup>, then a register block per thread;
   *  'lane': every invocation of a workgroup shares the same TM rows (A loads are workgroup-uniform:
   *  one scalar load and a broadcast on a CPU adapter) and owns TN single columns of B;
   *  'subgroup': as 'lane', but each of the TM = WGX invocations (one subgroup of exactly WGX) loads
   *  one A row as a vec4 along K and subgroupBroadcast hands its values to the others;
   *  'subgroup-register': the register kernel (vec4 columns) with A shared the same way */
  kind: GemmKind;
  /** rows and columns of the register block of one thread (tn a multiple of 4: vec4 columns;
   *  'lane': tn single columns, any count) */
  tm: number;
  tn: number;
  /** workgroup size: threads along N (x) and along M (y) */
  wgx: number;
  wgy: number;
  /** K depth of one workgroup-memory stage (tiled only; a multiple of 4) */
  bk: number;
  layoutB: GemmLayoutB;
  /** 4-deep K steps per loop iteration */
  unroll: number;
}

export interface GemmCodeOptions {
  dtype: 'f32' | 'f16';
  /** A rows start on a vec4 boundary (K % 4 == 0) */
  vecA: boolean;
  /** B rows start on a vec4 boundary (N % 4 == 0 for 'kn', K % 4 == 0 for 'nk') */
  vecB: boolean;
  /** write f32 partial sums to P[z][M][N] (split-K) instead of the dtype's C */
  partial: boolean;
}

/** Rows and columns of C one workgroup computes. */
export function workgroupTile(cfg: GemmConfig): { bm: number; bn: number } {
  return { bm: cfg.tm * cfg.wgy, bn: cfg.tn * cfg.wgx };
}

function header(cfg: GemmConfig, o: GemmCodeOptions): string {
  const t = o.dtype; // storage scalar type of A and B
  const v = t === 'f32' ? 'vec4f' : 'vec4h';
  const out = o.partial || o.dtype === 'f32' ? 'f32' : 'f16';
  return [
    o.dtype === 'f16' ? 'enable f16;' : '',
    'override M: u32;',
    'override N: u32;',
    'override K: u32;',
    '// K range of one split (split-K); K itself when not split',
    'override K_SPLIT: u32;',
    `@group(0) @binding(0) var<storage, read> a: array<${o.vecA ? v : t}>;`,
    `@group(0) @binding(1) var<storage, read> b: array<${o.vecB ? v : t}>;`,
    `@group(0) @binding(2) var<storage, read_write> c: array<${out}>;`,
    `const WGX: u32 = ${cfg.wgx}u;`,
    `const WGY: u32 = ${cfg.wgy}u;`,
    `const TM: u32 = ${cfg.tm}u;`,
    `const TN: u32 = ${cfg.tn}u;`,
    '',
  ].join('\n');
}

/** vec4f of A[row][k..k+3]; `r` is the row's element offset (row * K). */
function loadA(o: GemmCodeOptions, r: string, k: string): string {
  if (o.vecA) return o.dtype === 'f32' ? `a[(${r} + ${k}) / 4u]` : `vec4f(a[(${r} + ${k}) / 4u])`;
  const i = `${r} + ${k}`;
  return `vec4f(f32(a[${i}]), f32(a[${i} + 1u]), f32(a[${i} + 2u]), f32(a[${i} + 3u]))`;
}

/** scalar A[row][k] as f32 */
function loadA1(o: GemmCodeOptions, r: string, k: string): string {
  if (o.vecA) return `f32(a[(${r} + ${k}) / 4u][(${r} + ${k}) % 4u])`;
  return `f32(a[${r} + ${k}])`;
}

/**
 * The register kernel: thread (x, y) of workgroup (wx, wy, z) computes rows wy*BM + y*TM + i and
 * vec4 columns wx*BN + 4*(x + WGX*j) (interleaved, so that neighbouring threads read neighbouring
 * vec4s of a B row) over the K range of split z.
 */
export function registerKernel(cfg: GemmConfig, o: GemmCodeOptions): string {
  const { tm } = cfg;
  const nv = cfg.tn / 4; // vec4 columns per thread
  const sg = cfg.kind === 'subgroup-register';
  if (sg && (cfg.wgy !== 1 || tm % cfg.wgx !== 0)) throw new Error(`${cfg.id}: subgroup A sharing needs wgy = 1 and tm a multiple of wgx`);
  const L: string[] = [sg ? 'enable subgroups;' : '', header(cfg, o)];
  L.push(`@compute @workgroup_size(${cfg.wgx}, ${cfg.wgy})`);
  const sid = sg ? ', @builtin(subgroup_invocation_id) sid: u32' : '';
  L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u${sid}) {`);
  L.push('  let row0 = wid.y * (WGY * TM) + lid.y * TM;');
  L.push('  let col0 = wid.x * (WGX * TN) + lid.x * 4u;');
  L.push('  let kBegin = wid.z * K_SPLIT;');
  L.push('  let kEnd = min(kBegin + K_SPLIT, K);');
  // clamped row offsets: rows past M re-read row M-1; their results are never stored
  for (let i = 0; i < tm; i++) L.push(`  let ra${i} = min(row0 + ${i}u, M - 1u) * K;`);
  for (let r = 0; sg && r < tm / cfg.wgx; r++) L.push(`  let raMine${r} = min(row0 + sid + ${r * cfg.wgx}u, M - 1u) * K;`);
  if (cfg.layoutB === 'kn') {
    for (let j = 0; j < nv; j++) {
      if (o.vecB) L.push(`  let cb${j} = min(col0 + ${4 * j}u * WGX, N - 4u) / 4u;`);
      else for (let e = 0; e < 4; e++) L.push(`  let cb${j}_${e} = min(col0 + ${4 * j}u * WGX + ${e}u, N - 1u);`);
    }
  } else {
    for (let j = 0; j < nv; j++) for (let e = 0; e < 4; e++) L.push(`  let cb${j}_${e} = min(col0 + ${4 * j}u * WGX + ${e}u, N - 1u) * K;`);
  }
  for (let i = 0; i < tm; i++) for (let j = 0; j < nv; j++) L.push(`  var acc${i}_${j} = vec4f(0.0);`);
  emitKLoop(cfg, o, L);
  // K remainder (K % 4 or a split's ragged end): scalar steps
  L.push('  for (; k < kEnd; k++) {');
  for (let i = 0; i < tm; i++) L.push(`    let s${i} = ${loadA1(o, `ra${i}`, 'k')};`);
  for (let j = 0; j < nv; j++) {
    L.push(`    let t${j} = ${loadBRow(cfg, o, 'k', j)};`);
    for (let i = 0; i < tm; i++) L.push(`    acc${i}_${j} = fma(vec4f(s${i}), t${j}, acc${i}_${j});`);
  }
  L.push('  }');
  L.push(...storeBlock(cfg, o, '  '));
  L.push('}');
  return L.join('\n');
}

/** Guarded stores of the register block (rows row0+i, vec4 columns col0 + 4*WGX*j). */
function storeBlock(cfg: GemmConfig, o: GemmCodeOptions, ind: string): string[] {
  const L: string[] = [];
  const nv = cfg.tn / 4;
  const base = o.partial ? 'wid.z * M * N + ' : '';
  const cast = !o.partial && o.dtype === 'f16' ? 'f16' : '';
  for (let i = 0; i < cfg.tm; i++) {
    L.push(`${ind}if (row0 + ${i}u < M) {`);
    for (let j = 0; j < nv; j++) {
      L.push(`${ind}  let o${i}_${j} = ${base}(row0 + ${i}u) * N + col0 + ${4 * j}u * WGX;`);
      for (let e = 0; e < 4; e++) {
        L.push(`${ind}  if (col0 + ${4 * j}u * WGX + ${e}u < N) { c[o${i}_${j} + ${e}u] = ${cast}(acc${i}_${j}[${e}]); }`);
      }
    }
    L.push(`${ind}}`);
  }
  return L;
}

/** vec4f of B[k][the 4 columns of vec4 j of this thread] (cb{j}: clamped column indexes). */
function loadBRow(cfg: GemmConfig, o: GemmCodeOptions, k: string, j: number): string {
  const cvt = (x: string) => (o.dtype === 'f32' ? x : `vec4f(${x})`);
  if (cfg.layoutB === 'kn') {
    if (o.vecB) return cvt(`b[${k} * (N / 4u) + cb${j}]`);
    return `vec4f(${[0, 1, 2, 3].map((e) => `f32(b[${k} * N + cb${j}_${e}])`).join(', ')})`;
  }
  const el = (e: number) => (o.vecB ? `b[(cb${j}_${e} + ${k}) / 4u][(cb${j}_${e} + ${k}) % 4u]` : `b[cb${j}_${e} + ${k}]`);
  return `vec4f(${[0, 1, 2, 3].map((e) => `f32(${el(e)})`).join(', ')})`;
}

/**
 * The K loop of 4-deep steps, `cfg.unroll` steps per iteration (each step in its own block so its
 * `let`s are SSA values; loop overhead and per-iteration masking are paid once per unroll).
 */
function emitKLoop(cfg: GemmConfig, o: GemmCodeOptions, L: string[]): void {
  const u = Math.max(1, cfg.unroll);
  L.push('  var k = kBegin;');
  if (u > 1) {
    L.push(`  for (; k + ${4 * u}u <= kEnd; k += ${4 * u}u) {`);
    for (let s = 0; s < u; s++) {
      L.push('   {');
      emitStep(cfg, o, L, s === 0 ? 'k' : `(k + ${4 * s}u)`);
      L.push('   }');
    }
    L.push('  }');
  }
  L.push('  for (; k + 4u <= kEnd; k += 4u) {');
  emitStep(cfg, o, L, 'k');
  L.push('  }');
}

/** One K step of 4: thread holds a{i} (vec4 along K) and acc{i}_{j} (vec4 along N). */
function emitStep(cfg: GemmConfig, o: GemmCodeOptions, L: string[], k: string): void {
  const nv = cfg.tn / 4;
  if (cfg.kind === 'subgroup-register') {
    // invocation s loads rows row0 + s + WGX*r; row i comes from invocation i % WGX of load i / WGX
    for (let r = 0; r < cfg.tm / cfg.wgx; r++) L.push(`    let am${r} = ${loadA(o, `raMine${r}`, k)};`);
    for (let i = 0; i < cfg.tm; i++) L.push(`    let a${i} = subgroupBroadcast(am${Math.floor(i / cfg.wgx)}, ${i % cfg.wgx}u);`);
  } else for (let i = 0; i < cfg.tm; i++) L.push(`    let a${i} = ${loadA(o, `ra${i}`, k)};`);
  if (cfg.layoutB === 'kn') {
    for (let kk = 0; kk < 4; kk++) {
      for (let j = 0; j < nv; j++) L.push(`    let b${kk}_${j} = ${loadBRow(cfg, o, `(${k} + ${kk}u)`, j)};`);
      const comp = 'xyzw'[kk];
      for (let i = 0; i < cfg.tm; i++) for (let j = 0; j < nv; j++) {
        L.push(`    acc${i}_${j} = fma(vec4f(a${i}.${comp}), b${kk}_${j}, acc${i}_${j});`);
      }
    }
    return;
  }
  // 'nk': Bt[n][k..k+3] per column, 4 products summed into each accumulator lane
  for (let j = 0; j < nv; j++) for (let e = 0; e < 4; e++) {
    const ld = o.vecB
      ? o.dtype === 'f32' ? `b[(cb${j}_${e} + ${k}) / 4u]` : `vec4f(b[(cb${j}_${e} + ${k}) / 4u])`
      : `vec4f(${[0, 1, 2, 3].map((q) => `f32(b[cb${j}_${e} + ${k} + ${q}u])`).join(', ')})`;
    L.push(`    let b${j}_${e} = ${ld};`);
  }
  for (let j = 0; j < nv; j++) for (let i = 0; i < cfg.tm; i++) {
    const lanes = [0, 1, 2, 3].map((e) => `dot(a${i}, b${j}_${e})`).join(', ');
    L.push(`    acc${i}_${j} += vec4f(${lanes});`);
  }
}

/**
 * The two-level tiled kernel: per BK-deep stage the workgroup copies an A tile (BM x BK, stored
 * transposed so a thread reads its TM rows as vec4s) and a B tile (BK x BN) into var<workgroup>,
 * with zero fill past K and clamped rows/columns; then each thread accumulates its TM x TN register
 * block from workgroup memory. Thread (x, y) owns rows wy*BM + y*TM + i and vec4 columns
 * wx*BN + 4*(x + WGX*j), as in the register kernel, so both share the guarded store.
 */
export function tiledKernel(cfg: GemmConfig, o: GemmCodeOptions): string {
  const { bm, bn } = workgroupTile(cfg);
  const { tm, bk } = cfg;
  if (tm % 4 !== 0 || bk % 4 !== 0) throw new Error(`tiled GEMM needs tm and bk multiples of 4 (${cfg.id})`);
  const nv = cfg.tn / 4;
  const threads = cfg.wgx * cfg.wgy;
  const L: string[] = [header(cfg, o)];
  L.push(`const BM: u32 = ${bm}u;`, `const BN: u32 = ${bn}u;`, `const BK: u32 = ${bk}u;`);
  L.push(`var<workgroup> As: array<vec4f, ${(bk * bm) / 4}>; // [BK][BM], vec4 along M`);
  L.push(`var<workgroup> Bs: array<vec4f, ${(bk * bn) / 4}>; // [BK][BN], vec4 along N`);
  L.push(`@compute @workgroup_size(${cfg.wgx}, ${cfg.wgy})`);
  L.push('fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u) {');
  L.push('  let tid = lid.y * WGX + lid.x;');
  L.push('  let row0 = wid.y * BM + lid.y * TM;');
  L.push('  let col0 = wid.x * BN + lid.x * 4u;');
  L.push('  let kBegin = wid.z * K_SPLIT;');
  L.push('  let kEnd = min(kBegin + K_SPLIT, K);');
  for (let i = 0; i < tm; i++) for (let j = 0; j < nv; j++) L.push(`  var acc${i}_${j} = vec4f(0.0);`);
  L.push('  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {');
  // --- stage A: vec4 along K when rows are vec4-aligned, else scalars (k fastest: contiguous reads)
  const aUnits = o.vecA ? (bm * bk) / 4 : bm * bk;
  for (let e = 0; e < Math.ceil(aUnits / threads); e++) {
    const guard = (e + 1) * threads > aUnits;
    L.push(`    ${guard ? `if (tid + ${e * threads}u < ${aUnits}u) ` : ''}{`);
    L.push(`      let idx = tid + ${e * threads}u;`);
    if (o.vecA) {
      L.push(`      let r = idx / ${bk / 4}u; let kq = (idx % ${bk / 4}u) * 4u;`);
      L.push('      let gk = k0 + kq;');
      L.push(`      let v = select(vec4f(0.0), ${loadA(o, 'min(wid.y * BM + r, M - 1u) * K', 'min(gk, K - 4u)')}, gk < kEnd);`);
      for (let c = 0; c < 4; c++) L.push(`      As[((kq + ${c}u) * BM + r) / 4u][r % 4u] = v[${c}];`);
    } else {
      L.push(`      let r = idx / BK; let kk = idx % BK;`);
      L.push('      let gk = k0 + kk;');
      L.push(`      As[(kk * BM + r) / 4u][r % 4u] = select(0.0, ${loadA1(o, 'min(wid.y * BM + r, M - 1u) * K', 'min(gk, K - 1u)')}, gk < kEnd);`);
    }
    L.push('    }');
  }
  // --- stage B
  const cvt = (x: string) => (o.dtype === 'f32' ? x : `vec4f(${x})`);
  if (cfg.layoutB === 'kn') {
    const bUnits = o.vecB ? (bk * bn) / 4 : bk * bn;
    for (let e = 0; e < Math.ceil(bUnits / threads); e++) {
      const guard = (e + 1) * threads > bUnits;
      L.push(`    ${guard ? `if (tid + ${e * threads}u < ${bUnits}u) ` : ''}{`);
      L.push(`      let idx = tid + ${e * threads}u;`);
      if (o.vecB) {
        L.push(`      let kk = idx / ${bn / 4}u; let c4 = idx % ${bn / 4}u;`);
        L.push('      let gk = k0 + kk;');
        L.push(`      let col = min(wid.x * BN + c4 * 4u, N - 4u) / 4u;`);
        L.push(`      Bs[kk * ${bn / 4}u + c4] = select(vec4f(0.0), ${cvt('b[min(gk, K - 1u) * (N / 4u) + col]')}, gk < kEnd);`);
      } else {
        L.push('      let kk = idx / BN; let n = idx % BN;');
        L.push('      let gk = k0 + kk;');
        L.push(`      Bs[(kk * BN + n) / 4u][n % 4u] = select(0.0, f32(b[min(gk, K - 1u) * N + min(wid.x * BN + n, N - 1u)]), gk < kEnd);`);
      }
      L.push('    }');
    }
  } else {
    // Bt[n][k]: k fastest, like A
    const bUnits = bn * bk;
    for (let e = 0; e < Math.ceil(bUnits / threads); e++) {
      const guard = (e + 1) * threads > bUnits;
      L.push(`    ${guard ? `if (tid + ${e * threads}u < ${bUnits}u) ` : ''}{`);
      L.push(`      let idx = tid + ${e * threads}u;`);
      L.push('      let n = idx / BK; let kk = idx % BK;');
      L.push('      let gk = k0 + kk;');
      const el = o.vecB ? '(min(wid.x * BN + n, N - 1u) * K + min(gk, K - 1u))' : '';
      const ld = o.vecB ? `b[${el} / 4u][${el} % 4u]` : 'b[min(wid.x * BN + n, N - 1u) * K + min(gk, K - 1u)]';
      L.push(`      Bs[(kk * BN + n) / 4u][n % 4u] = select(0.0, f32(${ld}), gk < kEnd);`);
      L.push('    }');
    }
  }
  L.push('    workgroupBarrier();');
  L.push('    for (var kk = 0u; kk < BK; kk++) {');
  for (let i4 = 0; i4 < tm / 4; i4++) L.push(`      let a${i4} = As[kk * ${bm / 4}u + lid.y * ${tm / 4}u + ${i4}u];`);
  for (let j = 0; j < nv; j++) L.push(`      let b${j} = Bs[kk * ${bn / 4}u + lid.x + ${j}u * WGX];`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < nv; j++) {
    L.push(`      acc${i}_${j} = fma(vec4f(a${i >> 2}[${i & 3}]), b${j}, acc${i}_${j});`);
  }
  L.push('    }');
  L.push('    workgroupBarrier();');
  L.push('  }');
  L.push(...storeBlock(cfg, o, '  '));
  L.push('}');
  return L.join('\n');
}

/**
 * The lane kernel, shaped for SIMD-on-CPU adapters (lavapipe): a workgroup is WGX invocations in one
 * row (WGY = 1), all computing the same TM rows, so every A load has a workgroup-uniform address
 * (llvmpipe turns those into one scalar load and a broadcast instead of a per-lane gather). Each
 * invocation owns TN single columns col0 + WGX*j, so only B is read per lane: one float per column
 * and K step ('kn', scalar) or a vec4 along K ('nk'), feeding TM FMAs. Accumulators are scalars,
 * TM x TN of them, which keeps the block in the CPU's vector registers.
 */
export function laneKernel(cfg: GemmConfig, o: GemmCodeOptions): string {
  const { tm, tn } = cfg;
  const sg = cfg.kind === 'subgroup';
  if (cfg.wgy !== 1) throw new Error(`lane GEMM needs wgy = 1 (${cfg.id})`);
  if (sg && tm % cfg.wgx !== 0) throw new Error(`subgroup GEMM needs tm a multiple of wgx (${cfg.id})`);
  const reps = sg ? tm / cfg.wgx : 0; // A rows each invocation loads
  const L: string[] = [sg ? 'enable subgroups;' : '', header(cfg, o)];
  L.push(`@compute @workgroup_size(${cfg.wgx}, 1)`);
  const sid = sg ? ', @builtin(subgroup_invocation_id) sid: u32' : '';
  L.push(`fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid: vec3u${sid}) {`);
  L.push('  let row0 = wid.y * TM;');
  L.push('  let col0 = wid.x * (WGX * TN) + lid.x;');
  L.push('  let kBegin = wid.z * K_SPLIT;');
  L.push('  let kEnd = min(kBegin + K_SPLIT, K);');
  // subgroup: this invocation loads rows row0 + sid + WGX*r for all; otherwise every row uniformly
  for (let r = 0; r < reps; r++) L.push(`  let raMine${r} = min(row0 + sid + ${r * cfg.wgx}u, M - 1u) * K;`);
  if (!sg) for (let i = 0; i < tm; i++) L.push(`  let ra${i} = min(row0 + ${i}u, M - 1u) * K;`);
  const kn = cfg.layoutB === 'kn';
  const aOf = (i: number, comp: string) =>
    sg ? `subgroupBroadcast(am${Math.floor(i / cfg.wgx)}.${comp}, ${i % cfg.wgx}u)` : `a${i}.${comp}`;
  for (let j = 0; j < tn; j++) L.push(`  let cb${j} = min(col0 + ${j}u * WGX, N - 1u)${kn ? '' : ' * K'};`);
  for (let i = 0; i < tm; i++) for (let j = 0; j < tn; j++) L.push(`  var acc${i}_${j} = 0.0;`);
  const u = Math.max(1, cfg.unroll);
  const step = (k: string) => {
    L.push('   {');
    for (let r = 0; r < reps; r++) L.push(`    let am${r} = ${loadA(o, `raMine${r}`, k)};`);
    if (!sg) for (let i = 0; i < tm; i++) L.push(`    let a${i} = ${loadA(o, `ra${i}`, k)};`);
    if (kn) {
      for (let kk = 0; kk < 4; kk++) {
        for (let j = 0; j < tn; j++) L.push(`    let b${kk}_${j} = f32(b[(${k} + ${kk}u) * N + cb${j}]);`);
        const comp = 'xyzw'[kk];
        for (let i = 0; i < tm; i++) {
          if (sg) L.push(`    let a${i}_${kk} = ${aOf(i, comp)};`);
          for (let j = 0; j < tn; j++) L.push(`    acc${i}_${j} = fma(${sg ? `a${i}_${kk}` : aOf(i, comp)}, b${kk}_${j}, acc${i}_${j});`);
        }
      }
    } else {
      for (let j = 0; j < tn; j++) {
        const ld = o.vecB
          ? o.dtype === 'f32' ? `b[(cb${j} + ${k}) / 4u]` : `vec4f(b[(cb${j} + ${k}) / 4u])`
          : `vec4f(${[0, 1, 2, 3].map((q) => `f32(b[cb${j} + ${k} + ${q}u])`).join(', ')})`;
        L.push(`    let b${j} = ${ld};`);
      }
      for (let kk = 0; kk < 4; kk++) {
        const comp = 'xyzw'[kk];
        for (let i = 0; i < tm; i++) {
          if (sg) L.push(`    let a${i}_${kk} = ${aOf(i, comp)};`);
          for (let j = 0; j < tn; j++) L.push(`    acc${i}_${j} = fma(${sg ? `a${i}_${kk}` : aOf(i, comp)}, b${j}.${comp}, acc${i}_${j});`);
        }
      }
    }
    L.push('   }');
  };
  L.push('  var k = kBegin;');
  if (u > 1) {
    L.push(`  for (; k + ${4 * u}u <= kEnd; k += ${4 * u}u) {`);
    for (let s = 0; s < u; s++) step(s === 0 ? 'k' : `(k + ${4 * s}u)`);
    L.push('  }');
  }
  L.push('  for (; k + 4u <= kEnd; k += 4u) {');
  step('k');
  L.push('  }');
  L.push('  for (; k < kEnd; k++) {');
  if (sg) {
    for (let r = 0; r < reps; r++) L.push(`    let sm${r} = ${loadA1(o, `raMine${r}`, 'k')};`);
    for (let i = 0; i < tm; i++) L.push(`    let s${i} = subgroupBroadcast(sm${Math.floor(i / cfg.wgx)}, ${i % cfg.wgx}u);`);
  } else for (let i = 0; i < tm; i++) L.push(`    let s${i} = ${loadA1(o, `ra${i}`, 'k')};`);
  for (let j = 0; j < tn; j++) {
    const el = kn ? `b[k * N + cb${j}]` : o.vecB ? `b[(cb${j} + k) / 4u][(cb${j} + k) % 4u]` : `b[cb${j} + k]`;
    L.push(`    let t${j} = f32(${el});`);
    for (let i = 0; i < tm; i++) L.push(`    acc${i}_${j} = fma(s${i}, t${j}, acc${i}_${j});`);
  }
  L.push('  }');
  const base = o.partial ? 'wid.z * M * N + ' : '';
  const cast = !o.partial && o.dtype === 'f16' ? 'f16' : '';
  for (let i = 0; i < tm; i++) {
    L.push(`  if (row0 + ${i}u < M) {`);
    for (let j = 0; j < tn; j++) {
      L.push(`    if (col0 + ${j}u * WGX < N) { c[${base}(row0 + ${i}u) * N + col0 + ${j}u * WGX] = ${cast}(acc${i}_${j}); }`);
    }
    L.push('  }');
  }
  L.push('}');
  return L.join('\n');
}

/** The WGSL of a configuration ('lane' with 'kn' reads B as scalars, whatever vecB says). */
export function gemmKernel(cfg: GemmConfig, o: GemmCodeOptions): string {
  if (cfg.kind === 'lane' || cfg.kind === 'subgroup') return laneKernel(cfg, cfg.layoutB === 'kn' ? { ...o, vecB: false } : o);
  return cfg.kind === 'tiled' ? tiledKernel(cfg, o) : registerKernel(cfg, o);
}
