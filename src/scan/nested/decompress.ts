// A nested compressed stream: decompress it, bounded, and hand the inflated bytes to the sink of
// the inner file. Shared by every compression format (and zip's deflated members).
import type { Transform } from 'node:stream';
import { waitForDrain } from '../drain.js';
import type { LayerNote } from '../layer-findings.js';
import type { EntrySink } from '../tar-parser.js';
import type { ScanContext } from './context.js';

const COMPRESSED_SUFFIX = /\.(gz|tgz|zst|zstd)$/;

/** The inner file's name: `a.tar.gz` → `a.tar`, `a.tgz` → `a.tar`, `blob` → `blob:gzip`. */
export function innerNameOf(nestedPath: string | null, path: string | null, compression: string): string {
  const base = (nestedPath ?? path ?? 'blob').split('/').pop()!;
  const stripped = base.replace(/\.tgz$/, '.tar').replace(COMPRESSED_SUFFIX, '');
  return stripped === base ? `${base}:${compression}` : stripped;
}

/** Decompress a nested stream and hand the inflated bytes to the sink of the inner file. */
export class DecompressSink implements EntrySink {
  private readonly done: Promise<void>;
  private stopped = false;
  private compressedIn = 0;
  private inflatedOut = 0;

  constructor(
    private readonly ctx: ScanContext,
    private readonly stream: Transform,
    inner: EntrySink,
    private readonly path: string | null,
    private readonly nestedPath: string | null,
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
            return;
          }
          const written = inner.write(chunk);
          if (written) await written;
        }
        const ended = inner.end();
        if (ended) await ended;
      } catch (error) {
        // Not a valid compressed stream after all (or truncated): the raw bytes were still scanned.
        this.stop('nested-unreadable', `could not decompress (${error instanceof Error ? error.message : String(error)})`);
      }
    })();
  }

  private boundReason(): string | null {
    const limits = this.ctx.limits;
    if (this.ctx.inflated > limits.maxInflatedBytes) {
      return `nested archives in this layer inflate past ${limits.maxInflatedBytes} bytes; the rest of this one was not unpacked`;
    }
    if (this.inflatedOut > 16 * 1024 * 1024 && this.inflatedOut > this.compressedIn * limits.maxRatio) {
      return `inflates more than ${limits.maxRatio}x (decompression bomb?); unpacking stopped after ${this.inflatedOut} bytes`;
    }
    return null;
  }

  private stop(kind: LayerNote['kind'], message: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.ctx.notes.push({ kind, detector: null, path: this.path, nestedPath: this.nestedPath, message });
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
