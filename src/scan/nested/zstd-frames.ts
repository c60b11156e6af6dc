// Walks the frame structure of a zstd stream without decoding it (frame headers, block headers,
// skippable frames), so that what a frame declares — its window and content size, which decoders
// allocate up front — is checked against the bounds before any decoder sees the frame. Pure.

/** What one frame header declares. */
export interface ZstdFrameHeader {
  /** Byte offset of the frame in the stream. */
  offset: number;
  /** Bytes a decoder keeps (and allocates) for back-references. */
  windowSize: number;
  /** Declared decompressed size, when the header has one. */
  contentSize: number | null;
}

/** A stream that is not zstd's frame structure. */
export class ZstdFrameError extends Error {
  override name = 'ZstdFrameError';
}

const ZSTD_MAGIC = 0xfd2fb528;

/** True for the magic of a skippable frame (0x184D2A50–0x184D2A5F). */
export function isSkippableMagic(magic: number): boolean {
  return (magic & 0xfffffff0) >>> 0 === 0x184d2a50;
}

type State = 'magic' | 'header' | 'skip' | 'block' | 'body' | 'checksum';

/** Incremental walker: push() bytes in any chunking; frame headers come out of each push. */
export class ZstdFrameWalker {
  private state: State = 'magic';
  private buf: number[] = [];
  private need = 4;
  private skip = 0;
  private lastBlock = false;
  private checksum = false;
  private frameStart = 0;
  private position = 0;

  /** Feed bytes; returns the frame headers completed in them. Throws ZstdFrameError on a malformed structure. */
  push(chunk: Uint8Array): ZstdFrameHeader[] {
    const headers: ZstdFrameHeader[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        this.position += n;
        if (this.skip === 0) this.afterSkip();
        continue;
      }
      this.buf.push(chunk[at]!);
      at++;
      this.position++;
      if (this.buf.length < this.need) continue;
      const header = this.consume();
      if (header) headers.push(header);
    }
    return headers;
  }

  /** True when the stream so far ends on a frame boundary (a complete stream). */
  get atBoundary(): boolean {
    return this.state === 'magic' && this.buf.length === 0 && this.skip === 0;
  }

  private afterSkip(): void {
    if (this.state === 'skip' || this.state === 'checksum') this.expect('magic', 4);
    else if (this.state === 'body') this.afterBlock();
  }

  private afterBlock(): void {
    if (!this.lastBlock) this.expect('block', 3);
    else if (this.checksum) {
      this.state = 'checksum';
      this.skip = 4;
    } else this.expect('magic', 4);
  }

  private expect(state: State, need: number): void {
    this.state = state;
    this.need = need;
    this.buf = [];
  }

  private consume(): ZstdFrameHeader | null {
    const b = this.buf;
    switch (this.state) {
      case 'magic': {
        const magic = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
        this.frameStart = this.position - 4;
        if (isSkippableMagic(magic)) {
          this.expect('skip', 8);
          this.buf = b;
          return null;
        }
        if (magic !== ZSTD_MAGIC) throw new ZstdFrameError(`no zstd frame at byte ${this.frameStart}`);
        this.expect('header', 5);
        this.buf = b;
        return null;
      }
      case 'skip': {
        this.skip = (b[4]! | (b[5]! << 8) | (b[6]! << 16) | (b[7]! << 24)) >>> 0;
        this.buf = [];
        if (this.skip === 0) this.expect('magic', 4);
        return null;
      }
      case 'header': {
        const fhd = b[4]!;
        const fcsFlag = fhd >> 6;
        const single = (fhd >> 5) & 1;
        if (fhd & 0x08) throw new ZstdFrameError(`reserved bit set in the frame header at byte ${this.frameStart}`);
        const dictBytes = [0, 1, 2, 4][fhd & 3]!;
        const fcsBytes = [single, 2, 4, 8][fcsFlag]!;
        const size = 5 + (single ? 0 : 1) + dictBytes + fcsBytes;
        if (b.length < size) {
          this.need = size;
          return null;
        }
        this.checksum = ((fhd >> 2) & 1) === 1;
        let contentSize: number | null = null;
        if (fcsBytes > 0) {
          const start = size - fcsBytes;
          let value = 0;
          for (let i = fcsBytes - 1; i >= 0; i--) value = value * 256 + b[start + i]!;
          contentSize = fcsBytes === 2 ? value + 256 : value;
        }
        let windowSize: number;
        if (single) windowSize = contentSize ?? 0;
        else {
          const descriptor = b[5]!;
          const base = 2 ** (10 + (descriptor >> 3));
          windowSize = base + (base / 8) * (descriptor & 7);
        }
        this.expect('block', 3);
        return { offset: this.frameStart, windowSize, contentSize };
      }
      case 'block': {
        const value = b[0]! | (b[1]! << 8) | (b[2]! << 16);
        this.lastBlock = (value & 1) === 1;
        const type = (value >> 1) & 3;
        const blockSize = value >>> 3;
        if (type === 3) throw new ZstdFrameError(`reserved block type at byte ${this.position - 3}`);
        this.state = 'body';
        this.buf = [];
        this.skip = type === 1 ? 1 : blockSize;
        if (this.skip === 0) this.afterBlock();
        return null;
      }
      default:
        return null;
    }
  }
}
