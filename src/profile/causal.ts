/**
 * The causal work a tiled flash-attention kernel really does. Such kernels skip key tiles that the
 * causal mask hides entirely, but compute every tile that the diagonal crosses in full (masked
 * scores included), and a partly filled query tile costs a full one. Near the diagonal that is up
 * to twice the useful query-key pairs for short prompts (48 tokens in tiles of 16: 1536 pairs
 * computed for 1176 useful), a few percent for long ones. The calibration fits prefill attention on
 * this work and records the tile in the profile, so the predictor counts the same work.
 */

/** Query rows and keys per tile of a flash-attention kernel. */
export interface CausalTile {
  queryRows: number;
  keys: number;
}

/** The tile of a variant name such as 'pairs-br16-bc16' (query rows br, keys bc); null if none. */
export function causalTileOfVariant(variant: string | undefined): CausalTile | null {
  const m = variant ? /-br(\d+)-bc(\d+)/.exec(variant) : null;
  if (!m) return null;
  const tile = { queryRows: Number(m[1]), keys: Number(m[2]) };
  return tile.queryRows > 0 && tile.keys > 0 ? tile : null;
}

/**
 * Query-key pairs of `t` new tokens after `p` cached ones, each attending to at most `window` keys:
 * exactly under the mask without a tile; with one, as the tiled kernel computes them (key tiles
 * aligned at position 0, the last query tile padded to full rows).
 */
export function causalPairs(t: number, p: number, window: number, tile: CausalTile | null = null): number {
  if (!tile) {
    if (p + t <= window) return t * p + (t * (t + 1)) / 2;
    const full = Math.max(0, Math.min(t, window - p)); // tokens whose whole past fits the window
    return full * p + (full * (full + 1)) / 2 + (t - full) * window;
  }
  const { queryRows: br, keys: bc } = tile;
  let pairs = 0;
  for (let q0 = 0; q0 < t; q0 += br) {
    const first = p + q0; // position of the tile's first query
    const end = p + Math.min(t, q0 + br); // one past its last query: the keys it needs end here
    const start = Number.isFinite(window) ? Math.max(0, first - window + 1) : 0;
    pairs += br * (Math.ceil(end / bc) - Math.floor(start / bc)) * bc;
  }
  return pairs;
}
