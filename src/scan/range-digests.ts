// The md5 and sha256 of some files of a layer, by decoding the layer blob again: triage needs the
// digests of a file that held a finding, and a file too large to keep is known to need them only
// after its last byte has gone by. A second read is paid only by a layer with such a file, and it
// decodes the blob only as far as the last such file's end (the rest is hashed, not decoded).
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { EicBuildError } from '../errors.js';
import { decodeBlobLocation, ToolStoppedEarly, type BlobLocation } from './blob-decode.js';
import { hashRange } from './blob-hash.js';
import { blockIdsAt } from './provenance/layer-collector.js';
import type { DeferredDigest, FileDigests } from './provenance/types.js';

/** How the blob is decoded, and what the first read found it hashes to. */
export interface RereadOptions {
  label: string;
  tools: boolean;
  /** The blob digest of the first read: the second must see the same bytes. */
  blobDigest: string;
}

/**
 * Digests of each file's bytes (`offset`, `size` in the uncompressed tar). The whole blob is read
 * and hashed again: a blob changed between the two reads would give digests of other bytes, and a
 * match with a package record would then hide a key, so a change is an error.
 */
export async function digestLayerFiles(location: BlobLocation, files: readonly DeferredDigest[], options: RereadOptions): Promise<FileDigests[]> {
  try {
    return await digestOnce(location, files, options);
  } catch (error) {
    // igzip left bytes after the gzip stream unread: Node's decoder decides about them (as in the scan).
    if (error instanceof ToolStoppedEarly && options.tools) return digestLayerFiles(location, files, { ...options, tools: false });
    if (error instanceof EicBuildError) throw error;
    throw new EicBuildError(
      'input-unreadable',
      `${options.label}: cannot read the blob again for the digests of a file with a finding (${error instanceof Error ? error.message : String(error)})`,
      {
        hint: 'the image changed or went away while it was being scanned; scan it again when nothing writes to it.',
      },
    );
  }
}

/** The digest of the blob's raw bytes, read on their own. */
async function hashBlob(location: BlobLocation): Promise<string> {
  const handle = await open(location.file, 'r');
  try {
    const { blobDigest, blobBytes } = await hashRange(handle.fd, location.offset, location.size);
    return blobBytes === location.size ? blobDigest : `${blobDigest} (${blobBytes} of ${location.size} bytes)`;
  } finally {
    await handle.close();
  }
}

async function digestOnce(location: BlobLocation, files: readonly DeferredDigest[], options: RereadOptions): Promise<FileDigests[]> {
  const wanted = [...files].sort((a, b) => a.offset - b.offset);
  const lastEnd = Math.max(0, ...wanted.map((file) => file.offset + file.size));
  // Files whose findings need block ids keep their bytes (views of the decoded chunks) until the end.
  const hashes = wanted.map((file) => ({ md5: createHash('md5'), sha256: createHash('sha256'), parts: file.blockOffsets.length > 0 ? ([] as Uint8Array[]) : null }));
  const decoded = decodeBlobLocation(location, { tools: options.tools });
  let at = 0;
  let first = 0;
  let stoppedEarly = false;
  for await (const chunk of decoded.chunks) {
    const end = at + chunk.length;
    // Files wholly before this chunk are done; the ones it overlaps take their part of it.
    while (first < wanted.length && wanted[first]!.offset + wanted[first]!.size <= at) first++;
    for (let i = first; i < wanted.length && wanted[i]!.offset < end; i++) {
      const file = wanted[i]!;
      const part = chunk.subarray(Math.max(0, file.offset - at), Math.min(chunk.length, file.offset + file.size - at));
      hashes[i]!.md5.update(part);
      hashes[i]!.sha256.update(part);
      hashes[i]!.parts?.push(part);
    }
    at = end;
    // Past the last wanted byte: the same raw bytes decode to the same tar, so the rest of the blob
    // is only hashed (below), not decoded (leaving the loop stops the decoder).
    if (at >= lastEnd) {
      stoppedEarly = true;
      break;
    }
  }
  const blobDigest = stoppedEarly ? await hashBlob(location) : decoded.info().blobDigest;
  if (blobDigest !== options.blobDigest) {
    throw new EicBuildError('digest-mismatch', `${options.label}: the blob hashed to ${options.blobDigest} when scanned and to ${blobDigest} when read again`, {
      hint: 'the image changed while it was being scanned; do not trust it; scan it again when nothing writes to it.',
    });
  }
  return wanted.map((file, i) => {
    const { md5, sha256, parts } = hashes[i]!;
    return { path: file.path, size: file.size, md5: md5.digest('hex'), sha256: sha256.digest('hex'), ...(parts ? blockIdsAt(Buffer.concat(parts), file.blockOffsets) : {}) };
  });
}
