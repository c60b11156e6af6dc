// The part of triage that rides along the layer walk: it keeps the few package database files a
// layer holds, and the md5/sha256 of every layer file that turned out to hold private key material.
//
// Cost: which files hold keys is known only after their last byte (the detectors decide at the
// end), so a file's chunks are kept, without copying, until it ends; they are hashed only when the
// file produced a finding, and dropped otherwise. A file larger than RETAIN_LIMIT (its size is in
// the tar header) cannot be kept: when the layer can be read again (a file, `deferLarge`), its
// digests are taken by a second read only if it held a finding and triage can use them
// (deferred-digests.ts does that read, after every layer of the image was walked);
// else (a stream) it is hashed as it streams. Either way no more than RETAIN_LIMIT plus one chunk
// is held per layer. Hashing every large file as it streamed cost the scanning thread about a third
// of its time on real /usr content (md5 and sha256 of every library over 64 MiB, findings or not).
// This relies on the walker never reusing a chunk's memory after handing it to a sink (decoders and
// the tar parser hand out fresh buffers and views of them); were that to change, digests would
// mismatch and keys would stay findings (fails safe). Measured: npm run bench -- triage.
import { createHash, type Hash } from 'node:crypto';
import type { EntrySink } from '../tar-parser.js';
import { armoredBlockIdentity } from './block-identity.js';
import { recordFileKind } from './record-paths.js';
import type { CapturedRecord, DeferredDigest, FileDigests, LayerProvenance } from './types.js';

/**
 * Files up to this size are kept until their end (only hashed when they hold a finding). Measured on
 * the physics-dev image (2.5 GiB of files): with 8 MiB, the 0.8 GiB in larger files were hashed as they
 * streamed and triage cost ~9% CPU; with 64 MiB only one 112 MiB library is (npm run bench -- triage).
 */
export const RETAIN_LIMIT = 64 * 1024 * 1024;
/**
 * When the layer can be read again, files up to this size are kept, larger ones left to the second
 * read. Keeping every file up to 64 MiB until its end holds their 1 MiB chunks across young-generation
 * collections, so they are promoted and the old generation is marked and compacted every ~40 MB
 * of the layer: about 0.8 s of the scanning thread per 1.7 GB of real /usr content.
 */
export const REREADABLE_RETAIN_LIMIT = 1024 * 1024;
/** Package database files larger than this are not kept (a note says so). */
export const RECORD_LIMIT = 64 * 1024 * 1024;

/** Collects one layer's package records and its key-holding files' digests. */
export class LayerProvenanceCollector {
  private readonly records: CapturedRecord[] = [];
  private readonly digests: FileDigests[] = [];
  private readonly skippedRecords: string[] = [];

  private readonly deferred: DeferredDigest[] = [];

  /**
   * `findings` is the layer's finding list so far (files are walked one at a time, so a file's own
   * are its tail). `deferLarge`: the layer can be read again, so large files are not hashed as they stream.
   */
  constructor(
    private readonly findings: readonly KeyFinding[],
    private readonly deferLarge = false,
  ) {}

  /** Wrap the sink of the layer file `path` (`size` bytes, from its tar header; its bytes start at `dataOffset` of the tar). */
  tap(path: string, size: number, sink: EntrySink, dataOffset: number | null = null): EntrySink {
    const kind = recordFileKind(path);
    if (kind && size > RECORD_LIMIT) this.skippedRecords.push(path);
    const keepRecord = kind !== null && size <= RECORD_LIMIT;
    const deferred = this.deferLarge && dataOffset !== null && size > REREADABLE_RETAIN_LIMIT;
    const streaming = deferred || size > RETAIN_LIMIT;
    const md5: Hash | null = streaming && !deferred ? createHash('md5') : null;
    const sha256: Hash | null = streaming && !deferred ? createHash('sha256') : null;
    let kept: Uint8Array[] = [];
    const before = this.findings.length;
    const finish = (): void => {
      if (keepRecord) this.records.push({ path, kind, text: Buffer.concat(kept).toString('utf8') });
      if (this.findings.length > before) {
        if (deferred) this.deferred.push({ path, size, offset: dataOffset, blockOffsets: size <= RETAIN_LIMIT ? anonymousOffsets(this.findings.slice(before)) : [], links: [] });
        else if (md5 && sha256) this.digests.push({ path, size, md5: md5.digest('hex'), sha256: sha256.digest('hex') });
        else this.digests.push({ path, size, ...digestsOf(kept), ...blockIdsOf(this.findings.slice(before), kept) });
      }
      kept = [];
    };
    return {
      write(chunk) {
        if (md5 && sha256) {
          md5.update(chunk);
          sha256.update(chunk);
        }
        if (!streaming || keepRecord) kept.push(chunk);
        return sink.write(chunk);
      },
      end() {
        const ended = sink.end();
        if (ended) return ended.then(finish);
        finish();
      },
    };
  }

  /** Add digests under hard-link names (a link shares its target's bytes); a waiting file notes its links. */
  addHardLinks(links: { path: string; target: string }[]): void {
    for (const link of links) {
      if (link.path === link.target) continue;
      const target = this.digests.find((d) => d.path === link.target);
      if (target) this.digests.push({ ...target, path: link.path });
      this.deferred.find((d) => d.path === link.target)?.links.push(link.path);
    }
  }

  result(): LayerProvenance {
    return { records: this.records, digests: this.digests, deferred: this.deferred, skippedRecords: this.skippedRecords };
  }
}

/** The fields of a finding the collector reads. */
export interface KeyFinding {
  fingerprints: string[];
  keygrips: string[];
  offset: number | null;
  nestedPath: string | null;
}

/** Offsets of the findings that name no key (an armored block without a parsable key): they get a block id. */
function anonymousOffsets(findings: readonly KeyFinding[]): number[] {
  return findings.filter((f) => f.fingerprints.length === 0 && f.keygrips.length === 0 && f.nestedPath === null && f.offset !== null).map((f) => f.offset!);
}

function blockIdsOf(findings: readonly KeyFinding[], chunks: Uint8Array[]): { blockIds?: { offset: number; id: string }[] } {
  const offsets = anonymousOffsets(findings);
  return offsets.length === 0 ? {} : blockIdsAt(Buffer.concat(chunks), offsets);
}

/** BODY-SHA256 ids of the armored blocks at `offsets` of a file's bytes (none: no field). */
export function blockIdsAt(bytes: Uint8Array, offsets: readonly number[]): { blockIds?: { offset: number; id: string }[] } {
  const blockIds = offsets.flatMap((offset) => {
    const id = armoredBlockIdentity(bytes, offset);
    return id ? [{ offset, id }] : [];
  });
  return blockIds.length > 0 ? { blockIds } : {};
}

function digestsOf(chunks: Uint8Array[]): { md5: string; sha256: string } {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  for (const chunk of chunks) {
    md5.update(chunk);
    sha256.update(chunk);
  }
  return { md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}
