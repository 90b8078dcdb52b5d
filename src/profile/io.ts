import { readFileSync, writeFileSync, renameSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { ProfileSchema, type Profile } from './schema.js';

/** One line naming the first problems zod found, e.g. "ceilings.memoryBytesPerS: expected number". */
export function describeZodError(error: z.ZodError, max = 3): string {
  const parts = error.issues.slice(0, max).map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
  const more = error.issues.length > max ? ` (+${error.issues.length - max} more)` : '';
  return parts.join('; ') + more;
}

/** Validates a parsed profile object; throws a one-line UserError naming `origin` when invalid. */
export function parseProfile(data: unknown, origin = 'profile'): Profile {
  const result = ProfileSchema.safeParse(data);
  if (!result.success) throw new UserError(`${origin} is not a valid roofcast profile: ${describeZodError(result.error)}`);
  return result.data;
}

/** Reads and validates a profile file. */
export function readProfile(path: string): Profile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read profile ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UserError(`profile ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseProfile(data, `profile ${path}`);
}

/**
 * Validates and writes a profile atomically: the JSON goes to a temporary file in the same folder,
 * which is then renamed over the target, so an interrupted run never leaves a half-written file.
 */
export function writeProfile(path: string, profile: Profile): void {
  const valid = parseProfile(profile, 'the profile to write');
  mkdirSync(dirname(path) || '.', { recursive: true });
  const tmp = join(dirname(path) || '.', `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(tmp, JSON.stringify(valid, null, 2) + '\n');
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
