// Blob uploads: monolithic POST-then-PUT (or a cross-repository mount), a file streamed and hashed on the
// way, a transient failure retried with a new session (a half-failed one cannot be resumed reliably).
import { openVerifiedFileStream } from './blob-file.js';
import { RegistryError } from './registry-error.js';
import { TRANSIENT_STATUSES, retryDelayMs, shouldRetry } from './retry.js';
import { sleep, type RegistryRequest } from './transport/request.js';
import { discard } from './transport/send.js';

/** What a blob upload sends: bytes in memory, or a file streamed. */
export type BlobSource = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'file'; path: string; size: number };

/** What an upload needs of the client. */
export interface UploadContext {
  registry: string;
  baseUrl: string;
  request: RegistryRequest;
  hasBlob(repository: string, digest: string): Promise<boolean>;
}

/** The scope for pulling from a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The scope for pushing to a repository. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** Upload unless present; a transient failure starts a new session. */
export async function pushBlob(context: UploadContext, repository: string, digest: string, source: BlobSource, mountFrom: string | undefined): Promise<void> {
  if (await context.hasBlob(repository, digest)) return;
  for (let tries = 1; ; tries++) {
    const outcome = await uploadBlob(context, repository, source, digest, mountFrom);
    if (outcome.kind === 'done') return;
    if (!shouldRetry(outcome.status, tries)) {
      throw new RegistryError(`uploading blob ${digest} to ${context.registry}/${repository} failed: HTTP ${outcome.status}`, {
        status: outcome.status,
        retryable: true,
        hint: 'check the registry logs and its free space, then run again',
      });
    }
    await sleep(retryDelayMs(tries, outcome.retryAfter));
  }
}

type UploadOutcome = { kind: 'done' } | { kind: 'transient'; status: number; retryAfter: string | null };

/** One upload attempt: POST (or mount), then PUT the bytes (a file as a fresh stream each time). */
async function uploadBlob(context: UploadContext, repository: string, source: BlobSource, digest: string, mountFrom: string | undefined): Promise<UploadOutcome> {
  const { request } = context;
  const transient = [...TRANSIENT_STATUSES];
  const scope = mountFrom ? `${pushScope(repository)} ${pullScope(mountFrom)}` : pushScope(repository);
  const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
  const start = await request(`/v2/${repository}/blobs/uploads/${query}`, { method: 'POST', scope, headers: { 'content-length': '0' }, ok: transient });
  await discard(start);
  if (TRANSIENT_STATUSES.has(start.status)) return { kind: 'transient', status: start.status, retryAfter: start.headers.get('retry-after') };
  if (start.status === 201) return { kind: 'done' };
  const location = start.headers.get('location');
  if (!location) throw new RegistryError(`${context.registry} started an upload without a Location header`, { status: start.status });
  const session = new URL(location, context.baseUrl);
  const url = new URL(session);
  url.searchParams.set('digest', digest);
  let finish: Response;
  try {
    finish = await request(url.toString(), {
      method: 'PUT',
      headers: source.kind === 'file' ? { 'content-type': 'application/octet-stream', 'content-length': String(source.size) } : { 'content-type': 'application/octet-stream' },
      body: source.kind === 'file' ? (progress) => openVerifiedFileStream(source.path, digest, source.size, progress.onRead, progress.onEnd) : source.bytes,
      // The POST's scope: its token is cached, so a streamed body is never sent twice for a challenge.
      scope,
      ok: transient,
    });
  } catch (error) {
    await abandonUpload(request, session.toString(), scope);
    throw error;
  }
  await discard(finish);
  if (TRANSIENT_STATUSES.has(finish.status)) return { kind: 'transient', status: finish.status, retryAfter: finish.headers.get('retry-after') };
  return { kind: 'done' };
}

/** Best effort: tell the registry an upload session will not be finished (it would expire anyway). */
async function abandonUpload(request: RegistryRequest, session: string, scope: string): Promise<void> {
  try {
    await discard(await request(session, { method: 'DELETE', scope, ok: [400, 404, 405] }));
  } catch {
    // the registry cleans up stale sessions itself
  }
}
