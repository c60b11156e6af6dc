/**
 * Transient registry failures. Registries answer 5xx under load and in races of their own (the
 * distribution registry returns 500 when a tag it is reading is being rewritten), and 429 when
 * throttling; one more try after a short wait usually succeeds. Pure.
 */

/** Statuses worth another try of an idempotent request. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/** Tries of an idempotent request in all (the first and the retries). */
export const MAX_TRIES = 4;

const BASE_DELAY_MS = 100;
const MAX_DELAY_MS = 5_000;
/** A registry's Retry-After is honoured up to this (a throttling registry asks for tens of seconds). */
const MAX_RETRY_AFTER_MS = 60_000;

/** True when an idempotent request whose connection failed (reset, refused) should be sent again after try number `tries`. */
export function shouldRetryFailure(tries: number): boolean {
  return tries < MAX_TRIES;
}

/** True when an idempotent request that got `status` should be sent again after try number `tries`. */
export function shouldRetry(status: number, tries: number): boolean {
  return TRANSIENT_STATUSES.has(status) && tries < MAX_TRIES;
}

/**
 * Wait before try `tries + 1`: the registry's Retry-After (seconds) when it gives one, else
 * exponential backoff with jitter (so concurrent clients do not retry in lock step) of at most
 * 5 s; a Retry-After is honoured up to 60 s. `random` is injectable for tests.
 */
export function retryDelayMs(tries: number, retryAfter: string | null, random: () => number = Math.random): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter.trim());
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, MAX_RETRY_AFTER_MS);
  const ceiling = BASE_DELAY_MS * 2 ** (tries - 1);
  return Math.min(Math.round(ceiling / 2 + random() * (ceiling / 2)), MAX_DELAY_MS);
}
