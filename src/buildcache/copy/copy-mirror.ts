import { createHash } from 'node:crypto';
import type { RegistryClient } from '../../registry/client.js';
import { mapLimit } from '../../registry/pool.js';
import { measureCopy, UnsafeCopyPathError, writeCopyFile } from './copy-blob.js';
import { placeV2Entry, placeV3Entry, type CopiedEntry } from './copy-file.js';
import { V3MediaTypes, V3_INDEX_MANIFEST_PATH, V3_LAYOUT_JSON, formatIndexDatabase, formatV3Manifest, type SpecNodeRecord } from './copy-format.js';
import { copyOciEntry } from './copy-oci.js';
import type { CopyResult, VerifyCopyOutcome } from './copy-report.js';
import { recordingMirrorFiles, type OpenMirrorFile } from './copy-source.js';
import type { CopyTarget } from './copy-target.js';
import { v3BlobPath } from '../file-layout.js';
import type { MirrorFiles } from '../mirror-files.js';
import { verifyExitCode, type EntryResult, type VerifyReport } from '../report.js';
import { verifyFileMirror, type VerifyFileOptions } from '../verify/verify-file.js';
import { verifyOciMirror, type VerifyOciOptions } from '../verify/verify-oci.js';
import { countingEntries, type EntryProgress } from '../entry-progress.js';

/** Write `v3/layout.json` and an index naming `nodes` (Spack's database v8 in a content-addressed blob). */
async function writeV3Index(staging: string, nodes: readonly SpecNodeRecord[]): Promise<void> {
  const database = Buffer.from(formatIndexDatabase(nodes), 'utf8');
  const record = {
    contentLength: database.length,
    mediaType: V3MediaTypes.index,
    compression: 'none',
    checksumAlgorithm: 'sha256',
    checksum: createHash('sha256').update(database).digest('hex'),
  };
  await writeCopyFile(staging, v3BlobPath(record), database);
  await writeCopyFile(staging, V3_INDEX_MANIFEST_PATH, formatV3Manifest([record]));
  await writeCopyFile(staging, 'v3/layout.json', V3_LAYOUT_JSON);
}

/** Run one entry's copy; a file name that would land outside the copy fails that entry (not the run). */
async function placeSafely(entry: EntryResult, place: () => Promise<CopiedEntry>): Promise<CopiedEntry> {
  try {
    return await place();
  } catch (error) {
    if (error instanceof UnsafeCopyPathError) return { result: { ...entry, kind: 'bad-signature', detail: `not copied: ${error.message}` } };
    throw error;
  }
}

/** Publish the copy when every requested entry verified and was copied; else throw it away. */
async function finish(report: VerifyReport, copied: readonly CopiedEntry[], target: CopyTarget, layout: 'v2' | 'v3', signed: boolean): Promise<VerifyCopyOutcome> {
  const final: VerifyReport = { ...report, entries: copied.map((c) => c.result) };
  if (verifyExitCode(final) !== 0) {
    await target.discard();
    const present = final.entries.filter((e) => e.kind !== 'absent');
    const bad = present.filter((e) => e.kind !== 'verified').length;
    const reason = final.entries.length === 0 ? 'no entry was selected' : `${bad} of ${present.length} requested entries did not verify`;
    return { report: final, copy: { kind: 'not-written', dir: target.dir, reason } };
  }
  if (layout === 'v3')
    await writeV3Index(
      target.staging,
      copied.flatMap((c) => (c.node ? [c.node] : [])),
    );
  const { files, bytes } = await measureCopy(target.staging);
  await target.commit();
  // Lock entries this mirror does not hold ('absent') are in the report, not in the copy.
  const entries = final.entries.filter((e) => e.kind === 'verified').length;
  const copy: CopyResult = { kind: 'written', dir: target.dir, layout, signed, entries, files, bytes };
  return { report: final, copy };
}

/**
 * Verify an OCI buildcache and copy the verified entries into `target` as an unsigned layout-v3 mirror.
 * Each entry is read again by the manifest digest that verified, and its config and own tarball are
 * hashed while received, so the copy holds exactly the verified content even if a tag moves meanwhile.
 */
export async function verifyOciMirrorToCopy(client: RegistryClient, options: VerifyOciOptions, target: CopyTarget, onCopyProgress?: EntryProgress): Promise<VerifyCopyOutcome> {
  const report = await verifyOciMirror(client, options);
  // Nothing is downloaded when something failed already: the copy would be thrown away.
  if (verifyExitCode(report) !== 0)
    return finish(
      report,
      report.entries.map((result) => ({ result })),
      target,
      'v3',
      false,
    );
  const copied = await mapLimit(
    report.entries,
    options.concurrency ?? 32,
    countingEntries(report.entries.length, onCopyProgress, (entry: EntryResult) => placeSafely(entry, () => copyOciEntry(client, options.repository, entry, target))),
  );
  return finish(report, copied, target, 'v3', false);
}

/**
 * Verify a file-layout mirror (directory or HTTP) and copy the verified entries into `target` in the same
 * layout, from the very bytes the verifier hashed (one pass): clearsigned manifests (v3) or `.spec.json.sig`
 * files (v2) byte for byte, so Spack can check the signatures of the copy itself.
 */
export async function verifyFileMirrorToCopy(
  files: MirrorFiles,
  open: OpenMirrorFile,
  options: VerifyFileOptions,
  target: CopyTarget,
  onCopyProgress?: EntryProgress,
): Promise<VerifyCopyOutcome> {
  const recording = recordingMirrorFiles(files, open, target.incoming);
  const report = await verifyFileMirror(recording, options);
  const layout = report.layout === 'v2' ? 'v2' : 'v3';
  const place = layout === 'v3' ? placeV3Entry : placeV2Entry;
  const copied = await mapLimit(
    report.entries,
    8,
    countingEntries(report.entries.length, onCopyProgress, (entry: EntryResult) => placeSafely(entry, () => place(recording, entry, target.staging))),
  );
  return finish(report, copied, target, layout, true);
}
