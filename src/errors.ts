import { redact } from './redact.js';

/** Stable error codes: scripts and tests match on these, never on message text. */
export type ErrorCode =
  | 'usage'
  | 'config'
  | 'input-not-found'
  | 'input-unreadable'
  | 'input-corrupt'
  | 'output-unwritable'
  | 'digest-mismatch'
  | 'key-invalid'
  | 'key-public-only'
  | 'key-protected'
  | 'key-unusable'
  | 'render'
  | 'lint'
  | 'docker-unavailable'
  | 'capability-missing'
  | 'build-failed'
  | 'leak-found'
  | 'push-failed'
  | 'registry'
  | 'signature'
  | 'internal';

/**
 * The one error type eic-build throws on purpose. `message` says what went wrong and names the
 * input; `hint` says what the user can do about it. Both pass through the redactor, so no secret
 * can reach a terminal through an error.
 */
export class EicBuildError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EicBuildError';
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redact(options.hint);
  }
}

/** True for errors eic-build raised itself (as opposed to bugs). */
export function isEicBuildError(error: unknown): error is EicBuildError {
  return error instanceof EicBuildError;
}

/** One line (plus hint) for a person, redacted. */
export function formatError(error: unknown): string {
  if (isEicBuildError(error)) {
    return `error: ${error.message}${error.hint ? `\nhint: ${error.hint}` : ''}`;
  }
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `internal error: ${redact(text)}\nhint: this is a bug in eic-build; please report it with the command you ran.`;
}
