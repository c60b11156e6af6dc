// An image archive compressed as a whole (`docker save | gzip`, `| zstd`, `| xz`, `| bzip2`):
// sniffed from its first bytes, decompressed once, streaming, into a private temp directory that
// never outlives the process, and then read like any image archive (the tar index needs offsets).
// Bounded by ratio and size so that a hostile archive ends in an error, not a full disk.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Duplex, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EicBuildError } from '../errors.js';
import { releaseOnExit, removeOnExit } from '../exit-cleanup.js';
import { createDecompressor, sniffCompression, sniffNestedCompression } from './compression.js';
import { DEFAULT_NESTED_LIMITS } from './nested/context.js';
import { createProcessDecompressor, DecompressorMissing } from './nested/process-decompressor.js';

/** How a whole image archive is compressed. */
export type ArchiveCompression = 'gzip' | 'zstd' | 'xz' | 'bz2';

/** Bounds on the decompressed copy. */
export interface ArchiveBounds {
  /** Decompressed bytes at most. */
  maxBytes: number;
  /** Decompressed/compressed ratio at most (past 1 GiB): image layers are compressed already. */
  maxRatio: number;
  /** Memory xz may use to decode (`--memlimit-decompress`, as for nested .xz files); default 256 MiB. */
  maxHeldBytes?: number;
}

export const DEFAULT_ARCHIVE_BOUNDS: ArchiveBounds = { maxBytes: 256 * 1024 ** 3, maxRatio: 100, maxHeldBytes: DEFAULT_NESTED_LIMITS.maxHeldBytes };

const RATIO_FLOOR = 1024 ** 3;

/** The whole-file compression of `file`, or null for a plain tar (or anything else). */
export async function sniffArchiveCompression(file: string): Promise<ArchiveCompression | null> {
  const handle = await open(file, 'r');
  try {
    const head = Buffer.alloc(16);
    const { bytesRead } = await handle.read(head, 0, head.length, 0);
    const bytes = head.subarray(0, bytesRead);
    const compression = sniffCompression(bytes);
    if (compression !== 'none') return compression;
    return sniffNestedCompression(bytes);
  } finally {
    await handle.close();
  }
}

function decompressorFor(compression: ArchiveCompression, bounds: ArchiveBounds): Duplex {
  if (compression === 'xz') {
    const memlimit = bounds.maxHeldBytes ?? DEFAULT_NESTED_LIMITS.maxHeldBytes;
    return createProcessDecompressor({ command: 'xz', args: ['-d', '-c', '-q', '-T1', `--memlimit-decompress=${memlimit}`], packageName: 'xz-utils' });
  }
  if (compression === 'bz2') return createProcessDecompressor({ command: 'bzip2', args: ['-d', '-c', '-q'], packageName: 'bzip2' });
  return createDecompressor(compression)!;
}

class BoundExceeded extends Error {}

/** Counts bytes through, failing past the bounds. */
function boundedCounter(bounds: ArchiveBounds, compressedSize: number): Transform {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      total += chunk.length;
      if (total > bounds.maxBytes) return callback(new BoundExceeded(`it decompresses past ${bounds.maxBytes} bytes`));
      if (total > RATIO_FLOOR && total > compressedSize * bounds.maxRatio) {
        return callback(new BoundExceeded(`it decompresses more than ${bounds.maxRatio}x (decompression bomb?)`));
      }
      callback(null, chunk);
    },
  });
}

/**
 * Decompress `file` into a temp directory and return the plain archive's path and a remover.
 * Throws 'input-corrupt' naming the target when the stream is damaged or exceeds the bounds.
 */
export async function decompressArchive(
  target: string,
  file: string,
  compression: ArchiveCompression,
  bounds: ArchiveBounds = DEFAULT_ARCHIVE_BOUNDS,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-archive-'));
  removeOnExit(dir, 'decompressed-archive');
  const remove = async () => {
    await rm(dir, { recursive: true, force: true });
    releaseOnExit(dir);
  };
  const path = join(dir, 'image.tar');
  try {
    const input = createReadStream(file, { highWaterMark: 1 << 20 });
    const { size } = await stat(file);
    await pipeline(input, decompressorFor(compression, bounds), boundedCounter(bounds, size), createWriteStream(path, { mode: 0o600 }));
    return { path, remove };
  } catch (error) {
    await remove();
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof BoundExceeded) {
      throw new EicBuildError('input-corrupt', `${target}: the ${compression}-compressed image archive was not scanned: ${reason}`, {
        hint: 'decompress it yourself (after checking where it came from) and scan the plain archive.',
      });
    }
    if (error instanceof DecompressorMissing) {
      throw new EicBuildError('capability-missing', `${target}: the ${compression}-compressed image archive was not scanned: ${error.command} is not installed`, {
        hint: `install ${error.packageName} (apt-get install ${error.packageName}), or decompress the archive yourself and scan the plain archive.`,
      });
    }
    if (compression === 'xz' && /memory usage limit|of memory is required/i.test(reason)) {
      throw new EicBuildError(
        'input-corrupt',
        `${target}: the xz-compressed image archive was not scanned: decoding it needs more than ${bounds.maxHeldBytes ?? DEFAULT_NESTED_LIMITS.maxHeldBytes} bytes of memory (${reason})`,
        {
          hint: 'decompress it yourself (after checking where it came from) and scan the plain archive.',
        },
      );
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') {
      throw new EicBuildError('input-unreadable', `${target}: no space left to decompress the ${compression}-compressed image archive in ${tmpdir()}`, {
        hint: 'free disk space or point TMPDIR at a larger disk, or decompress it yourself and scan the plain archive.',
      });
    }
    throw new EicBuildError('input-corrupt', `${target}: the ${compression}-compressed image archive could not be decompressed (${reason})`, {
      hint: 'the archive is damaged or truncated; re-export it (docker save | gzip) and scan again.',
    });
  }
}
