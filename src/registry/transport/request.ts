// The retry layer of the registry transport: bounds the requests in flight, sends idempotent ones again
// after transient answers or failed connections, and turns unhandled statuses into RegistryErrors.
import { readBodyPrefix } from '../../io/read-body.js';
import type { Limiter } from '../pool.js';
import { parseRegistryDiagnostics, RegistryError, isRetryableFailure } from '../registry-error.js';
import { TRANSIENT_STATUSES, retryDelayMs, shouldRetry, shouldRetryFailure } from '../retry.js';
import { authError, type AuthorizedSend } from './authenticate.js';
import { discard, type SendOptions } from './send.js';

export interface RequestOptions extends SendOptions {
  scope: string;
  /** Statuses the caller handles itself (others throw). */
  ok?: number[];
  /**
   * Send again on a transient status or a failed connection (default: for GET, HEAD and DELETE,
   * which are idempotent; never for POST or a blob upload's PUT).
   */
  retry?: boolean;
}

/** A request to a path of the registry (or a full URL, e.g. an upload session). */
export type RegistryRequest = (pathOrUrl: string, options: RequestOptions) => Promise<Response>;

export function createRequest(baseUrl: string, limit: Limiter, authorizedSend: AuthorizedSend): RegistryRequest {
  return async (pathOrUrl, options) => {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${baseUrl}${pathOrUrl}`;
    const method = options.method ?? 'GET';
    const retry = options.retry ?? ['GET', 'HEAD', 'DELETE'].includes(method);
    for (let tries = 1; ; tries++) {
      let response: Response;
      try {
        response = await limit(() => authorizedSend(url, options));
      } catch (error) {
        if (!retry || !isRetryableFailure(error) || !shouldRetryFailure(tries)) throw error;
        await sleep(retryDelayMs(tries, null));
        continue;
      }
      if (!retry || !shouldRetry(response.status, tries) || (options.ok ?? []).includes(response.status)) return checkStatus(url, method, response, options.ok ?? []);
      await discard(response);
      await sleep(retryDelayMs(tries, response.headers.get('retry-after')));
    }
  };
}

/** Throw for a status the caller does not handle, with the registry's own diagnostics. */
async function checkStatus(url: string, method: string, response: Response, ok: number[]): Promise<Response> {
  if (response.status === 403) {
    await discard(response);
    throw authError(url, 'access denied (403)', 403);
  }
  if (!response.ok && !ok.includes(response.status)) {
    const body = await readBodyPrefix(response, 4096);
    throw new RegistryError(`${method} ${url} failed: HTTP ${response.status} ${body.slice(0, 300).trim()}`, {
      status: response.status,
      retryable: TRANSIENT_STATUSES.has(response.status),
      diagnostics: parseRegistryDiagnostics(body),
      hint: 'check the mirror URL, the repository name and the registry logs',
    });
  }
  return response;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
