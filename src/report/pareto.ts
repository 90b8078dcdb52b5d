/**
 * Pareto front of points to minimise on every axis: a point is on the front when no other point is
 * at least as good on every axis and strictly better on one. Missing values (null, NaN) count as
 * +Infinity: a row without a price can still be on the front through latency or energy.
 */
export function paretoFront(points: readonly (readonly (number | null)[])[]): boolean[] {
  const v = points.map((p) => p.map((x) => (x === null || Number.isNaN(x) ? Infinity : x)));
  return v.map((a, i) => !v.some((b, j) => j !== i && dominates(b, a)));
}

/** True when `a` is no worse than `b` on every axis and better on at least one. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let k = 0; k < a.length; k++) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) better = true;
  }
  return better;
}

/** Ascending comparison where null/NaN sort last. */
export function compareNullable(a: number | null, b: number | null): number {
  const x = a === null || Number.isNaN(a) ? Infinity : a;
  const y = b === null || Number.isNaN(b) ? Infinity : b;
  return x === y ? 0 : x < y ? -1 : 1;
}
