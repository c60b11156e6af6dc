// A nested compressed stream: decompress it, bounded by the layer's inflate budget, the
// inflated/compressed ratio and time, and hand the inflated bytes to the sink of the inner file.
// Shared by every compression format (and zip's deflated members, git's zlib objects).
import type { Duplex } from 'node:stream';
import { performance } from 'node:perf_hooks';
import { waitForDrain } from '../drain.js';
import type { EntrySink } from '../tar-parser.js';
import { addNestedNote, RATIO_FLOOR, type ScanContext } from './context.js';

const COMPRESSED_SUFFIX = /\.(gz|tgz|zst|zstd|xz|txz|bz2|tbz2?)$/;

/**
 * The inner file's nested path: `a.tar.gz` → `a.tar`, `a.tgz` → `a.tar`, `blob` → `blob:gzip`;
 * a nested file keeps its directory (`d/a.gz` → `d/a`), a layer file only its name.
 */
export function innerNameOf(nestedPath: string | null, path: string | null, compression: string): string {
  const full = nestedPath ?? path ?? 'blob';
  const slash = full.lastIndexOf('/');
  const base = full.slice(slash + 1);
  const dir = nestedPath !== null && slash >= 0 ? full.slice(0, slash + 1) : '';
  const stripped = base.replace(/\.t(gz|xz|bz2?)$/, '.tar').replace(COMPRESSED_SUFFIX, '');
  return dir + (stripped === base ? `${base}:${compression}` : stripped);
}

/** Input bytes the decompressor has consumed, when it says (zlib streams do). */
function consumedBy(stream: Duplex): number | null {
  const value = (stream as { bytesWritten?: unknown }).bytesWritten;
  return typeof value === 'number' ? value : null;
}

/**
 * Decodes a whole, complete compressed input at once (zlib's *Sync functions). Throws on anything
 * else: damaged or truncated data, or more than `maxOutputLength` bytes of output.
 */
export type WholeDecoder = (input: Buffer, maxOutputLength: number) => Buffer;

/**
 * Compressed inputs up to this size are held and decoded at once when they end (most nested
 * streams are small: man pages, class files in jars). A stream object per small member costs more
 * than its bytes: its 1 MiB output buffer, a round trip to the thread pool per chunk, and the
 * garbage collections that the external memory of thousands of them brings on.
 */
export const WHOLE_INPUT_MAX = 256 * 1024;

/**
 * zlib's output buffer for a whole decode that expects `expected` bytes: one allocation when the
 * guess holds, instead of 16 KiB pieces and a concatenation (+1: a buffer filled exactly makes zlib
 * allocate another before it sees the end). Capped by what `inputLength` bytes can inflate to
 * (deflate's ceiling is about 1032x) and by RATIO_FLOOR, so a lying size costs nothing big.
 */
export function wholeChunkSize(expected: number | null, inputLength: number): number {
  if (expected === null) return 16 * 1024;
  return Math.max(64, Math.min(expected + 1, inputLength * 1032 + 64, RATIO_FLOOR));
}

/** The decompressor: a stream, or how to make one (made only when the input is not decoded whole). */
export type DecompressorSource = Duplex | (() => Duplex);

/**
 * Decompress a nested stream and hand the inflated bytes to the sink of the inner file.
 * With a `whole` decoder and a stream made on demand, a small input is held and decoded at once;
 * whenever that cannot give exactly what the stream gives (the input grows past WHOLE_INPUT_MAX,
 * the data is damaged, the output passes RATIO_FLOOR or the layer's inflate budget, the time bound
 * has passed), the held bytes are replayed through the stream, so notes and findings are the same.
 */
export class DecompressSink implements EntrySink {
  private done: Promise<void> | null = null;
  private stream: Duplex | null = null;
  private stopped = false;
  private compressedIn = 0;
  private inflatedOut = 0;
  private readonly started = performance.now();
  /** Copies of the input while it may still be decoded whole (null: streaming). */
  private held: Buffer[] | null = null;

  constructor(
    private readonly ctx: ScanContext,
    private readonly source: DecompressorSource,
    private readonly inner: EntrySink,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
    /** Names the format in notes, e.g. 'gzip'. */
    private readonly what = 'compressed',
    private readonly whole: WholeDecoder | null = null,
  ) {
    if (whole && typeof source === 'function') this.held = [];
    else this.startStream();
  }

  private startStream(): Duplex {
    const stream = typeof this.source === 'function' ? this.source() : this.source;
    this.stream = stream;
    const { ctx, inner } = this;
    // Failures surface through the loop below; a late one (a write racing a failure) must not crash.
    stream.on('error', () => undefined);
    this.done = (async () => {
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          this.inflatedOut += chunk.length;
          ctx.inflated += chunk.length;
          const bound = this.boundReason();
          if (bound) {
            this.stop('nested-bounded', bound);
            break;
          }
          const written = inner.write(chunk);
          if (written) await written;
        }
        // What was inflated up to a bound is still scanned to its end (a key before the bound is found).
        const ended = inner.end();
        if (ended) await ended;
      } catch (error) {
        // Not a valid compressed stream after all (or truncated): the raw bytes were still scanned.
        this.stop('nested-unreadable', `${this.what} data could not be decompressed (${error instanceof Error ? error.message : String(error)}); its raw bytes were scanned`);
        const ended = inner.end();
        if (ended) await ended.catch(() => undefined);
      }
    })();
    return stream;
  }

  private boundReason(): string | null {
    const limits = this.ctx.limits;
    if (this.ctx.inflated > limits.maxInflatedBytes) {
      return `bound reached: nested ${this.what} data in this layer inflates past ${limits.maxInflatedBytes} bytes (maxInflatedBytes); the rest of this member was not unpacked`;
    }
    const consumed = (this.stream && consumedBy(this.stream)) ?? this.compressedIn;
    if (this.inflatedOut > RATIO_FLOOR && this.inflatedOut > consumed * limits.maxRatio) {
      return `bound reached: ${this.what} data inflates more than ${limits.maxRatio}x (maxRatio; decompression bomb?); unpacking stopped after ${this.inflatedOut} bytes from ${consumed}`;
    }
    const seconds = (performance.now() - this.started) / 1000;
    if (seconds > limits.maxSeconds) {
      return `bound reached: unpacking this ${this.what} member took more than ${limits.maxSeconds} s (maxSeconds); stopped after ${this.inflatedOut} bytes`;
    }
    return null;
  }

  private stop(kind: 'nested-bounded' | 'nested-unreadable', message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    addNestedNote(this.ctx, kind, this.path, this.nestedPath, message);
    this.stream?.destroy();
  }

  /** Stop holding: the stream gets the held bytes (in order), then whatever follows. */
  private replayHeld(): void | Promise<void> {
    const held = this.held!;
    this.held = null;
    this.compressedIn = 0;
    this.startStream();
    if (held.length === 0) return;
    return this.write(held.length === 1 ? held[0]! : Buffer.concat(held));
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.stopped) return;
    if (this.held) {
      if (this.compressedIn + chunk.length <= WHOLE_INPUT_MAX) {
        this.compressedIn += chunk.length;
        // A copy: the writer may reuse the memory behind `chunk` once this returns.
        if (chunk.length > 0) this.held.push(Buffer.from(chunk));
        return;
      }
      const replayed = this.replayHeld();
      return replayed ? replayed.then(() => this.write(chunk)) : this.write(chunk);
    }
    const stream = this.stream!;
    this.compressedIn += chunk.length;
    if (stream.write(chunk)) return;
    return waitForDrain(stream, this.done!);
  }

  /** The whole held input decoded at once, or null when the stream must decide (see the class comment). */
  private decodeWhole(): Buffer | null {
    const held = this.held!;
    const input = held.length === 1 ? held[0]! : Buffer.concat(held);
    this.held = [input];
    let output: Buffer;
    try {
      output = this.whole!(input, RATIO_FLOOR);
    } catch {
      return null;
    }
    const limits = this.ctx.limits;
    if (this.ctx.inflated + output.length > limits.maxInflatedBytes) return null;
    if ((performance.now() - this.started) / 1000 > limits.maxSeconds) return null;
    return output;
  }

  end(): void | Promise<void> {
    if (this.held) {
      const output = this.decodeWhole();
      if (output === null) {
        const replayed = this.replayHeld();
        return replayed ? replayed.then(() => this.end()) : this.end();
      }
      this.held = null;
      this.inflatedOut = output.length;
      this.ctx.inflated += output.length;
      const written = output.length > 0 ? this.inner.write(output) : undefined;
      return written ? written.then(() => this.inner.end()) : this.inner.end();
    }
    if (!this.stopped) this.stream!.end();
    return this.done!;
  }
}
