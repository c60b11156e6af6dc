import { latin1, type Capture, type CaptureHandler } from './capture.js';
import { nestedDetections, type ContentDetector, type NestedLabel, type ScanContext } from './content-detector.js';
import type { Detection } from './types.js';

/** Largest UTF-16 run captured: an armored block of up to 1 MiB, two bytes a character. */
const UTF16_LIMIT = 2 << 20;

const UTF16_LABEL: NestedLabel = { kind: 'utf16', excerpt: 'UTF-16 text', message: 'UTF-16', note: 'in UTF-16 text' };
/**
 * The starts of text forms as UTF-16 from their first byte (the same bytes in LE, and in BE one byte
 * on): an armor line, and a PuTTY key file's first line.
 */
const STARTS = ['-----BEGIN ', 'PuTTY-User-Key-File-'].map((text) => ({ text, utf16: Buffer.from(text.split('').join('\0'), 'latin1') }));
/** Where a form's text ends: an armor END line, or a .ppk's Private-MAC line. */
const END_LINE = /-----END [A-Z0-9 ]{1,64}-----|\nPrivate-MAC: [0-9a-f]{1,128}\r?\n/;

/**
 * A run of UTF-16 text from a `-` byte: every even byte (from the capture start) a character, every
 * odd byte 0. That reads UTF-16LE from its first byte and UTF-16BE from its second alike (the high
 * byte of the next character is the odd one), so any byte alignment, BOM or none, is one case.
 */
class Utf16Handler implements CaptureHandler {
  readonly limit = UTF16_LIMIT;
  /** Decoded characters so far (one per whole pair of bytes: `from` may fall inside a pair). */
  private text = '';
  private end = -1;
  constructor(private readonly context: ScanContext) {}
  progress(capture: Capture): boolean {
    const bytes = capture.bytes();
    const checkFrom = Math.max(0, this.text.length - 80);
    let run = '';
    for (let i = (this.text.length + run.length) * 2; i + 1 < bytes.length; i += 2) {
      const low = bytes[i]!;
      if (bytes[i + 1] !== 0 || low === 0 || low >= 0x80) {
        this.end = i;
        break;
      }
      run += String.fromCharCode(low);
    }
    this.text += run;
    if (this.end !== -1) return true;
    // Complete at the END line: the rest of a PowerShell transcript is not the key's.
    const match = END_LINE.exec(this.text.slice(checkFrom));
    if (match) {
      this.end = (checkFrom + match.index + match[0].length) * 2;
      return true;
    }
    return false;
  }
  covered(capture: Capture): number {
    return this.end === -1 ? capture.length : this.end;
  }
  finish(capture: Capture): Detection[] {
    const bytes = capture.bytes();
    const end = this.end === -1 ? bytes.length - (bytes.length % 2) : this.end;
    const chars = new Uint8Array(end >> 1);
    for (let i = 0; i < chars.length; i++) chars[i] = bytes[2 * i]!;
    const head = latin1(chars.subarray(0, 20));
    if (!STARTS.some((start) => head.startsWith(start.text))) return [];
    return nestedDetections(this.context.rescan(chars), UTF16_LABEL, (offset) => 2 * offset);
  }
}

/**
 * Armored blocks and PuTTY key files in UTF-16 text (what PowerShell's `>` writes, LE with a BOM;
 * also BE): two vector tests more in the kernel. A decoder, not a detector of its
 * own: the decoded text goes through every detector, findings keep their detector id with a
 * `utf16-` kind.
 */
export const utf16TextDecoder: ContentDetector = {
  id: 'utf16-text',
  info: null,
  // `-` and the `B` of BEGIN ten bytes on; `P` and the second `T` of PuTTY six bytes on.
  triggers: [
    { first: 0x2d, at: 10, equals: 0x42 },
    { first: 0x50, at: 6, equals: 0x54 },
  ],
  lookahead: Math.max(...STARTS.map((start) => start.utf16.length)),
  nested: true,
  start(bytes, index, _eof, context) {
    const matches = STARTS.some((start) => start.utf16.every((byte, i) => bytes[index + i] === byte));
    return matches ? { startIndex: index, handler: new Utf16Handler(context) } : null;
  },
};
