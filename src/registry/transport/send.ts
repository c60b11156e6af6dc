// The bottom layer of the registry transport: one HTTP exchange, bounded in time. No auth, no retry.
import { EicBuildError } from '../../errors.js';
import { RegistryError } from '../registry-error.js';

/** What a streamed request body reports: every chunk read (`onRead`), and that the last one was (`onEnd`). */
export interface BodyProgress {
  onRead: () => void;
  onEnd: () => void;
}

/** One request as the layers above describe it. */
export interface SendOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Bytes, or a function making a fresh stream for each send (it reports its progress to the send's timer). */
  body?: Uint8Array | ((progress: BodyProgress) => ReadableStream<Uint8Array>);
  /**
   * Bound the request by inactivity instead of in all: for streamed response bodies (blobs of
   * many GiB), which the caller keeps alive with `touch` on every chunk and clears at the end.
   */
  idle?: IdleTimer;
}

/** Sends one request with the given Authorization header (or none). */
export type Send = (url: string, options: SendOptions, authorization: string | undefined) => Promise<Response>;

/** An abort signal that fires after `ms` without a `touch` (or after the `hold` given last). */
export interface IdleTimer {
  signal: AbortSignal;
  touch: () => void;
  /** Fire after `ms` from now instead (a phase with no progress to report). */
  hold: (ms: number) => void;
  clear: () => void;
}

/** The timers an IdleTimer runs on: the real ones, or a clock a test advances by hand. */
export interface TimerClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Node's timers, unref'd: an idle bound never keeps the process alive by itself. */
export const realClock: TimerClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export function idleTimer(ms: number, clock: TimerClock = realClock): IdleTimer {
  const controller = new AbortController();
  let timer: unknown;
  const hold = (limit: number) => {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(() => controller.abort(new Error(`no progress for ${limit} ms`)), limit);
  };
  const touch = () => hold(ms);
  touch();
  return { signal: controller.signal, touch, hold, clear: () => clock.clearTimeout(timer) };
}

/**
 * How long to wait for the answer once a streamed upload has been sent whole: the registry is
 * finalizing the blob then (an S3-backed one copies a multi-GiB blob, minutes with no byte moving).
 */
export function commitTimeoutMs(timeoutMs: number): number {
  return Math.max(10 * timeoutMs, 10 * 60_000);
}

/**
 * A Send bounded by `timeoutMs`: in all for plain requests, by inactivity for streamed bodies. A failed
 * connection (reset, refused) is a RegistryError marked retryable; a timeout is not.
 */
export function createSend(timeoutMs: number, plainHttp: boolean, clock: TimerClock = realClock): Send {
  return async (url, options, authorization) => {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (authorization) headers.authorization = authorization;
    // A streamed body may take long: it is bounded by inactivity (no chunk read), not in all; once it
    // is sent whole, the answer gets the longer commit bound.
    const ownIdle = typeof options.body === 'function' ? idleTimer(timeoutMs, clock) : undefined;
    const commitMs = commitTimeoutMs(timeoutMs);
    let sentWhole = false;
    const body =
      typeof options.body === 'function'
        ? options.body({
            onRead: ownIdle!.touch,
            onEnd: () => {
              sentWhole = true;
              ownIdle!.hold(commitMs);
            },
          })
        : options.body;
    const idle = ownIdle ?? options.idle;
    idle?.touch();
    try {
      return await fetch(url, {
        method: options.method ?? 'GET',
        headers,
        body,
        signal: idle?.signal ?? AbortSignal.timeout(timeoutMs),
        // window null + redirect error: otherwise undici clones the request, teeing the body stream, and the
        // unread branch of the tee buffers the whole blob (the fetch spec's httpNetworkOrCacheFetch).
        ...(ownIdle ? { duplex: 'half' as const, window: null, redirect: 'error' as const } : {}),
      });
    } catch (error) {
      // The body refused itself (a file that is not the blob it claims to be): that is the error.
      if (error instanceof Error && error.cause instanceof EicBuildError) throw error.cause;
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const stalled = !idle?.signal.aborted ? '' : sentWhole ? `: no answer ${commitMs / 1000} s after the whole upload was sent` : `: no progress for ${timeoutMs / 1000} s`;
      // A reset or refused connection is worth another try of an idempotent request; a timeout is not.
      const timedOut = idle?.signal.aborted || (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
      throw new RegistryError(`cannot reach ${url}${stalled || cause}`, {
        retryable: !timedOut,
        hint: plainHttp ? 'check that the registry runs at this host and port' : 'check the host and port; a plain-HTTP registry needs an oci+http:// mirror URL',
        cause: error,
      });
    } finally {
      ownIdle?.clear();
    }
  };
}

/** Drop a response body we do not read, so its connection can be reused. */
export async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // already consumed
  }
}
