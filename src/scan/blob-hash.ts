// Hash a byte range of an open file (a blob inside it): the blob's digest and size when its bytes
// are decompressed by a child process that reads them itself. Reads by position (pread), so the
// descriptor's own offset, which the range reader seeks, is never touched.
import { createHash } from 'node:crypto';
import { read } from 'node:fs';

/** Bytes per read: large reads keep the per-call cost small next to the hashing. */
const READ_BYTES = 1 << 20;

/** What hashing the range found. */
export interface RangeDigest {
  blobDigest: string;
  blobBytes: number;
}

function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}

/**
 * Hash `size` bytes at `offset` of `fd` (fewer when the file ends first: `blobBytes` says how many),
 * reading asynchronously; `stopped()` true ends it early (its result is then meaningless).
 */
export async function hashRange(fd: number, offset: number, size: number, stopped: () => boolean = () => false): Promise<RangeDigest> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(READ_BYTES, size)));
  let done = 0;
  while (done < size && !stopped()) {
    const bytesRead = await readAt(fd, buffer, Math.min(buffer.length, size - done), offset + done);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    done += bytesRead;
  }
  return { blobDigest: `sha256:${hash.digest('hex')}`, blobBytes: done };
}
