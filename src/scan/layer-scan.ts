// One pass over one layer blob: hash it, sniff and decompress it, walk its tar, and hand every
// file's bytes to the detectors. Runs on the main thread or in a worker; never holds the blob.
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { EicBuildError } from '../errors.js';
import type { DetectorKeys } from './detector-api.js';
import { decodeBlobLocation, DecodeError, decodeInThread, ToolStoppedEarly, type BlobLocation, type DecodedBlob, type DecoderName } from './blob-decode.js';
import type { Compression } from './compression.js';
import { createFileSink, DEFAULT_NESTED_LIMITS, type LayerFinding, type LayerNote, type NestedLimits, type ScanContext, type ScannerFactory } from './entry-sink.js';
import { expandHardLinkFindings, normalizeLinkTarget, type HardLink } from './hard-links.js';
import { LayerProvenanceCollector } from './provenance/layer-collector.js';
import type { LayerProvenance } from './provenance/types.js';
import { decodeToolsEnabled } from './scan-tuning.js';
import { isUnsafeEntryName } from './tar-header.js';
import { scanExtendedHeader } from './pax-scan.js';
import { TarFormatError, TarStreamParser, type ExtendedHeader, type TarEntry } from './tar-parser.js';

export { openBlobLocation, type BlobLocation } from './blob-decode.js';

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
  /** Public keys to match and identities to allow. */
  keys: DetectorKeys;
  /** Nested-archive bounds; unset fields keep their defaults. */
  limits?: Partial<NestedLimits>;
  /** Decompress in a helper thread (large blobs scanned from the main thread). */
  decodeOffThread?: boolean;
  /** Collect package records and key-holding files' digests for provenance triage (default true). */
  provenance?: boolean;
  /** Decompress blobs read from files with igzip / zstd when on PATH (default: EIC_BUILD_SCAN_DECODE_TOOLS, else yes). */
  decodeTools?: boolean;
}

/** Everything learnt from one layer. Plain data (crosses worker boundaries). */
export interface LayerScanResult {
  blobDigest: string;
  diffDigest: string | null;
  blobBytes: number;
  bytesScanned: number;
  compression: Compression;
  /** What decompressed the blob (an external tool or Node's own decoder). */
  decoder: DecoderName;
  entries: number;
  findings: LayerFinding[];
  notes: LayerNote[];
  /** Paths of non-directory entries (files, links, devices), for overwrite checks. */
  files: string[];
  /** Whiteouts: the paths they delete from lower layers. */
  whiteouts: string[];
  /** Directories made opaque (lower-layer contents hidden). */
  opaqueDirs: string[];
  /** Package records and digests for provenance triage; null when not collected. */
  provenance: LayerProvenance | null;
  /** Decoded a second time: files over 1 MiB held findings and triage needs their digests (set by deferred-digests.ts). */
  readTwice: boolean;
}

const SECRET_MOUNT_STUB = /(^|\/)run\/secrets\/[^/]+$/;
const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Read the rest of a decode, discarding it: the decode's own failure, or null if it ends well. */
async function decodeFailureAfter(iterator: AsyncIterator<Uint8Array>): Promise<unknown> {
  try {
    while (!(await iterator.next()).done);
    return null;
  } catch (error) {
    return error;
  }
}

/**
 * Decode a blob in a file, through igzip / zstd in a child process when they are there (its output
 * read here; the hashing in a helper thread when the job asks for one), else with Node's decoders
 * (in a helper thread when the job asks for one).
 */
function decodeLocation(location: BlobLocation, job: LayerScanJob): DecodedBlob {
  return decodeBlobLocation(location, { tools: job.decodeTools ?? decodeToolsEnabled(), offThread: job.decodeOffThread ?? false });
}

/**
 * Scan one layer blob read from `input`, handing each file to a scanner from `createScanner`.
 * Throws EicBuildError when the blob cannot be read whole.
 */
export async function scanLayerBlob(source: Readable | BlobLocation, job: LayerScanJob, createScanner: ScannerFactory): Promise<LayerScanResult> {
  let diffHash = job.check?.kind === 'diff' || job.alwaysDiff ? createHash('sha256') : null;
  const ctx: ScanContext = {
    createScanner,
    keys: job.keys,
    findings: [],
    notes: [],
    limits: { ...DEFAULT_NESTED_LIMITS, ...job.limits },
    inflated: 0,
    bytesScanned: 0,
  };
  const files: string[] = [];
  const whiteouts: string[] = [];
  const opaqueDirs: string[] = [];
  const hardLinks: HardLink[] = [];
  let compression: Compression = 'none';
  const isLocation = !('pipe' in source);
  // A blob in a file can be read again: large files are hashed only if they hold a finding that triage can use.
  const provenance = job.provenance === false ? null : new LayerProvenanceCollector(ctx.findings, isLocation);

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
    if (entry.type === 'hardlink') hardLinks.push({ path: name, target: normalizeLinkTarget(entry.linkname) });
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
    const sink = createFileSink(ctx, name, null, 0);
    // The file's data follows its 512-byte header block.
    return provenance ? provenance.tap(name, entry.size, sink, entry.headerOffset + 512) : sink;
  };

  const trailingSink = createFileSink(ctx, null, null, 0);
  const onExtendedHeader = (header: ExtendedHeader): void => {
    const scanned = scanExtendedHeader(header, ctx.keys, createScanner);
    ctx.findings.push(...scanned.findings);
    ctx.notes.push(...scanned.notes);
  };
  const parser = job.format === 'tar' ? new TarStreamParser(onEntry, trailingSink, onExtendedHeader) : null;
  const rawSink = parser ? null : createFileSink(ctx, null, null, 0);

  let stage = 'read';
  let decoded: DecodedBlob | undefined;
  let iterator: AsyncIterator<Uint8Array> | null = null;
  try {
    decoded = isLocation ? decodeLocation(source, job) : decodeInThread(source, { tools: job.decodeTools ?? decodeToolsEnabled() });
    iterator = decoded.chunks[Symbol.asyncIterator]();
    let next = await iterator.next();
    // Sniffed before the first chunk: an uncompressed blob is its own diff, no second hash.
    compression = await decoded.compression;
    if (compression === 'none') diffHash = null;
    stage = compression === 'none' ? 'read' : `${compression} decompression`;
    while (!next.done) {
      const chunk = next.value;
      diffHash?.update(chunk);
      ctx.bytesScanned += chunk.length;
      const written = parser ? parser.write(chunk) : rawSink!.write(chunk);
      if (written) await written;
      next = await iterator.next();
    }
    stage = 'tar';
    if (parser) {
      parser.end();
      const ended = trailingSink.end();
      if (ended) await ended;
    } else {
      const ended = rawSink!.end();
      if (ended) await ended;
    }
  } catch (caught) {
    let error = caught;
    // A corrupt compressed stream often decodes to garbage before its decoder notices: report that
    // root cause rather than the tar error, whichever decoder (and chunking) is in use.
    if (error instanceof TarFormatError && iterator && compression !== 'none') error = (await decodeFailureAfter(iterator)) ?? error;
    // Stop reading (and the decode thread or tool) before reporting.
    await iterator?.return?.().catch(() => undefined);
    if (error instanceof EicBuildError) throw error;
    // igzip ignored bytes after the gzip stream: Node's zlib decides about them (see tool-decode.ts).
    if (error instanceof ToolStoppedEarly && isLocation) return scanLayerBlob(source, { ...job, decodeTools: false }, createScanner);
    const reason = describeError(error);
    if (error instanceof TarFormatError) {
      throw new EicBuildError('input-corrupt', `${job.label}: the layer tar is corrupt: ${reason}`, {
        hint: 'the image is damaged or truncated; re-export it (docker save / skopeo copy) and scan again.',
      });
    }
    const code = error instanceof DecodeError ? error.code : (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
      throw new EicBuildError('input-unreadable', `${job.label}: cannot read the blob (${reason})`);
    }
    const what = error instanceof DecodeError && error.stage === 'decompress' ? reason : `${stage} failed: ${reason}`;
    throw new EicBuildError('input-corrupt', `${job.label}: ${what}`, {
      hint: 'the blob is damaged or truncated; re-export the image and scan again.',
    });
  }

  const { blobDigest, blobBytes } = decoded!.info();
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
  provenance?.addHardLinks(hardLinks);
  return {
    blobDigest,
    diffDigest,
    blobBytes,
    bytesScanned: ctx.bytesScanned,
    compression,
    decoder: decoded!.decoder(),
    entries: parser?.entries ?? 1,
    // A hard link shares its target's content: it keeps a key after the first name is deleted.
    findings: expandHardLinkFindings(ctx.findings, hardLinks),
    notes: ctx.notes,
    files,
    whiteouts,
    opaqueDirs,
    provenance: provenance?.result() ?? null,
    readTwice: false,
  };
}
