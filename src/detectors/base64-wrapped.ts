import { latin1, startsWith, type Capture, type CaptureHandler } from './capture.js';
import { nestedDetections, TEXT_LOOKAHEAD, type ContentDetector, type NestedLabel, type ScanContext } from './content-detector.js';
import { textTrigger } from './trigger.js';
import type { Detection } from './types.js';

const BASE64_LIMIT = 3 << 19;

const BASE64_LABEL: NestedLabel = { kind: 'base64', excerpt: 'base64-encoded', message: 'base64-encoded', note: 'in base64-encoded text' };

const BASE64_CHAR = new Uint8Array(256);
// Base64 alphabet plus what wraps it in files: line breaks, YAML indentation, JSON `\n` escapes.
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n \t\\') BASE64_CHAR[c.charCodeAt(0)] = 1;

/** A run of base64 text containing `LS0t` (base64 of `---`): decoded and scanned again. */
class Base64Handler implements CaptureHandler {
  readonly limit = BASE64_LIMIT;
  private end = -1;
  constructor(private readonly context: ScanContext) {}
  progress(capture: Capture, from: number): boolean {
    const bytes = capture.bytes();
    for (let i = from; i < bytes.length; i++) {
      if (BASE64_CHAR[bytes[i]!] === 0) {
        this.end = i;
        return true;
      }
    }
    return false;
  }
  covered(capture: Capture): number {
    return this.end === -1 ? capture.length : this.end;
  }
  finish(capture: Capture): Detection[] {
    const bytes = capture.bytes();
    const text = latin1(this.end === -1 ? bytes : bytes.subarray(0, this.end)).replace(/\\[nrt]|\s/g, '');
    // One run may hold several base64 texts one after the other (two keys exported to one file): a
    // decoder stops at the first padding, so each text that ends in '=' is decoded on its own.
    const detections: Detection[] = [];
    for (const part of text.split(/(?<==)(?=[^=])/)) detections.push(...this.decodeOne(part));
    return detections;
  }

  private decodeOne(text: string): Detection[] {
    // The run may start mid-group: the aligned decoding is the one whose text has a BEGIN line. The
    // capture starts at the run's first `LS0t`, which need not be the block's: a `---` before it (a
    // YAML document start, a rule in a text) or a chance `LS0t` mid-group. So the line may be anywhere.
    for (let shift = 0; shift < 4; shift++) {
      const part = text.slice(shift);
      const decoded = Buffer.from(part.slice(0, part.length - (part.length % 4)), 'base64');
      let dashes = 0;
      while (dashes < decoded.length && decoded[dashes] === 0x2d) dashes++;
      // The first dashes of the block's own line may have been cut with the group before the capture.
      if (dashes >= 3 && dashes < 5 && startsWith(decoded, dashes, 'BEGIN ')) {
        return nestedDetections(this.context.rescan(Buffer.concat([Buffer.from('-'.repeat(5 - dashes)), decoded])), BASE64_LABEL);
      }
      if (decoded.includes('-----BEGIN ')) return nestedDetections(this.context.rescan(decoded), BASE64_LABEL);
    }
    return [];
  }
}

/**
 * Base64-wrapped armored blocks (a key in a YAML secret, a JSON value, `echo … | base64 -d`): any
 * such run contains `LS0t` (base64 of `---`) whatever its alignment (trigger `L..t`). A decoder, not
 * a detector of its own: its findings carry the inner detector's id and a `base64-` kind.
 */
export const base64WrappedDecoder: ContentDetector = {
  id: 'base64-wrapped',
  info: null,
  triggers: [textTrigger('LS0t', 3)],
  lookahead: TEXT_LOOKAHEAD,
  nested: true,
  start: (bytes, index, _eof, context) => (startsWith(bytes, index, 'LS0t') ? { startIndex: index, handler: new Base64Handler(context) } : null),
};
