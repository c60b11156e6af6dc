// Compression is sniffed from magic bytes, never trusted from media types or file names.
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { Decompress } from 'fzstd';

/** What the first bytes of a blob say it is. */
export type Compression = 'gzip' | 'zstd' | 'none';

/** Bytes needed by sniffCompression to decide. */
export const SNIFF_BYTES = 4;

/**
 * Decide the compression from the first bytes (gzip 1f 8b; zstd 28 b5 2f fd, or a zstd skippable
 * frame 5? 2a 4d 18 — valid zstd that starts with metadata; anything else is plain).
 */
export function sniffCompression(head: Uint8Array): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head.length >= 4 && (head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd';
  return 'none';
}

/** Compressions read only inside layers (no layer or image archive uses them as a whole). */
export type NestedCompression = 'xz' | 'bz2';

const XZ_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];

/** xz (fd 37 7a 58 5a 00) or bzip2 (`BZh1`–`BZh9` then a block or end-of-stream magic), else null. */
export function sniffNestedCompression(head: Uint8Array): NestedCompression | null {
  if (head.length >= 6 && XZ_MAGIC.every((byte, i) => head[i] === byte)) return 'xz';
  if (head.length >= 10 && head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68 && head[3]! >= 0x31 && head[3]! <= 0x39) {
    const magic = Buffer.from(head.subarray(4, 10)).toString('hex');
    if (magic === '314159265359' || magic === '177245385090') return 'bz2';
  }
  return null;
}

/** Output chunk size of decompressors: large chunks keep per-chunk JS work small. */
export const CHUNK = 1 << 20;

type ZstdFactory = () => Transform;

/** zstd through Node's zlib when it has it (22.15+), else the pure-JS fzstd streaming decoder (Node 20). */
export function probeNativeZstd(): boolean {
  return typeof (zlib as unknown as { createZstdDecompress?: unknown }).createZstdDecompress === 'function';
}

const nativeZstd: ZstdFactory | null = probeNativeZstd()
  ? () => (zlib as unknown as { createZstdDecompress: (o: object) => Transform }).createZstdDecompress({ chunkSize: CHUNK })
  : null;

/** Input slice fed to fzstd at once, and the slice used once output runs far ahead of input. */
const FZSTD_SLICE = 16 * 1024;
const FZSTD_SMALL_SLICE = 256;
/** Output of one slice above which slices shrink (a ratio over 256x: a bomb or long zero runs). */
const FZSTD_SHRINK_AT = 4 * 1024 * 1024;

/**
 * A Transform that decompresses zstd with fzstd (push-based, frame by frame). fzstd decodes all it
 * is given at once, so one input chunk of a bomb would yield gigabytes before the reader could say
 * stop: input is fed in slices, and the next slice waits until the reader has taken the output.
 */
class FzstdTransform extends Transform {
  private readonly decoder: Decompress;
  private finished = false;
  private slice = FZSTD_SLICE;
  private sliceOutput = 0;
  private full = false;
  private pendingFeed: (() => void) | null = null;
  /** Compressed bytes handed to the decoder so far (as zlib streams report it; the bomb ratio uses it). */
  bytesWritten = 0;

  constructor() {
    super({ readableHighWaterMark: CHUNK, writableHighWaterMark: CHUNK });
    this.decoder = new Decompress((data, final) => {
      this.sliceOutput += data.length;
      if (data.length > 0 && !this.push(data)) this.full = true;
      if (final) this.finished = true;
    });
  }

  private feed(chunk: Uint8Array, at: number, callback: TransformCallback): void {
    try {
      while (at < chunk.length) {
        const piece = chunk.subarray(at, at + this.slice);
        at += piece.length;
        this.bytesWritten += piece.length;
        this.sliceOutput = 0;
        this.decoder.push(piece);
        this.slice = this.sliceOutput > FZSTD_SHRINK_AT ? FZSTD_SMALL_SLICE : Math.min(FZSTD_SLICE, this.slice * 2);
        if (this.full && at < chunk.length) {
          this.pendingFeed = () => this.feed(chunk, at, callback);
          return;
        }
      }
      callback();
    } catch (error) {
      callback(zstdError(error));
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.feed(chunk, 0, callback);
  }

  override _read(size: number): void {
    this.full = false;
    const pending = this.pendingFeed;
    this.pendingFeed = null;
    if (pending) pending();
    // Then, unless feeding parked again, Transform's own step: it resumes a write callback it
    // stashed while the readable side was full. Skipping it when a feed ran here stalled the
    // stream for good: a read made while that feed pushed found nothing to resume yet, and
    // left the stream marked as reading, so no later read came (seen 1 GB into a layer).
    if (!this.pendingFeed) super._read(size);
  }

  override _flush(callback: TransformCallback): void {
    try {
      if (!this.finished) this.decoder.push(new Uint8Array(0), true);
      callback();
    } catch (error) {
      callback(zstdError(error));
    }
  }
}

function zstdError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`zstd data is corrupt or truncated (${message})`);
}

/** A decompressing Transform for the given compression, or null for plain data. */
export function createDecompressor(compression: Compression): Transform | null {
  switch (compression) {
    case 'gzip':
      return zlib.createGunzip({ chunkSize: CHUNK, readableHighWaterMark: 4 * CHUNK, writableHighWaterMark: CHUNK } as zlib.ZlibOptions);
    case 'zstd':
      return nativeZstd ? nativeZstd() : new FzstdTransform();
    case 'none':
      return null;
  }
}
