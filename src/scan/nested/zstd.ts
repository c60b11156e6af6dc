// A zstd stream inside a layer (a .tar.zst, a .zst). Every frame header is checked before the
// decoder sees it: decoders allocate the declared window (or, for single-segment frames, the
// whole content size) up front, so a bomb must be refused from its header, not by a failed allocation.
import { createDecompressor, sniffCompression } from '../compression.js';
import type { EntrySink } from '../tar-parser.js';
import { addNestedNote, inflateBudget } from './context.js';
import { DecompressSink, innerNameOf } from './decompress.js';
import type { NestedFormat, NestedOrigin } from './nested-format.js';
import { ZstdFrameWalker, type ZstdFrameHeader } from './zstd-frames.js';

class ZstdSink implements EntrySink {
  private readonly walker = new ZstdFrameWalker();
  private readonly decoder: DecompressSink;
  private refused = false;
  /** Stream bytes handed to the walker before the current chunk. */
  private position = 0;

  constructor(private readonly origin: NestedOrigin) {
    const { ctx, path, nestedPath, depth, decodes, openInner } = origin;
    this.decoder = new DecompressSink(ctx, createDecompressor('zstd')!, openInner(innerNameOf(nestedPath, path, 'zstd'), depth, decodes + 1), path, nestedPath, 'zstd');
  }

  private refusal(header: ZstdFrameHeader): string | null {
    const { ctx } = this.origin;
    const budget = inflateBudget(ctx);
    if (header.contentSize !== null && header.contentSize > budget) {
      return `bound reached: the zstd frame at byte ${header.offset} declares ${header.contentSize} bytes, over the ${budget} bytes left of maxInflatedBytes (${ctx.limits.maxInflatedBytes}); not unpacked from there`;
    }
    if (header.windowSize > ctx.limits.maxHeldBytes) {
      return `bound reached: the zstd frame at byte ${header.offset} needs a ${header.windowSize}-byte window, over maxHeldBytes (${ctx.limits.maxHeldBytes}); not unpacked from there`;
    }
    return null;
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.refused) return;
    let headers: ZstdFrameHeader[];
    const chunkStart = this.position;
    this.position += chunk.length;
    try {
      headers = this.walker.push(chunk);
    } catch {
      // Let the decoder name the damage (it reports it as unreadable).
      return this.decoder.write(chunk);
    }
    for (const header of headers) {
      const reason = this.refusal(header);
      if (reason) {
        this.refused = true;
        addNestedNote(this.origin.ctx, 'nested-bounded', this.origin.path, this.origin.nestedPath, reason);
        // The frames before it are decoded and scanned; this one never reaches the decoder.
        const before = chunk.subarray(0, Math.max(0, header.offset - chunkStart));
        const written = before.length > 0 ? this.decoder.write(before) : undefined;
        return written ? written.then(() => this.decoder.end()) : this.decoder.end();
      }
    }
    return this.decoder.write(chunk);
  }

  end(): void | Promise<void> {
    return this.refused ? undefined : this.decoder.end();
  }
}

export const zstdFormat: NestedFormat = {
  name: 'zstd',
  matches: (head) => sniffCompression(head) === 'zstd',
  open: (origin) => new ZstdSink(origin),
};
