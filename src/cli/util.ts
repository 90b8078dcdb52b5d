import { InvalidArgumentError } from 'commander';

/** Parses a number written plainly or in scientific notation (`71.4e6`). */
export function parseNumber(value: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a number`);
  return n;
}

export function parsePositive(value: string): number {
  const n = parseNumber(value);
  if (n <= 0) throw new InvalidArgumentError(`'${value}' must be greater than 0`);
  return n;
}

export function parseNonNegative(value: string): number {
  const n = parseNumber(value);
  if (n < 0) throw new InvalidArgumentError(`'${value}' must not be negative`);
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = parseNumber(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`'${value}' must be a whole number greater than 0`);
  return n;
}

export function parseNonNegativeInt(value: string): number {
  const n = parseNumber(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`'${value}' must be a whole number, 0 or more`);
  return n;
}

/** Returns a commander argument parser accepting only the listed choices. */
export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`'${value}' is not one of ${choices.join(', ')}`);
    }
    return value as T;
  };
}

/** Prints `data` as pretty JSON on stdout. */
export function printJson(data: unknown): void {
  process.stdout.write(JSON.stringify(data, null, 2) + '\n');
}

/** Formats rows as an aligned plain-text table (first row is the header). */
export function formatTable(rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const cells = rows.map((r) => r.map((c) => String(c)));
  const widths: number[] = [];
  for (const r of cells) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const lines = cells.map((r) =>
    r
      .map((c, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'l' ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd(),
  );
  if (lines.length > 1) lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

/** Formats seconds with a unit that keeps 3-4 significant digits (s, ms, us). */
export function formatSeconds(s: number): string {
  if (!Number.isFinite(s)) return String(s);
  const a = Math.abs(s);
  if (a >= 1) return `${s.toFixed(3)} s`;
  if (a >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(2)} us`;
}

/** Formats a quantity with an SI prefix: formatSi(3.2e12, 'B/s') = '3.20 TB/s'. */
export function formatSi(value: number, unit: string, digits = 3): string {
  if (!Number.isFinite(value)) return `${value} ${unit}`;
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toPrecision(digits)} ${prefixes[i]}${unit}`;
}
