/**
 * An error caused by the user's input (unknown id, malformed file, impossible configuration).
 * The CLI prints its message as one line, without a stack trace, and exits with status 2.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

/** Throws a UserError when `condition` is false. */
export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new UserError(message);
}
