import { EicBuildError } from '../errors.js';

/** One entry of a registry's error body (`{"errors":[{"code","message","detail"}]}`, distribution spec). */
export interface RegistryDiagnostic {
  code: string;
  message: string;
}

/**
 * A registry request that failed, as a value: the HTTP status (undefined when no answer came), whether
 * another try of an idempotent request may succeed (`retryable`), and what the registry said about it.
 * It is an EicBuildError with code 'registry', so the CLI maps it like every other input failure.
 */
export class RegistryError extends EicBuildError {
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly diagnostics: readonly RegistryDiagnostic[];

  constructor(message: string, options: { status?: number; retryable?: boolean; diagnostics?: RegistryDiagnostic[]; hint?: string; cause?: unknown } = {}) {
    super('registry', message, { ...(options.hint === undefined ? {} : { hint: options.hint }), ...(options.cause === undefined ? {} : { cause: options.cause }) });
    this.name = 'RegistryError';
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.diagnostics = options.diagnostics ?? [];
  }
}

/** Pure: the diagnostics of an error body; none when it is not the distribution spec's JSON. */
export function parseRegistryDiagnostics(body: string): RegistryDiagnostic[] {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors
      .filter((entry): entry is { code?: unknown; message?: unknown } => typeof entry === 'object' && entry !== null)
      .map((entry) => ({ code: typeof entry.code === 'string' ? entry.code : 'UNKNOWN', message: typeof entry.message === 'string' ? entry.message : '' }));
  } catch {
    return [];
  }
}

/** True for a failure worth another try of an idempotent request (a reset or refused connection). */
export function isRetryableFailure(error: unknown): boolean {
  return error instanceof RegistryError && error.retryable;
}
