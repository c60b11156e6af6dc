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

/** Decompress a nested stream and hand the inflated bytes to the sink of the inner file. */
export class DecompressSink implements EntrySink {
  private readonly done: Promise<void>;
  private stopped = false;
  private compressedIn = 0;
  private inflatedOut = 0;
  private readonly started = performance.now();

  constructor(
    private readonly ctx: ScanContext,
    private readonly stream: Duplex,
    inner: EntrySink,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
    /** Names the format in notes, e.g. 'gzip'. */
    private readonly what = 'compressed',
  ) {
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
  }

  private boundReason(): string | null {
    const limits = this.ctx.limits;
    if (this.ctx.inflated > limits.maxInflatedBytes) {
      return `bound reached: nested ${this.what} data in this layer inflates past ${limits.maxInflatedBytes} bytes (maxInflatedBytes); the rest of this member was not unpacked`;
    }
    const consumed = consumedBy(this.stream) ?? this.compressedIn;
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
    this.stream.destroy();
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.stopped) return;
    this.compressedIn += chunk.length;
    if (this.stream.write(chunk)) return;
    return waitForDrain(this.stream, this.done);
  }

  end(): Promise<void> {
    if (!this.stopped) this.stream.end();
    return this.done;
  }
}
