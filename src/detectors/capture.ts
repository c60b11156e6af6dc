import type { ContentDetector } from './content-detector.js';
import type { Detection } from './types.js';

const PIECE = 16 << 10;

/** What a detector does with the bytes it captured from a candidate position onwards. */
export type CaptureHandler = {
  /** Most bytes this capture may hold (the file itself is never held). */
  readonly limit: number;
  /** Called after bytes were appended from `from`; true when the capture is complete. */
  progress(capture: Capture, from: number): boolean;
  /** Validate the captured bytes; `eof` when the file ended before the capture completed. */
  finish(capture: Capture, eof: boolean): Detection[];
  /** Bytes of the capture the form really covered (for a nested form: where its text ended). */
  covered?(capture: Capture): number;
};

/** Bytes captured from one candidate position, bounded by its handler's limit. */
export class Capture {
  private buffer: Uint8Array;
  length = 0;
  /** Bytes taken from the last `append` (the rest of that chunk belongs to whatever comes next). */
  lastTaken = 0;
  constructor(
    readonly start: number,
    readonly handler: CaptureHandler,
    /** The detector that opened it; null for the scanner's own look-ahead captures. */
    readonly owner: ContentDetector | null,
  ) {
    this.buffer = new Uint8Array(Math.min(handler.limit, 4096));
  }
  /**
   * Append bytes (bounded by the handler's limit); true when the capture is complete. Bytes go in
   * pieces so that a capture that completes early (a short key file, an END line) copies little.
   */
  append(bytes: Uint8Array): boolean {
    this.lastTaken = 0;
    let offset = 0;
    do {
      const piece = bytes.subarray(offset, offset + PIECE);
      const take = Math.max(0, Math.min(this.handler.limit - this.length, piece.length));
      const from = this.length;
      if (take > 0) {
        if (this.length + take > this.buffer.length) {
          const grown = new Uint8Array(Math.min(this.handler.limit, Math.max(this.buffer.length * 2, this.length + take)));
          grown.set(this.buffer.subarray(0, this.length));
          this.buffer = grown;
        }
        this.buffer.set(take === piece.length ? piece : piece.subarray(0, take), this.length);
        this.length += take;
        this.lastTaken += take;
        offset += take;
      }
      if (this.handler.progress(this, from)) return true;
      if (this.length >= this.handler.limit) return true;
    } while (offset < bytes.length);
    return false;
  }
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
  full(): boolean {
    return this.length >= this.handler.limit;
  }
}

/** Latin-1 text of bytes (one character per byte, never fails). */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** True when `text` (ASCII) is at `at` of `bytes`. */
export function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at < 0 || at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}
