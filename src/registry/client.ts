import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EicBuildError } from '../errors.js';
import { readBodyLimited } from '../io/read-body.js';
import type { Credentials } from './auth.js';
import { fileSizeMismatch } from './blob-file.js';
import { digestLike, digestMismatch, digestVerifier, parseDigest, sha256Digest } from './digest.js';
import { createLimiter } from './pool.js';
import { DOCKER_HUB, isLoopbackHost } from './reference.js';
import { RegistryError } from './registry-error.js';
import { createAuthorizedSend } from './transport/authenticate.js';
import { createRequest, type RegistryRequest } from './transport/request.js';
import { createSend, discard, idleTimer, realClock, type TimerClock } from './transport/send.js';
import { pullScope, pushBlob, pushScope, type UploadContext } from './upload.js';

export { pullScope, pushScope } from './upload.js';

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
  /** The timers that bound streamed blobs by inactivity (default: real ones; tests pass a clock they advance). */
  clock?: TimerClock;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

/**
 * A Docker Registry HTTP API v2 / OCI distribution client. Handles the Bearer-token and Basic
 * challenges, bounds the requests in flight, and reuses connections (Node's fetch keeps them alive).
 * Every manifest and blob it returns has been checked against its digest.
 */
export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly clock: TimerClock;
  private readonly request: RegistryRequest;
  private referrersApi: boolean | undefined;

  constructor(options: RegistryClientOptions) {
    this.registry = options.registry;
    const insecure = options.insecure ?? isLoopbackHost(options.registry);
    // Docker Hub's API does not live at its reference name.
    const host = options.registry === DOCKER_HUB ? 'registry-1.docker.io' : options.registry;
    this.baseUrl = `${insecure ? 'http' : 'https'}://${host}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.clock = options.clock ?? realClock;
    // The transport in layers, innermost first: one bounded exchange, auth challenges, then limits and retries.
    const send = createSend(this.timeoutMs, insecure, this.clock);
    this.request = createRequest(
      this.baseUrl,
      createLimiter(options.concurrency ?? 16),
      createAuthorizedSend(send, options.credentials, this.timeoutMs, new URL(this.baseUrl).origin),
    );
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
      throw new RegistryError(`${this.registry}/${repository}:${reference} does not exist`, {
        status: 404,
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
    const idle = idleTimer(this.timeoutMs, this.clock);
    let response: Response;
    try {
      response = await this.request(`/v2/${repository}/blobs/${digest}`, { scope: pullScope(repository), idle });
    } catch (error) {
      idle.clear();
      throw error;
    }
    if (!response.body) {
      idle.clear();
      throw new RegistryError(`blob ${digest} in ${this.registry}/${repository} has no body`);
    }
    const what = `blob ${digest} in ${this.registry}/${repository}`;
    const verifier = digestVerifier(digest, what);
    const source = Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
    idle.touch();
    source.on('data', idle.touch);
    source.on('error', (error) => {
      idle.clear();
      const stalled = idle.signal.aborted
        ? new RegistryError(`${what}: the download made no progress for ${this.timeoutMs / 1000} s`, { hint: 'check the network and the registry, then run again', cause: error })
        : error;
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
    await pushBlob(this.uploadContext(), repository, digest, { kind: 'bytes', bytes }, options.mountFrom);
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
      throw new EicBuildError('input-not-found', `cannot read blob file ${path}: ${(error as Error).message}`, {
        hint: 'the image layout is incomplete: build again',
        cause: error,
      });
    }
    if (size !== options.size) throw fileSizeMismatch(path, `is ${size} bytes (blob ${options.digest})`, options.size);
    await pushBlob(this.uploadContext(), repository, options.digest, { kind: 'file', path, size }, options.mountFrom);
    return options.digest;
  }

  /**
   * Every tag of a repository, following `Link: <…>; rel="next"` pages on the registry's own origin only
   * (a Link elsewhere is refused: the next request would carry the registry's credentials). A page URL
   * seen twice, or more than `limits.pages` pages or `limits.tags` tags, is an error, not an endless loop.
   */
  async listTags(repository: string, pageSize = 1000, limits: TagListLimits = TAG_LIST_LIMITS): Promise<string[]> {
    const tags: string[] = [];
    const seen = new Set<string>();
    let url: string | undefined = new URL(`${this.baseUrl}/v2/${repository}/tags/list?n=${pageSize}`).href;
    while (url) {
      if (seen.has(url)) throw this.tagListError(repository, `the registry sent the page ${url} again (a Link loop)`);
      if (seen.size >= limits.pages) throw this.tagListError(repository, `more than ${limits.pages} pages`);
      seen.add(url);
      const response = await this.request(url, { scope: pullScope(repository), ok: [404] });
      if (response.status === 404) {
        await discard(response);
        throw new RegistryError(`repository ${this.registry}/${repository} does not exist`, {
          status: 404,
          hint: 'check the mirror URL (oci://HOST/REPOSITORY) and the credentials',
        });
      }
      const page = url;
      const bytes = await readBodyLimited(response, 64 * 1024 * 1024, 'tag list');
      let body: unknown;
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        throw new RegistryError(`the tag list page ${page} is not JSON`, { hint: 'the registry (or a proxy in front of it) answered something else; check the registry URL' });
      }
      const listed = (body as { tags?: unknown } | null)?.tags ?? [];
      if (!Array.isArray(listed) || !listed.every((tag) => typeof tag === 'string')) {
        throw new RegistryError(`the tag list page ${page} has no list of tag names`, {
          hint: 'the registry (or a proxy in front of it) answered something else; check the registry URL',
        });
      }
      if (tags.length + listed.length > limits.tags) throw this.tagListError(repository, `more than ${limits.tags} tags`);
      tags.push(...(listed as string[]));
      const link = nextLink(response.headers.get('link'));
      url = link === undefined ? undefined : sameOriginPage(link, url, this.registry, this.baseUrl);
    }
    return tags;
  }

  private tagListError(repository: string, why: string): RegistryError {
    return new RegistryError(`listing the tags of ${this.registry}/${repository}: ${why}`, {
      hint: 'check the registry (or the proxy in front of it): its tag list pagination is broken',
    });
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

  private uploadContext(): UploadContext {
    return { registry: this.registry, baseUrl: this.baseUrl, request: this.request, hasBlob: (repository, digest) => this.hasBlob(repository, digest) };
  }
}

/** Bounds of listTags against a registry that pages forever. */
export interface TagListLimits {
  pages: number;
  tags: number;
}

export const TAG_LIST_LIMITS: TagListLimits = { pages: 10_000, tags: 1_000_000 };

/**
 * Pure: the absolute URL of a next-page Link (resolved against the page it came from), refused unless
 * it is on the registry's origin: a request there would carry the registry's credentials.
 */
export function sameOriginPage(link: string, pageUrl: string, registry: string, baseUrl: string): string {
  let next: URL;
  try {
    next = new URL(link, pageUrl);
  } catch {
    throw new RegistryError(`${registry} sent a tag list Link that is not a URL: ${JSON.stringify(link.slice(0, 200))}`, {
      hint: 'check the registry (or the proxy in front of it)',
    });
  }
  const origin = new URL(baseUrl).origin;
  if (next.origin !== origin) {
    throw new RegistryError(`${registry} sent a tag list Link to another origin, ${next.origin} (not ${origin}); refused, so the registry's credentials are not sent there`, {
      hint: 'the registry or a proxy in front of it is misconfigured or hostile: check it before trusting its answers',
    });
  }
  return next.href;
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
