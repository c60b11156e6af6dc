import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EicBuildError } from '../errors.js';
import { readBodyLimited, readBodyPrefix } from '../io/read-body.js';
import { registerSecret } from '../redact.js';
import { basicAuthorization, parseWwwAuthenticate, type Credentials } from './auth.js';
import { fileSizeMismatch, openVerifiedFileStream } from './blob-file.js';
import { digestLike, digestMismatch, digestVerifier, parseDigest, sha256Digest } from './digest.js';
import { createLimiter, type Limiter } from './pool.js';
import { DOCKER_HUB, isLoopbackHost } from './reference.js';
import { TRANSIENT_STATUSES, retryDelayMs, shouldRetry, shouldRetryFailure } from './retry.js';

/** OCI and Docker manifest media types. */
export const MediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
} as const;

/** What getManifest asks for unless told otherwise. */
export const DEFAULT_MANIFEST_ACCEPT = [MediaTypes.ociManifest, MediaTypes.ociIndex, MediaTypes.dockerManifest, MediaTypes.dockerList];

/** A manifest as the registry served it; `digest` has been checked against `bytes`. */
export interface FetchedManifest {
  digest: string;
  mediaType: string;
  bytes: Buffer;
}

/** An OCI descriptor. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Result of getReferrers: how the list was found matters (an API answer is authoritative). */
export interface Referrers {
  kind: 'api' | 'tag-scheme' | 'none';
  manifests: Descriptor[];
}

/** Options for a RegistryClient. */
export interface RegistryClientOptions {
  /** `host[:port]` */
  registry: string;
  /** Plain HTTP. Defaults to true only for loopback hosts (as Docker does); HTTPS otherwise. */
  insecure?: boolean;
  credentials?: Credentials;
  /** Requests in flight at once (default 16). */
  concurrency?: number;
  /** Abort one request after this many milliseconds (default 60 s). */
  timeoutMs?: number;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** A bearer token answer is a few KiB; more is not a token service. */
const MAX_TOKEN_BYTES = 1024 * 1024;

/** Errors of send() for a connection that failed (reset, refused), as opposed to a timeout. */
const connectionFailures = new WeakSet<object>();

/** What a blob upload sends: bytes in memory, or a file streamed. */
type BlobSource = { kind: 'bytes'; bytes: Uint8Array } | { kind: 'file'; path: string; size: number };

/** What a streamed request body reports: every chunk read (`onRead`), and that the last one was (`onEnd`). */
interface BodyProgress {
  onRead: () => void;
  onEnd: () => void;
}

/**
 * How long to wait for the answer once a streamed upload has been sent whole: the registry is
 * finalizing the blob then (an S3-backed one copies a multi-GiB blob, minutes with no byte moving).
 */
function commitTimeoutMs(timeoutMs: number): number {
  return Math.max(10 * timeoutMs, 10 * 60_000);
}

interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Bytes, or a function making a fresh stream for each send (it reports its progress to the send's timer). */
  body?: Uint8Array | ((progress: BodyProgress) => ReadableStream<Uint8Array>);
  scope: string;
  /** Statuses the caller handles itself (others throw). */
  ok?: number[];
  /**
   * Send again on a transient status or a failed connection (default: for GET, HEAD and DELETE,
   * which are idempotent; never for POST or a blob upload's PUT).
   */
  retry?: boolean;
  /**
   * Bound the request by inactivity instead of in all: for streamed response bodies (blobs of
   * many GiB), which the caller keeps alive with `touch` on every chunk and clears at the end.
   */
  idle?: IdleTimer;
}

/**
 * A Docker Registry HTTP API v2 / OCI distribution client. Handles the Bearer-token and Basic
 * challenges, bounds the requests in flight, and reuses connections (Node's fetch keeps them alive).
 * Every manifest and blob it returns has been checked against its digest.
 */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly credentials: Credentials | undefined;
  private readonly limit: Limiter;
  private readonly timeoutMs: number;
  private basic: string | undefined;
  private readonly tokens = new Map<string, Promise<string>>();
  private referrersApi: boolean | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    const insecure = options.insecure ?? isLoopbackHost(options.registry);
    // Docker Hub's API does not live at its reference name.
    const host = options.registry === DOCKER_HUB ? 'registry-1.docker.io' : options.registry;
    this.baseUrl = `${insecure ? 'http' : 'https'}://${host}`;
    this.credentials = options.credentials;
    if (this.credentials) registerSecret(this.credentials.password);
    this.limit = createLimiter(options.concurrency ?? 16);
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Check that the registry speaks API v2 and that the credentials (if any) are accepted. */
  async ping(): Promise<void> {
    const response = await this.request('/v2/', { scope: '' });
    await discard(response);
  }

  /** Fetch a manifest by tag or digest; throws 'registry' when it does not exist. */
  async getManifest(repository: string, reference: string, accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const manifest = await this.findManifest(repository, reference, accept);
    if (!manifest) {
      throw new EicBuildError('registry', `${this.registry}/${repository}:${reference} does not exist`, {
        hint: 'check the repository and tag (eic-build buildcache verify lists what the mirror holds)',
      });
    }
    return manifest;
  }

  /** Fetch a manifest by tag or digest; undefined when the registry says it is unknown (404). */
  async findManifest(repository: string, reference: string, accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT): Promise<FetchedManifest | undefined> {
    const response = await this.request(`/v2/${repository}/manifests/${reference}`, {
      headers: { accept: accept.join(', ') },
      scope: pullScope(repository),
      ok: [404],
    });
    if (response.status === 404) {
      await discard(response);
      return undefined;
    }
    const bytes = await readBodyLimited(response, MAX_MANIFEST_BYTES, `manifest ${repository}:${reference}`);
    const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim() || mediaTypeOf(bytes);
    const what = `${this.registry}/${repository}:${reference}`;
    const headerDigest = response.headers.get('docker-content-digest');
    let digest: string;
    if (reference.includes(':')) {
      digest = reference;
      if (digestLike(reference, bytes) !== reference) throw digestMismatch(what, digestLike(reference, bytes), reference);
    } else if (headerDigest && !headerDigest.startsWith('sha256:')) {
      digest = headerDigest;
      if (digestLike(headerDigest, bytes) !== headerDigest) throw digestMismatch(what, digestLike(headerDigest, bytes), headerDigest);
    } else {
      digest = sha256Digest(bytes);
      if (headerDigest && headerDigest !== digest) throw digestMismatch(what, digest, headerDigest);
    }
    return { digest, mediaType, bytes };
  }

  /** Upload a manifest under a tag or its digest; returns its digest. */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    const response = await this.request(`/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      headers: { 'content-type': mediaType },
      body: bytes,
      scope: pushScope(repository),
      retry: true,
    });
    await discard(response);
    const served = response.headers.get('docker-content-digest');
    if (served && served !== digest) throw digestMismatch(`manifest ${repository}:${reference}`, served, digest);
    return digest;
  }

  /** Delete a manifest by digest (used by tests to simulate a stripped signature). */
  async deleteManifest(repository: string, digest: string): Promise<void> {
    const response = await this.request(`/v2/${repository}/manifests/${digest}`, { method: 'DELETE', scope: `repository:${repository}:delete`, ok: [404] });
    await discard(response);
  }

  /** Delete a blob (registries with deletion enabled; used by tests to simulate a lost blob). */
  async deleteBlob(repository: string, digest: string): Promise<void> {
    const response = await this.request(`/v2/${repository}/blobs/${digest}`, { method: 'DELETE', scope: `repository:${repository}:delete`, ok: [404] });
    await discard(response);
  }

  /** Size of a blob, or undefined when the registry does not have it. */
  async headBlob(repository: string, digest: string): Promise<{ size: number } | undefined> {
    const response = await this.request(`/v2/${repository}/blobs/${digest}`, { method: 'HEAD', scope: pullScope(repository), ok: [404] });
    await discard(response);
    if (response.status === 404) return undefined;
    return { size: Number(response.headers.get('content-length') ?? -1) };
  }

  /** True when the registry has the blob. */
  async hasBlob(repository: string, digest: string): Promise<boolean> {
    return (await this.headBlob(repository, digest)) !== undefined;
  }

  /** A blob as a stream that errors at its end if the bytes do not match `digest`. */
  async getBlob(repository: string, digest: string): Promise<Readable> {
    parseDigest(digest);
    // A layer of many GiB takes longer than any fixed timeout: the download ends only when it stalls.
    const idle = idleTimer(this.timeoutMs);
    let response: Response;
    try {
      response = await this.request(`/v2/${repository}/blobs/${digest}`, { scope: pullScope(repository), idle });
    } catch (error) {
      idle.clear();
      throw error;
    }
    if (!response.body) {
      idle.clear();
      throw new EicBuildError('registry', `blob ${digest} in ${this.registry}/${repository} has no body`);
    }
    const what = `blob ${digest} in ${this.registry}/${repository}`;
    const verifier = digestVerifier(digest, what);
    const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    idle.touch();
    source.on('data', idle.touch);
    source.on('error', (error) => {
      idle.clear();
      const stalled = idle.signal.aborted ? new EicBuildError('registry', `${what}: the download made no progress for ${this.timeoutMs / 1000} s`, { hint: 'check the network and the registry, then run again', cause: error }) : error;
      verifier.destroy(stalled);
    });
    source.on('end', idle.clear);
    // A consumer that stops early (a pipeline failing on a full disk) destroys the verifier: cancel
    // the response body too, or the connection stays open with nothing to end it.
    verifier.on('close', () => {
      idle.clear();
      source.destroy();
    });
    return source.pipe(verifier);
  }

  /** A small blob in memory (at most `maxBytes`), digest-verified. */
  async getBlobBytes(repository: string, digest: string, maxBytes = 16 * 1024 * 1024): Promise<Buffer> {
    parseDigest(digest);
    const response = await this.request(`/v2/${repository}/blobs/${digest}`, { scope: pullScope(repository) });
    const bytes = await readBodyLimited(response, maxBytes, `blob ${digest}`);
    const actual = digestLike(digest, bytes);
    if (actual !== digest) throw digestMismatch(`blob ${digest} in ${this.registry}/${repository}`, actual, digest);
    return bytes;
  }

  /**
   * Upload a blob in one request (POST then PUT), or mount it from `mountFrom` (another repository
   * of the same registry) when the registry allows. Does nothing if the blob is already there.
   */
  async putBlob(repository: string, bytes: Uint8Array, options: { digest?: string; mountFrom?: string } = {}): Promise<string> {
    // A given digest is checked; one computed here is right by construction (one hash pass, not two).
    const digest = options.digest ?? sha256Digest(bytes);
    const actual = options.digest ? digestLike(digest, bytes) : digest;
    if (actual !== digest) throw digestMismatch('blob to upload', actual, digest);
    await this.pushBlob(repository, digest, { kind: 'bytes', bytes }, options.mountFrom);
    return digest;
  }

  /**
   * Upload the file at `path` as the blob `digest` of `size` bytes, streamed (memory does not grow
   * with the blob), or mount it as putBlob does; nothing if the registry already has it. The bytes
   * are hashed as they stream and the upload is refused (digest-mismatch naming the file and both
   * digests, the session abandoned) unless they are the blob `digest` names: what was scanned is
   * what is pushed.
   */
  async putBlobFile(repository: string, path: string, options: { digest: string; size: number; mountFrom?: string }): Promise<string> {
    parseDigest(options.digest);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      throw new EicBuildError('input-not-found', `cannot read blob file ${path}: ${(error as Error).message}`, { hint: 'the image layout is incomplete: build again', cause: error });
    }
    if (size !== options.size) throw fileSizeMismatch(path, `is ${size} bytes (blob ${options.digest})`, options.size);
    await this.pushBlob(repository, options.digest, { kind: 'file', path, size }, options.mountFrom);
    return options.digest;
  }

  /** Upload unless present; a transient failure starts a new session (a half-failed one cannot be resumed reliably). */
  private async pushBlob(repository: string, digest: string, source: BlobSource, mountFrom: string | undefined): Promise<void> {
    if (await this.hasBlob(repository, digest)) return;
    for (let tries = 1; ; tries++) {
      const outcome = await this.uploadBlob(repository, source, digest, mountFrom);
      if (outcome.kind === 'done') return;
      if (!shouldRetry(outcome.status, tries)) {
        throw new EicBuildError('registry', `uploading blob ${digest} to ${this.registry}/${repository} failed: HTTP ${outcome.status}`, {
          hint: 'check the registry logs and its free space, then run again',
        });
      }
      await sleep(retryDelayMs(tries, outcome.retryAfter));
    }
  }

  /** One upload attempt: POST (or mount), then PUT the bytes (a file as a fresh stream each time). */
  private async uploadBlob(repository: string, source: BlobSource, digest: string, mountFrom: string | undefined): Promise<{ kind: 'done' } | { kind: 'transient'; status: number; retryAfter: string | null }> {
    const transient = [...TRANSIENT_STATUSES];
    const scope = mountFrom ? `${pushScope(repository)} ${pullScope(mountFrom)}` : pushScope(repository);
    const query = mountFrom ? `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(mountFrom)}` : '';
    const start = await this.request(`/v2/${repository}/blobs/uploads/${query}`, { method: 'POST', scope, headers: { 'content-length': '0' }, ok: transient });
    await discard(start);
    if (TRANSIENT_STATUSES.has(start.status)) return { kind: 'transient', status: start.status, retryAfter: start.headers.get('retry-after') };
    if (start.status === 201) return { kind: 'done' };
    const location = start.headers.get('location');
    if (!location) throw new EicBuildError('registry', `${this.registry} started an upload without a Location header`);
    const session = new URL(location, this.baseUrl);
    const url = new URL(session);
    url.searchParams.set('digest', digest);
    let finish: Response;
    try {
      finish = await this.request(url.toString(), {
        method: 'PUT',
        headers:
          source.kind === 'file'
            ? { 'content-type': 'application/octet-stream', 'content-length': String(source.size) }
            : { 'content-type': 'application/octet-stream' },
        body: source.kind === 'file' ? (progress) => openVerifiedFileStream(source.path, digest, source.size, progress.onRead, progress.onEnd) : source.bytes,
        // The POST's scope: its token is cached, so a streamed body is never sent twice for a challenge.
        scope,
        ok: transient,
      });
    } catch (error) {
      await this.abandonUpload(session.toString(), scope);
      throw error;
    }
    await discard(finish);
    if (TRANSIENT_STATUSES.has(finish.status)) return { kind: 'transient', status: finish.status, retryAfter: finish.headers.get('retry-after') };
    return { kind: 'done' };
  }

  /** Best effort: tell the registry an upload session will not be finished (it would expire anyway). */
  private async abandonUpload(session: string, scope: string): Promise<void> {
    try {
      await discard(await this.request(session, { method: 'DELETE', scope, ok: [400, 404, 405] }));
    } catch {
      // the registry cleans up stale sessions itself
    }
  }

  /** Every tag of a repository, following `Link: <…>; rel="next"` pages. */
  async listTags(repository: string, pageSize = 1000): Promise<string[]> {
    const tags: string[] = [];
    let path: string | undefined = `/v2/${repository}/tags/list?n=${pageSize}`;
    while (path) {
      const response = await this.request(path, { scope: pullScope(repository), ok: [404] });
      if (response.status === 404) {
        await discard(response);
        throw new EicBuildError('registry', `repository ${this.registry}/${repository} does not exist`, {
          hint: 'check the mirror URL (oci://HOST/REPOSITORY) and the credentials',
        });
      }
      const body = JSON.parse((await readBodyLimited(response, 64 * 1024 * 1024, 'tag list')).toString('utf8')) as { tags?: string[] | null };
      tags.push(...(body.tags ?? []));
      path = nextLink(response.headers.get('link'));
    }
    return tags;
  }

  /**
   * Manifests that refer to `digest` (OCI 1.1 referrers API); where the registry has no such API
   * (distribution 2.8), the OCI tag scheme `sha256-<hex>` index is read instead.
   */
  async getReferrers(repository: string, digest: string, artifactType?: string): Promise<Referrers> {
    const { algorithm, hex } = parseDigest(digest);
    if (this.referrersApi !== false) {
      const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
      const response = await this.request(`/v2/${repository}/referrers/${digest}${query}`, {
        headers: { accept: MediaTypes.ociIndex },
        scope: pullScope(repository),
        ok: [404, 400, 405],
      });
      const type = response.headers.get('content-type') ?? '';
      if (response.status === 200 && type.includes(MediaTypes.ociIndex)) {
        this.referrersApi = true;
        const index = JSON.parse((await readBodyLimited(response, MAX_MANIFEST_BYTES, 'referrers')).toString('utf8')) as { manifests?: Descriptor[] };
        const manifests = (index.manifests ?? []).filter((m) => !artifactType || m.artifactType === artifactType);
        return { kind: 'api', manifests };
      }
      await discard(response);
      // A 404 from a registry that has the API would carry the OCI index type; anything else means no API.
      this.referrersApi = false;
    }
    const fallback = await this.findManifest(repository, `${algorithm}-${hex}`, [MediaTypes.ociIndex]);
    if (!fallback) return { kind: 'none', manifests: [] };
    const index = JSON.parse(fallback.bytes.toString('utf8')) as { manifests?: Descriptor[] };
    return { kind: 'tag-scheme', manifests: (index.manifests ?? []).filter((m) => !artifactType || m.artifactType === artifactType) };
  }

  /** True when the registry answered the referrers API (known after the first getReferrers). */
  get hasReferrersApi(): boolean | undefined {
    return this.referrersApi;
  }

  private async request(pathOrUrl: string, options: RequestOptions): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}`;
    const method = options.method ?? 'GET';
    const retry = options.retry ?? ['GET', 'HEAD', 'DELETE'].includes(method);
    for (let tries = 1; ; tries++) {
      let response: Response;
      try {
        response = await this.limit(() => this.authorizedSend(url, options));
      } catch (error) {
        if (!retry || !connectionFailures.has(error as object) || !shouldRetryFailure(tries)) throw error;
        await sleep(retryDelayMs(tries, null));
        continue;
      }
      if (!retry || !shouldRetry(response.status, tries) || (options.ok ?? []).includes(response.status)) return this.checkStatus(url, method, response, options);
      await discard(response);
      await sleep(retryDelayMs(tries, response.headers.get('retry-after')));
    }
  }

  /** Send once, answering a Basic or Bearer challenge. */
  private async authorizedSend(url: string, options: RequestOptions): Promise<Response> {
    let response = await this.send(url, options, await this.authorization(options.scope));
    if (response.status !== 401) return response;
    const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate'));
    await discard(response);
    if (challenge?.kind === 'basic') {
      if (!this.credentials) throw this.authError(url, 'the registry asks for a user name and password');
      this.basic = basicAuthorization(this.credentials);
      response = await this.send(url, options, this.basic);
    } else if (challenge?.kind === 'bearer') {
      // Stored under the request's scope (replacing a stale token there), fetched for the challenge's scope.
      const token = this.fetchToken(challenge.realm, challenge.service, challenge.scope ?? options.scope);
      this.tokens.set(options.scope, token);
      response = await this.send(url, options, `Bearer ${await token}`);
    }
    if (response.status === 401) {
      await discard(response);
      throw this.authError(url, this.credentials ? 'the registry refused the credentials' : 'the registry needs credentials');
    }
    return response;
  }

  /** Throw for a status the caller does not handle. */
  private async checkStatus(url: string, method: string, response: Response, options: RequestOptions): Promise<Response> {
    if (response.status === 403) {
      await discard(response);
      throw this.authError(url, 'access denied (403)');
    }
    if (!response.ok && !(options.ok ?? []).includes(response.status)) {
      const body = (await readBodyPrefix(response, 4096)).slice(0, 300);
      throw new EicBuildError('registry', `${method} ${url} failed: HTTP ${response.status} ${body.trim()}`, {
        hint: 'check the mirror URL, the repository name and the registry logs',
      });
    }
    return response;
  }

  private async authorization(scope: string): Promise<string | undefined> {
    const token = this.tokens.get(scope);
    if (token) return `Bearer ${await token.catch(() => '')}`;
    return this.basic;
  }

  private async send(url: string, options: RequestOptions, authorization: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (authorization) headers.authorization = authorization;
    // A streamed body may take long: it is bounded by inactivity (no chunk read), not in all; once it
    // is sent whole, the answer gets the longer commit bound.
    const ownIdle = typeof options.body === 'function' ? idleTimer(this.timeoutMs) : undefined;
    const commitMs = commitTimeoutMs(this.timeoutMs);
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
        signal: idle?.signal ?? AbortSignal.timeout(this.timeoutMs),
        // window null + redirect error: otherwise undici clones the request, teeing the body stream, and the
        // unread branch of the tee buffers the whole blob (the fetch spec's httpNetworkOrCacheFetch).
        ...(ownIdle ? { duplex: 'half' as const, window: null, redirect: 'error' as const } : {}),
      });
    } catch (error) {
      // The body refused itself (a file that is not the blob it claims to be): that is the error.
      if (error instanceof Error && error.cause instanceof EicBuildError) throw error.cause;
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      const stalled = !idle?.signal.aborted
        ? ''
        : sentWhole
          ? `: no answer ${commitMs / 1000} s after the whole upload was sent`
          : `: no progress for ${this.timeoutMs / 1000} s`;
      const failure = new EicBuildError('registry', `cannot reach ${url}${stalled || cause}`, {
        hint: this.baseUrl.startsWith('https')
          ? 'check the host and port; a plain-HTTP registry needs an oci+http:// mirror URL'
          : 'check that the registry runs at this host and port',
        cause: error,
      });
      // A reset or refused connection is worth another try of an idempotent request; a timeout is not.
      const timedOut = idle?.signal.aborted || (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'));
      if (!timedOut) connectionFailures.add(failure);
      throw failure;
    } finally {
      ownIdle?.clear();
    }
  }

  private async fetchToken(realm: string, service: string | undefined, scope: string): Promise<string> {
    const url = new URL(realm);
    if (service) url.searchParams.set('service', service);
    for (const part of scope.split(' ').filter(Boolean)) url.searchParams.append('scope', part);
    const headers: Record<string, string> = {};
    if (this.credentials) headers.authorization = basicAuthorization(this.credentials);
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw new EicBuildError('registry', `cannot reach the token service ${url.origin}${url.pathname}`, { cause: error });
    }
    if (!response.ok) {
      await discard(response);
      throw this.authError(`${url.origin}${url.pathname}`, `the token service answered HTTP ${response.status}`);
    }
    let body: { token?: string; access_token?: string };
    try {
      body = JSON.parse((await readBodyLimited(response, MAX_TOKEN_BYTES, `the token answer of ${url.origin}${url.pathname}`)).toString('utf8')) as typeof body;
    } catch (error) {
      throw this.authError(`${url.origin}${url.pathname}`, `the token service answered no token: ${error instanceof Error ? error.message : String(error)}`);
    }
    const token = body.token ?? body.access_token;
    if (!token) throw this.authError(`${url.origin}${url.pathname}`, 'the token service returned no token');
    registerSecret(token);
    return token;
  }

  private authError(url: string, why: string): EicBuildError {
    return new EicBuildError('registry', `${url}: ${why}`, {
      hint: 'set the access_pair variables of the mirror (id_variable/secret_variable) or log in with docker login; check the repository permissions',
    });
  }
}

/** The scope for pulling from a repository. */
export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

/** The scope for pushing to a repository. */
export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/** The `rel="next"` target of a Link header, as a path. */
export function nextLink(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}

function mediaTypeOf(bytes: Buffer): string {
  try {
    return (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '';
  } catch {
    return '';
  }
}

/** An abort signal that fires after `ms` without a `touch` (or after the `hold` given last). */
interface IdleTimer {
  signal: AbortSignal;
  touch: () => void;
  /** Fire after `ms` from now instead (a phase with no progress to report). */
  hold: (ms: number) => void;
  clear: () => void;
}

function idleTimer(ms: number): IdleTimer {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const hold = (limit: number) => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new Error(`no progress for ${limit} ms`)), limit);
    timer.unref();
  };
  const touch = () => hold(ms);
  touch();
  return { signal: controller.signal, touch, hold, clear: () => clearTimeout(timer) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // already consumed
  }
}
