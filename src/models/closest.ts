/** Levenshtein edit distance, for "did you mean" suggestions on unknown ids. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length];
}

const bare = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The candidate closest to `query` (case and punctuation ignored), or undefined when none is plausibly meant. */
export function closestMatch(query: string, candidates: readonly string[]): string | undefined {
  const q = bare(query);
  if (q === '') return undefined;
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const b = bare(c);
    // a prefix or substring ("h100" -> "h100-sxm", "a100sxm" -> "a100-sxm4-40gb") beats any edit
    const d = b.startsWith(q) ? 0 : b.includes(q) ? 0.5 : editDistance(q, b);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  // beyond about a third of the query's length the suggestion is noise
  return best !== undefined && bestD <= Math.max(2, Math.ceil(q.length / 3)) ? best : undefined;
}

/** "unknown model 'x' (did you mean 'y'?); known: a, b, c" as one line. */
export function unknownIdMessage(kind: string, id: string, known: readonly string[]): string {
  const guess = closestMatch(id, known);
  const hint = guess ? ` (did you mean '${guess}'?)` : '';
  return `unknown ${kind} '${id}'${hint}; known: ${known.join(', ')}`;
}
