/**
 * Paged KV cache: a fixed pool of blocks with reference counts and, when prefix caching is on, a
 * map from block content key to block (vLLM's automatic prefix caching). A block whose reference
 * count drops to 0 keeps its cached content and joins the tail of a free queue; allocation takes
 * the queue head, so the least recently freed cached block is the one evicted (LRU).
 */
export class BlockPool {
  readonly numBlocks: number;
  private readonly ref: Int32Array;
  /** content key of a cached block, NaN when it holds none */
  private readonly keys: Float64Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly inFree: Uint8Array;
  private head = -1;
  private tail = -1;
  private free = 0;
  private readonly cached: KeyTable;
  /** cached blocks whose content was dropped to make room */
  evictions = 0;

  constructor(
    numBlocks: number,
    readonly caching: boolean,
  ) {
    if (!Number.isInteger(numBlocks) || numBlocks < 1) throw new Error(`block pool needs >= 1 block, got ${numBlocks}`);
    this.numBlocks = numBlocks;
    this.ref = new Int32Array(numBlocks);
    this.keys = new Float64Array(numBlocks).fill(NaN);
    this.prev = new Int32Array(numBlocks);
    this.next = new Int32Array(numBlocks);
    this.inFree = new Uint8Array(numBlocks);
    this.cached = new KeyTable(caching ? numBlocks : 1);
    for (let b = 0; b < numBlocks; b++) this.append(b);
  }

  /** blocks that can be allocated now (free, cached content or not) */
  get freeBlocks(): number {
    return this.free;
  }

  /** blocks held by at least one request */
  get usedBlocks(): number {
    return this.numBlocks - this.free;
  }

  get cachedBlocks(): number {
    return this.cached.size;
  }

  refCount(block: number): number {
    return this.ref[block];
  }

  private append(b: number): void {
    this.prev[b] = this.tail;
    this.next[b] = -1;
    if (this.tail >= 0) this.next[this.tail] = b;
    else this.head = b;
    this.tail = b;
    this.inFree[b] = 1;
    this.free++;
  }

  private unlink(b: number): void {
    const p = this.prev[b];
    const n = this.next[b];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.inFree[b] = 0;
    this.free--;
  }

  /** Takes the least recently freed block, dropping its cached content. */
  allocate(): number {
    const b = this.head;
    if (b < 0) throw new Error('KV block pool exhausted');
    this.unlink(b);
    const key = this.keys[b];
    if (!Number.isNaN(key)) {
      this.cached.remove(key, b);
      this.keys[b] = NaN;
      this.evictions++;
    }
    this.ref[b] = 1;
    return b;
  }

  /** The block caching `key`, or -1. */
  lookup(key: number): number {
    if (!this.caching) return -1;
    return this.cached.get(key);
  }

  /** Shares a cached block with one more request (taking it off the free queue if unused). */
  touch(block: number): void {
    if (this.ref[block] === 0) this.unlink(block);
    this.ref[block]++;
  }

  /** Drops one reference; an unused block joins the free queue tail with its content kept. */
  release(block: number): void {
    const r = --this.ref[block];
    if (r < 0) throw new Error(`block ${block} released more often than taken`);
    if (r === 0) this.append(block);
  }

  /** Records that a full, computed block holds `key` (the first block computed with a key wins). */
  register(block: number, key: number): void {
    if (!this.caching || this.cached.get(key) >= 0) return;
    this.cached.set(key, block);
    this.keys[block] = key;
  }

  /** Whether `block` sits in the free queue (used by tests). */
  isFree(block: number): boolean {
    return this.inFree[block] === 1;
  }
}

/**
 * Open-addressing hash table from block key (a double) to block id, sized for every block of the
 * pool at load <= 1/2. A Map keyed by large doubles was the simulator's hot spot (it hashes heap
 * numbers); this one is several times faster. Deletion shifts entries back (no tombstones).
 */
class KeyTable {
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  private readonly mask: number;
  private count = 0;

  constructor(capacity: number) {
    let size = 16;
    while (size < 2 * capacity) size *= 2;
    this.keys = new Float64Array(size);
    this.vals = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  private slot(key: number): number {
    const hi = (key / 2097152) | 0;
    const lo = key - hi * 2097152;
    return (Math.imul(hi, 0x9e3779b1) ^ Math.imul(lo + 1, 0x85ebca77)) & this.mask;
  }

  get(key: number): number {
    let i = this.slot(key);
    for (;;) {
      const v = this.vals[i];
      if (v < 0) return -1;
      if (this.keys[i] === key) return v;
      i = (i + 1) & this.mask;
    }
  }

  set(key: number, value: number): void {
    let i = this.slot(key);
    while (this.vals[i] >= 0) {
      if (this.keys[i] === key) {
        this.vals[i] = value;
        return;
      }
      i = (i + 1) & this.mask;
    }
    this.keys[i] = key;
    this.vals[i] = value;
    this.count++;
  }

  /** Removes `key` if it maps to `value`. */
  remove(key: number, value: number): void {
    let i = this.slot(key);
    for (;;) {
      const v = this.vals[i];
      if (v < 0) return;
      if (this.keys[i] === key) break;
      i = (i + 1) & this.mask;
    }
    if (this.vals[i] !== value) return;
    this.vals[i] = -1;
    this.count--;
    // shift later entries of the probe run back so lookups never stop early
    let j = i;
    for (;;) {
      j = (j + 1) & this.mask;
      if (this.vals[j] < 0) return;
      const home = this.slot(this.keys[j]);
      // move j into the hole at i unless its home lies cyclically in (i, j]
      const inRange = i <= j ? home > i && home <= j : home > i || home <= j;
      if (inRange) continue;
      this.keys[i] = this.keys[j];
      this.vals[i] = this.vals[j];
      this.vals[j] = -1;
      i = j;
    }
  }
}
