import type { CaptureHandler } from './capture.js';
import type { Trigger } from './trigger.js';
import type { ContentScanResult, Detection, DetectorInfo } from './types.js';

/** What a detector may use of the scan it runs in. */
export type ScanContext = {
  /** Base name of the scanned file, or null when unknown. */
  readonly fileName: string | null;
  /** Nesting level: 0 for a file, 1 for text decoded from it, … */
  readonly depth: number;
  /** Scan decoded bytes (a nested form) with the same options, one level deeper. */
  rescan(bytes: Uint8Array): ContentScanResult;
};

/**
 * What a detector makes of a candidate at `index` of `bytes`: nothing; detections right away
 * (everything was in view); or a capture from `startIndex` (at or before `index`) that its handler
 * completes as more bytes arrive.
 */
export type DetectorStart = null | { detections: Detection[] } | { startIndex: number; handler: CaptureHandler };

/**
 * A content detector as a plug-in: the triggers the candidate kernel looks for, and what to do at a
 * candidate. The scanner loops over the registered list (registry.ts); it knows no detector by name.
 */
export type ContentDetector = {
  /** Stable id; for a reporting detector, the id of `info`. */
  readonly id: string;
  /** The detector as reports name it; null for a decoder whose findings carry the inner detector's id. */
  readonly info: DetectorInfo | null;
  readonly triggers: readonly Trigger[];
  /**
   * Bytes after the candidate `start` needs in view to decide (a candidate nearer the end of the
   * bytes seen so far waits for them); 0 when `start` copes with a cut-off view itself.
   */
  readonly lookahead: number;
  /**
   * A nested form (decoded and scanned again): not started past the nesting depth, and its own
   * candidates inside a capture of it are skipped (the decoded text is scanned once).
   */
  readonly nested?: boolean;
  /** `eof`: no byte follows `bytes` (otherwise `lookahead` bytes after `index` are in view). */
  start(bytes: Uint8Array, index: number, eof: boolean, context: ScanContext): DetectorStart;
};

/** Bytes after a text candidate a text detector reads to decide (a marker line and its type). */
export const TEXT_LOOKAHEAD = 96;

/** How a nested decoder names what it found inside its decoded bytes. */
export interface NestedLabel {
  /** prefix of the finding kind, e.g. `base64` → `base64-armored` */
  kind: string;
  /** appended to the excerpt, e.g. `base64-encoded` */
  excerpt: string;
  /** before the message, e.g. `base64-encoded` */
  message: string;
  /** before a note's message, e.g. `in base64-encoded text` */
  note: string;
}

/**
 * The detections of a rescan of decoded bytes, as the decoder reports them: the inner detector's id,
 * the kind and words marked with the encoding, and (when the decoded offsets map back) the offset
 * in the encoded bytes.
 */
export function nestedDetections(nested: ContentScanResult, label: NestedLabel, offsetOf?: (decodedOffset: number) => number): Detection[] {
  const at = (offset: number) => (offsetOf ? { at: offsetOf(offset) } : {});
  const detections: Detection[] = nested.findings.map((finding) => ({
    type: 'finding',
    detector: finding.detector,
    kind: `${label.kind}-${finding.kind}`,
    severity: finding.severity,
    fingerprints: finding.fingerprints,
    keygrips: finding.keygrips,
    excerpt: `${finding.excerpt} (${label.excerpt})`,
    message: `${label.message} ${finding.message}`,
    ...at(finding.offset),
  }));
  for (const note of nested.notes) detections.push({ type: 'note', detector: note.detector, message: `${label.note}: ${note.message}`, ...at(note.offset) });
  return detections;
}
