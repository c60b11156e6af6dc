// The part of triage that rides along the layer walk: it keeps the few package database files a
// layer holds, and the md5/sha256 of every layer file that turned out to hold private key material.
//
// Cost: which files hold keys is known only after their last byte (the detectors decide at the
// end), so a file's chunks are kept, without copying, until it ends; they are hashed only when the
// file produced a finding, and dropped otherwise. A file larger than RETAIN_LIMIT (its size is in
// the tar header) is hashed as it streams instead, so no more than RETAIN_LIMIT plus one chunk is
// held per layer. This relies on the walker never reusing a chunk's memory after handing it to a
// sink (decoders and the tar parser hand out fresh buffers and views of them); were that to change,
// digests would mismatch and keys would stay findings (fails safe). Measured: npm run bench -- triage.
import { createHash, type Hash } from 'node:crypto';
import type { EntrySink } from '../tar-parser.js';
import { armoredBlockIdentity } from './block-identity.js';
import { recordFileKind } from './record-paths.js';
import type { CapturedRecord, FileDigests, LayerProvenance } from './types.js';

/**
 * Files up to this size are kept until their end (only hashed when they hold a finding). Measured on
 * the physics-dev image (2.5 GiB of files): with 8 MiB, the 0.8 GiB in larger files were hashed as they
 * streamed and triage cost ~9% CPU; with 64 MiB only one 112 MiB library is (npm run bench -- triage).
 */
export const RETAIN_LIMIT = 64 * 1024 * 1024;
/** Package database files larger than this are not kept (a note says so). */
export const RECORD_LIMIT = 64 * 1024 * 1024;

/** Collects one layer's package records and its key-holding files' digests. */
export class LayerProvenanceCollector {
  private readonly records: CapturedRecord[] = [];
  private readonly digests: FileDigests[] = [];
  private readonly skippedRecords: string[] = [];

  /** `findings` is the layer's finding list so far (files are walked one at a time, so a file's own are its tail). */
  constructor(private readonly findings: readonly KeyFinding[]) {}

  /** Wrap the sink of the layer file `path` (`size` bytes, from its tar header). */
  tap(path: string, size: number, sink: EntrySink): EntrySink {
    const kind = recordFileKind(path);
    if (kind && size > RECORD_LIMIT) this.skippedRecords.push(path);
    const keepRecord = kind !== null && size <= RECORD_LIMIT;
    const streaming = size > RETAIN_LIMIT;
    const md5: Hash | null = streaming ? createHash('md5') : null;
    const sha256: Hash | null = streaming ? createHash('sha256') : null;
    let kept: Uint8Array[] = [];
    const before = this.findings.length;
    const finish = (): void => {
      if (keepRecord) this.records.push({ path, kind, text: Buffer.concat(kept).toString('utf8') });
      if (this.findings.length > before) {
        if (md5 && sha256) this.digests.push({ path, size, md5: md5.digest('hex'), sha256: sha256.digest('hex') });
        else this.digests.push({ path, size, ...digestsOf(kept), ...blockIdsOf(this.findings.slice(before), kept) });
      }
      kept = [];
    };
    return {
      write(chunk) {
        if (md5 && sha256) {
          md5.update(chunk);
          sha256.update(chunk);
          if (keepRecord) kept.push(chunk);
        } else kept.push(chunk);
        return sink.write(chunk);
      },
      end() {
        const ended = sink.end();
        if (ended) return ended.then(finish);
        finish();
      },
    };
  }

  /** Add digests under hard-link names (a link shares its target's bytes). */
  addHardLinks(links: { path: string; target: string }[]): void {
    for (const link of links) {
      const target = this.digests.find((d) => d.path === link.target);
      if (target && link.path !== link.target) this.digests.push({ ...target, path: link.path });
    }
  }

  result(): LayerProvenance {
    return { records: this.records, digests: this.digests, skippedRecords: this.skippedRecords };
  }
}

/** The fields of a finding the collector reads. */
export interface KeyFinding {
  fingerprints: string[];
  keygrips: string[];
  offset: number | null;
  nestedPath: string | null;
}

function blockIdsOf(findings: readonly KeyFinding[], chunks: Uint8Array[]): { blockIds?: { offset: number; id: string }[] } {
  const anonymous = findings.filter((f) => f.fingerprints.length === 0 && f.keygrips.length === 0 && f.nestedPath === null && f.offset !== null);
  if (anonymous.length === 0) return {};
  const bytes = Buffer.concat(chunks);
  const blockIds = anonymous.flatMap((f) => {
    const id = armoredBlockIdentity(bytes, f.offset!);
    return id ? [{ offset: f.offset!, id }] : [];
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
