import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { sha256Digest } from '../../registry/digest.js';
import { placeReceived, writeCopyFile, type ReceivedFile } from './copy-blob.js';
import { findEntryNode, type SpecNodeRecord } from './copy-format.js';
import type { RecordingMirrorFiles } from './copy-source.js';
import { idFromManifestPath, parseV3Manifest, politeFilename, v2TarballPath, v3BlobPath, type V3Blob } from '../file-layout.js';
import type { EntryResult } from '../report.js';

/** One entry of a copy: its (maybe downgraded) result, and its spec node for the index when copied. */
export interface CopiedEntry {
  result: EntryResult;
  node?: SpecNodeRecord;
}

/** The verified document (spec manifest or `.spec.json.sig`) among what the verifier read: same path shape, same sha256. */
function verifiedDocument(files: RecordingMirrorFiles, entry: EntryResult, matches: (path: string) => boolean): { path: string; bytes: Buffer } | undefined {
  for (const [path, versions] of files.reads) {
    if (!matches(path)) continue;
    const bytes = versions.find((b) => sha256Digest(b) === entry.manifestDigest);
    if (bytes) return { path, bytes };
  }
  return undefined;
}

/** The received copy of `path` that hashes to `sha256` (and has `size`, when known). */
function receivedAs(files: RecordingMirrorFiles, path: string, sha256: string, size?: number): ReceivedFile | undefined {
  return files.received.get(path)?.find((r) => r.sha256 === sha256 && (size === undefined || size < 0 || r.size === size));
}

async function signedText(bytes: Buffer): Promise<string> {
  return (await openpgp.readCleartextMessage({ cleartextMessage: bytes.toString('utf8') })).getText();
}

/**
 * Put one verified layout-v3 entry into the copy: its clearsigned spec manifest byte for byte (so Spack
 * can check the signature itself) and the blobs it lists, from the bytes the verifier hashed.
 */
export async function placeV3Entry(files: RecordingMirrorFiles, entry: EntryResult, staging: string): Promise<CopiedEntry> {
  if (entry.kind !== 'verified') return { result: entry };
  const fail = (detail: string): CopiedEntry => ({ result: { ...entry, kind: 'checksum-mismatch', detail: `not copied: ${detail}` } });
  const manifest = verifiedDocument(files, entry, (p) => p.endsWith('.spec.manifest.json') && politeFilename(idFromManifestPath(p)) === politeFilename(entry.id));
  if (!manifest) return fail('the verified spec manifest was not kept');
  let blobs: V3Blob[];
  try {
    blobs = parseV3Manifest(await signedText(manifest.bytes), manifest.path);
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  let node: SpecNodeRecord | undefined;
  for (const blob of blobs) {
    const path = v3BlobPath(blob);
    const received = receivedAs(files, path, blob.checksum, blob.contentLength);
    if (!received) return fail(`${path} was not received with the signed checksum`);
    await placeReceived(staging, received, path);
    if (blob.mediaType.startsWith('application/vnd.spack.spec.')) {
      try {
        const raw = await readFile(received.file);
        // Ids from file names are as Spack's format_path wrote them (a version's `=` or `/` became `_`).
        const found = findEntryNode(
          JSON.parse((blob.compression === 'gzip' ? gunzipSync(raw) : raw).toString('utf8')),
          entry.id,
          (nodeId, id) => politeFilename(nodeId) === politeFilename(id),
        );
        if (found.kind !== 'ok') return { result: { ...entry, kind: 'bad-signature', detail: `not copied: ${found.detail}` } };
        node = found.node;
      } catch (error) {
        return fail(`the spec blob ${path} is unreadable: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  if (!node) return fail('the spec manifest lists no spec blob');
  await writeCopyFile(staging, manifest.path, manifest.bytes);
  return { result: { ...entry, detail: `${entry.detail}; copied` }, node };
}

/** Put one verified layout-v2 entry into the copy: its `.spec.json.sig` byte for byte and the `.spack` tarball the verifier hashed. */
export async function placeV2Entry(files: RecordingMirrorFiles, entry: EntryResult, staging: string): Promise<CopiedEntry> {
  if (entry.kind !== 'verified') return { result: entry };
  const fail = (detail: string): CopiedEntry => ({ result: { ...entry, kind: 'checksum-mismatch', detail: `not copied: ${detail}` } });
  const signed = verifiedDocument(files, entry, (p) => p.endsWith(`${entry.id}.spec.json.sig`));
  if (!signed) return fail('the verified .spec.json.sig was not kept');
  let spec: { binary_cache_checksum?: { hash?: string } };
  try {
    spec = JSON.parse(await signedText(signed.bytes)) as typeof spec;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  // The signature proves who wrote the spec, not which entry it is: another entry's signed spec at this
  // entry's path would otherwise be filed under this entry's name.
  const found = findEntryNode(spec, entry.id);
  if (found.kind !== 'ok') return { result: { ...entry, kind: 'bad-signature', detail: `not copied: ${found.detail}` } };
  const tarball = v2TarballPath(found.node);
  const sum = spec.binary_cache_checksum?.hash;
  const received = tarball && sum ? receivedAs(files, tarball, sum) : undefined;
  if (!tarball || !received) return fail(`the tarball ${tarball ?? '(unknown path)'} was not received with the signed checksum`);
  await placeReceived(staging, received, tarball);
  await writeCopyFile(staging, signed.path, signed.bytes);
  return { result: { ...entry, detail: `${entry.detail}; copied` } };
}
