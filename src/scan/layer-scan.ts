// One pass over one layer blob: hash it, sniff and decompress it, walk its tar, and hand every
// file's bytes to the detectors. Runs on the main thread or in a worker; never holds the blob.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EicBuildError } from '../errors.js';
import type { KeyIdentity } from './detector-api.js';
import { CHUNK, createDecompressor, SNIFF_BYTES, sniffCompression, type Compression } from './compression.js';
import { createFileSink, DEFAULT_NESTED_LIMITS, type LayerFinding, type LayerNote, type NestedLimits, type ScanContext, type ScannerFactory } from './entry-sink.js';
import { isUnsafeEntryName } from './tar-header.js';
import { TarFormatError, TarStreamParser, type TarEntry } from './tar-parser.js';

/** Where a blob's bytes are inside a file (a plain blob file, or a member of an outer tar). */
export interface BlobLocation {
  file: string;
  offset: number;
  size: number;
}

/** What a layer blob must hash to: the blob itself (manifest digest) or its uncompressed tar (diff id). */
export interface DigestCheck {
  kind: 'blob' | 'diff';
  digest: string;
}

/** What to scan and how to name it in messages. Plain data, so it can cross to a worker. */
export interface LayerScanJob {
  /** For messages: e.g. `layer 2 sha256:ab… (blobs/sha256/ab…)`. */
  label: string;
  /** 'tar' for filesystem layers; 'raw' for blobs that are documents (attestations). */
  format: 'tar' | 'raw';
  check: DigestCheck | null;
  /** Also hash the uncompressed tar when the blob is compressed (stream sources check later). */
  alwaysDiff?: boolean;
  expectedSize: number | null;
  knownKeys: KeyIdentity[];
  limits?: NestedLimits;
}

/** Everything learnt from one layer. Plain data (crosses worker boundaries). */
export interface LayerScanResult {
  blobDigest: string;
  diffDigest: string | null;
  blobBytes: number;
  bytesScanned: number;
  compression: Compression;
  entries: number;
  findings: LayerFinding[];
  notes: LayerNote[];
  /** Paths of non-directory entries (files, links, devices), for overwrite checks. */
  files: string[];
  /** Whiteouts: the paths they delete from lower layers. */
  whiteouts: string[];
  /** Directories made opaque (lower-layer contents hidden). */
  opaqueDirs: string[];
}

const SECRET_MOUNT_STUB = /(^|\/)run\/secrets\/[^/]+$/;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Open a blob location as a stream with large reads. */
export function openBlobLocation(location: BlobLocation): Readable {
  // createReadStream cannot express an empty range; an empty blob is an empty stream.
  if (location.size === 0) return Readable.from([]);
  return createReadStream(location.file, { start: location.offset, end: location.offset + location.size - 1, highWaterMark: CHUNK });
}

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/**
 * Scan one layer blob read from `input`, handing each file to a scanner from `createScanner`.
 * Throws EicBuildError when the blob cannot be read whole.
 */
export async function scanLayerBlob(input: Readable, job: LayerScanJob, createScanner: ScannerFactory): Promise<LayerScanResult> {
  const blobHash = createHash('sha256');
  let diffHash = job.check?.kind === 'diff' || job.alwaysDiff ? createHash('sha256') : null;
  const ctx: ScanContext = {
    createScanner,
    knownKeys: job.knownKeys,
    findings: [],
    notes: [],
    limits: job.limits ?? DEFAULT_NESTED_LIMITS,
    inflated: 0,
    bytesScanned: 0,
  };
  const files: string[] = [];
  const whiteouts: string[] = [];
  const opaqueDirs: string[] = [];
  let blobBytes = 0;
  let compression: Compression = 'none';

  const onEntry = (entry: TarEntry) => {
    const name = entry.name;
    if (isUnsafeEntryName(name)) {
      ctx.notes.push({
        kind: 'unsafe-name',
        detector: null,
        path: name,
        nestedPath: null,
        message: `entry name '${name}' is absolute or contains '..'; it was scanned, never followed`,
      });
    }
    const slash = name.lastIndexOf('/');
    const dir = slash < 0 ? '' : name.slice(0, slash);
    const base = slash < 0 ? name : name.slice(slash + 1);
    if (base === OPAQUE) {
      opaqueDirs.push(dir);
      return null;
    }
    if (base.startsWith(WHITEOUT_PREFIX)) {
      whiteouts.push(dir ? `${dir}/${base.slice(WHITEOUT_PREFIX.length)}` : base.slice(WHITEOUT_PREFIX.length));
      return null;
    }
    if (entry.type !== 'directory') files.push(name);
    if (entry.type !== 'file') return null;
    if (entry.size === 0) {
      if (SECRET_MOUNT_STUB.test(name)) {
        ctx.notes.push({
          kind: 'secret-mount-stub',
          detector: null,
          path: name,
          nestedPath: null,
          message: 'empty file under run/secrets/: the mount point BuildKit leaves for RUN --mount=type=secret (no content)',
        });
      }
      return null;
    }
    return createFileSink(ctx, name, null, 0);
  };

  const trailingSink = createFileSink(ctx, null, null, 0);
  const parser = job.format === 'tar' ? new TarStreamParser(onEntry, trailingSink) : null;
  const rawSink = parser ? null : createFileSink(ctx, null, null, 0);

  // The hash of the blob is taken in the same pass as decompression.
  async function* hashed(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      blobHash.update(chunk);
      blobBytes += chunk.length;
      yield chunk;
    }
  }

  async function consume(source: AsyncIterable<Uint8Array>): Promise<void> {
    for await (const chunk of source) {
      diffHash?.update(chunk);
      ctx.bytesScanned += chunk.length;
      const written = parser ? parser.write(chunk) : rawSink!.write(chunk);
      if (written) await written;
    }
  }

  let stage = 'read';
  try {
    const iterator = hashed(input)[Symbol.asyncIterator]();
    // Sniff compression from the first bytes, then put them back in front of the stream.
    const head: Buffer[] = [];
    let headLength = 0;
    let finished = false;
    while (headLength < SNIFF_BYTES) {
      const next = await iterator.next();
      if (next.done) {
        finished = true;
        break;
      }
      head.push(next.value);
      headLength += next.value.length;
    }
    compression = sniffCompression(Buffer.concat(head));
    // An uncompressed blob is its own diff: no second hash.
    if (compression === 'none') diffHash = null;
    async function* replay(): AsyncGenerator<Buffer> {
      yield* head;
      if (finished) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    }
    const decompressor = createDecompressor(compression);
    stage = compression === 'none' ? 'read' : `${compression} decompression`;
    if (decompressor) await pipeline(replay, decompressor, consume);
    else await pipeline(replay, consume);
    stage = 'tar';
    if (parser) {
      parser.end();
      const ended = trailingSink.end();
      if (ended) await ended;
    } else {
      const ended = rawSink!.end();
      if (ended) await ended;
    }
  } catch (error) {
    if (error instanceof EicBuildError) throw error;
    const reason = describeError(error);
    if (error instanceof TarFormatError) {
      throw new EicBuildError('input-corrupt', `${job.label}: the layer tar is corrupt: ${reason}`, {
        hint: 'the image is damaged or truncated; re-export it (docker save / skopeo copy) and scan again.',
      });
    }
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new EicBuildError('input-unreadable', `${job.label}: cannot read the blob (${reason})`);
    }
    throw new EicBuildError('input-corrupt', `${job.label}: ${stage} failed: ${reason}`, {
      hint: 'the blob is damaged or truncated; re-export the image and scan again.',
    });
  }

  const blobDigest = `sha256:${blobHash.digest('hex')}`;
  const diffDigest = diffHash ? `sha256:${diffHash.digest('hex')}` : null;
  if (job.expectedSize !== null && job.expectedSize !== blobBytes) {
    throw new EicBuildError('input-corrupt', `${job.label}: blob has ${blobBytes} bytes, the manifest says ${job.expectedSize}`, {
      hint: 'the image is damaged or truncated; re-export it and scan again.',
    });
  }
  if (job.check) {
    const actual = job.check.kind === 'blob' ? blobDigest : (diffDigest ?? blobDigest);
    if (actual !== job.check.digest) {
      throw new EicBuildError(
        'digest-mismatch',
        `${job.label}: content hashes to ${actual}, but the ${job.check.kind === 'blob' ? 'manifest' : 'image config (rootfs.diff_ids)'} says ${job.check.digest}`,
        { hint: 'the image was modified or damaged after it was written; do not trust it; re-export it and scan again.' },
      );
    }
  }
  if (!parser) {
    ctx.notes.push({ kind: 'raw-blob', detector: null, path: null, nestedPath: null, message: `${job.label}: not a filesystem layer; scanned as one document` });
  }
  return {
    blobDigest,
    diffDigest,
    blobBytes,
    bytesScanned: ctx.bytesScanned,
    compression,
    entries: parser?.entries ?? 1,
    findings: ctx.findings,
    notes: ctx.notes,
    files,
    whiteouts,
    opaqueDirs,
  };
}
