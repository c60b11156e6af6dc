import { latin1, startsWith, type Capture, type CaptureHandler } from './capture.js';
import type { DetectorStart } from './content-detector.js';
import { textTrigger } from './trigger.js';
import type { Detection } from './types.js';

/** Largest armored block captured (a key block is a few KiB; anything longer is validated in part). */
export const ARMOR_LIMIT = 1 << 20;

/** The kernel trigger of `-----BEGIN` (also inside JSON strings): `-` and the `B` five bytes on. */
export const BEGIN_TRIGGER = textTrigger('-----BEGIN', 5);

/** Bytes after `-----BEGIN ` read to find the block type. */
const TYPE_AHEAD = 64;

/** A validator of a complete armored block of one type (`text` starts at its BEGIN line). */
export type ArmorValidator = (text: string, type: string) => Detection[];

/** An armored block: complete at its END line. */
class ArmorHandler implements CaptureHandler {
  readonly limit = ARMOR_LIMIT;
  private end = -1;
  private readonly endMarker: Buffer;
  constructor(
    private readonly type: string,
    private readonly detectorId: string,
    private readonly validate: ArmorValidator,
  ) {
    this.endMarker = Buffer.from(`-----END ${type}-----`, 'latin1');
  }
  progress(capture: Capture, from: number): boolean {
    const bytes = capture.bytes();
    const searchFrom = Math.max(0, from - this.endMarker.length);
    const index = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(this.endMarker, searchFrom);
    if (index === -1) return false;
    this.end = index + this.endMarker.length;
    return true;
  }
  finish(capture: Capture): Detection[] {
    const bytes = capture.bytes();
    const detections = this.validate(latin1(this.end === -1 ? bytes : bytes.subarray(0, this.end)), this.type);
    if (this.end === -1 && capture.full()) {
      detections.push({
        type: 'note',
        detector: this.detectorId,
        message: `armored block longer than ${ARMOR_LIMIT} bytes without an END line: only its first ${ARMOR_LIMIT} bytes were validated`,
      });
    }
    return detections;
  }
}

/** The block type after `-----BEGIN ` at `index`, or null when there is none. */
export function armorTypeAt(bytes: Uint8Array, index: number): string | null {
  if (!startsWith(bytes, index, '-----BEGIN ')) return null;
  const rest = latin1(bytes.subarray(index + 11, Math.min(bytes.length, index + 11 + TYPE_AHEAD)));
  const close = rest.indexOf('-----');
  return close === -1 ? null : rest.slice(0, close);
}

/** Start an armored-block capture at `index` when its type is one `accepts` takes. */
export function startArmoredBlock(bytes: Uint8Array, index: number, accepts: (type: string) => boolean, detectorId: string, validate: ArmorValidator): DetectorStart {
  const type = armorTypeAt(bytes, index);
  if (type === null || !accepts(type)) return null;
  return { startIndex: index, handler: new ArmorHandler(type, detectorId, validate) };
}

/** Bytes after a `-----BEGIN` candidate an armored detector needs in view. */
export const ARMOR_LOOKAHEAD = 11 + TYPE_AHEAD;
