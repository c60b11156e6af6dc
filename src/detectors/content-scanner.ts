import { Capture, type CaptureHandler } from './capture.js';
import type { ContentDetector, DetectorStart, ScanContext } from './content-detector.js';
import { WINDOW_MAX, type CandidateKernel } from './candidate-kernel.js';
import { DETECTORS_BY_FIRST_BYTE, getCandidateKernel } from './registry.js';
import type { ContentFinding, ContentNote, ContentScanner, ContentScanResult, Detection, KeyIdentity } from './types.js';
import { createKeyAllowList, type KeyAllowList } from './well-known-keys.js';

/** Options of one file's scanner. */
export type ContentScannerOptions = {
  /** Path of the file (only used to cross-check gpg-agent key file names); null when unknown. */
  path: string | null;
  /** Keys whose secret half we look for: a finding says whether it is one of these. */
  knownKeys: KeyIdentity[];
  /**
   * Extra public identities (keygrip, OpenPGP fingerprint, `SHA256:` or `SPKI-SHA256:`) of keys that
   * are known not to be leaks, on top of the built-in well-known test keys: they become notes.
   * Validate user input once with `parseAllowKeys` (a malformed entry throws AllowKeyError here).
   */
  allowKeys?: string[];
};

// Bounds: no candidate ever holds more than this many bytes (the file itself is never held).
const SLICE = 1 << 20;
const HISTORY = 64;
/** Bytes before a candidate a detector may start its capture at (a key file's `(protected-`). */
const CANDIDATE_HISTORY = 16;
const MAX_DEPTH = 2;
const MAX_CAPTURES = 64;
/** Said of a key whose public half the user gave (a nested form's inner finding already says it). */
const KNOWN_KEY_SUFFIX = ' — this is the secret half of a known public key';

/** Bytes around a candidate that fell near the end of a chunk: its detectors decide once enough arrive. */
class LookaheadHandler implements CaptureHandler {
  constructor(
    readonly limit: number,
    readonly candidateIndex: number,
  ) {}
  progress(capture: Capture): boolean {
    return capture.length >= this.limit;
  }
  finish(): Detection[] {
    return [];
  }
}

/** Where a nested form's capture is open, and where its finished captures end (its candidates inside are skipped). */
type NestedRegion = { active: Capture | null; coverEnd: number };

/** The most bytes any detector of a first-byte bucket needs after a candidate. */
const LOOKAHEAD_BY_FIRST_BYTE = DETECTORS_BY_FIRST_BYTE.map((detectors) => Math.max(0, ...detectors.map((detector) => detector.lookahead)));

class StreamingScanner implements ContentScanner {
  private readonly kernel: CandidateKernel;
  private readonly knownFingerprints = new Set<string>();
  private readonly knownKeygrips = new Set<string>();
  private readonly fileName: string | null;
  private readonly allowList: KeyAllowList;
  private readonly findings: ContentFinding[] = [];
  private readonly notes: ContentNote[] = [];
  private readonly seen = new Set<string>();
  private captures: Capture[] = [];
  private completed: Capture[] = [];
  private carry: Uint8Array = new Uint8Array(0);
  private carryStart = 0;
  private scanFrom = 0;
  private position = 0;
  private readonly nested = new Map<ContentDetector, NestedRegion>();
  private readonly context: ScanContext;
  private skippedCandidates = 0;
  private ended = false;
  private windowStart = 0;
  private windowEof = false;
  private readonly lookahead: number;

  constructor(
    private readonly options: ContentScannerOptions,
    private readonly depth: number,
  ) {
    this.kernel = getCandidateKernel();
    this.lookahead = this.kernel.lookahead;
    for (const key of options.knownKeys) {
      for (const fingerprint of key.fingerprints) this.knownFingerprints.add(fingerprint.toUpperCase());
      for (const keygrip of key.keygrips) this.knownKeygrips.add(keygrip.toUpperCase());
    }
    this.allowList = createKeyAllowList(options.allowKeys ?? []);
    const base = options.path?.split('/').pop();
    this.fileName = base ? base : null;
    this.context = { fileName: this.fileName, depth, rescan: (bytes) => scanBytes(bytes, options, depth + 1) };
  }

  write(chunk: Uint8Array): void {
    if (this.ended) throw new Error('ContentScanner.write after end()');
    for (let offset = 0; offset < chunk.length; offset += SLICE) {
      this.writeSlice(chunk.subarray(offset, Math.min(chunk.length, offset + SLICE)));
    }
  }

  end(): ContentScanResult {
    if (this.ended) throw new Error('ContentScanner.end called twice');
    this.ended = true;
    this.windowStart = this.carryStart;
    this.windowEof = true;
    this.kernel.scan([this.carry], this.scanFrom - this.carryStart, this.carry.length, this.onCandidate);
    this.finishCompleted(true);
    // Whatever is still open ends with the file.
    while (this.captures.length > 0) {
      const open = this.captures;
      this.captures = [];
      for (const capture of open) this.finishCapture(capture, true);
    }
    if (this.skippedCandidates > 0) {
      this.notes.push({
        detector: 'content-scanner',
        offset: 0,
        message: `${this.skippedCandidates} candidate positions were not validated: more than ${MAX_CAPTURES} open at once`,
      });
    }
    this.findings.sort((a, b) => a.offset - b.offset);
    this.notes.sort((a, b) => a.offset - b.offset);
    return { findings: this.findings, notes: this.notes };
  }

  private writeSlice(slice: Uint8Array): void {
    if (this.captures.length > 0) {
      const open = this.captures;
      this.captures = [];
      for (const capture of open) {
        if (!capture.append(slice)) this.captures.push(capture);
        else if (capture.owner === null) this.promote(capture, slice.subarray(capture.lastTaken), false);
        else this.finishCapture(capture, false);
      }
    }
    const total = this.carry.length + slice.length;
    const limit = total - this.lookahead;
    this.windowStart = this.carryStart;
    this.windowEof = false;
    if (total > WINDOW_MAX) throw new RangeError('internal: window too large');
    this.kernel.scan([this.carry, slice], this.scanFrom - this.carryStart, limit, this.onCandidate);
    if (limit > this.scanFrom - this.carryStart) this.scanFrom = this.carryStart + limit;
    this.position += slice.length;
    // Keep a bounded tail: the unscanned lookahead plus some history for key-file prefixes.
    const keep = Math.min(total, HISTORY + this.lookahead);
    const next = new Uint8Array(keep);
    if (slice.length >= keep) {
      next.set(slice.subarray(slice.length - keep));
    } else {
      const fromCarry = keep - slice.length;
      next.set(this.carry.subarray(this.carry.length - fromCarry), 0);
      next.set(slice, fromCarry);
    }
    this.carry = next;
    this.carryStart = this.position - keep;
    this.finishCompleted(false);
  }

  private readonly onCandidate = (index: number): void => {
    const view = this.kernel.view();
    const absolute = this.windowStart + index;
    const first = view[index]!;
    const detectors = this.startable(DETECTORS_BY_FIRST_BYTE[first]!, absolute);
    if (detectors.length === 0) return;
    const lookahead = LOOKAHEAD_BY_FIRST_BYTE[first]!;
    if (view.length - index >= lookahead || this.windowEof) {
      this.startAll(detectors, view, index, absolute, this.windowEof, null, this.windowEof);
      return;
    }
    const history = Math.min(index, CANDIDATE_HISTORY);
    this.open(absolute - history, new LookaheadHandler(history + lookahead, history), null, view.subarray(index - history));
  };

  /** The detectors of a candidate that may start at `absolute` (nested forms: within depth, not inside their own text). */
  private startable(detectors: readonly ContentDetector[], absolute: number): readonly ContentDetector[] {
    if (!detectors.some((detector) => detector.nested)) return detectors;
    return detectors.filter((detector) => {
      if (!detector.nested) return true;
      if (this.depth >= MAX_DEPTH) return false;
      const region = this.nested.get(detector);
      return !region || ((!region.active || absolute < region.active.start) && absolute >= region.coverEnd);
    });
  }

  /**
   * Give a candidate at `index` of `bytes` (absolute offset `absolute`) to each detector; `rest` is
   * the unread part of the current chunk when `bytes` is a look-ahead capture's copy (whose bytes
   * are all a detector gets to decide: `final`), `eof` when the file has ended.
   */
  private startAll(detectors: readonly ContentDetector[], bytes: Uint8Array, index: number, absolute: number, final: boolean, rest: Uint8Array | null, eof: boolean): void {
    for (const detector of detectors) {
      const started: DetectorStart = detector.start(bytes, index, final, this.context);
      if (started === null) continue;
      if ('detections' in started) {
        this.record(started.detections, absolute);
        continue;
      }
      const start = absolute - (index - started.startIndex);
      if (rest === null) {
        this.open(start, started.handler, detector, bytes.subarray(started.startIndex));
        continue;
      }
      // A promoted candidate: its capture continues with the rest of the current chunk.
      const capture = this.track(new Capture(start, started.handler, detector));
      if (capture === null) continue;
      let complete = capture.append(bytes.subarray(started.startIndex));
      if (!complete && rest.length > 0) complete = capture.append(rest);
      if (complete || eof) this.finishCapture(capture, eof);
      else this.captures.push(capture);
    }
  }

  /** Count a new capture against the bound and mark a nested form's region; null when over the bound. */
  private track(capture: Capture): Capture | null {
    if (this.captures.length >= MAX_CAPTURES) {
      this.skippedCandidates++;
      return null;
    }
    if (capture.owner?.nested) {
      const region = this.nested.get(capture.owner) ?? { active: null, coverEnd: 0 };
      region.active = capture;
      this.nested.set(capture.owner, region);
    }
    return capture;
  }

  private open(start: number, handler: CaptureHandler, owner: ContentDetector | null, initial: Uint8Array): void {
    const capture = this.track(new Capture(start, handler, owner));
    if (capture === null) return;
    if (capture.append(initial) || this.windowEof) {
      // Finished after the kernel pass (a nested form rescans with the same kernel), but its
      // region ends now, so that the next block of the same form in this window is started.
      this.release(capture);
      this.completed.push(capture);
    } else {
      this.captures.push(capture);
    }
  }

  /** A nested form's capture is complete: later candidates of the form past its text start again. */
  private release(capture: Capture): void {
    if (!capture.owner?.nested) return;
    const region = this.nested.get(capture.owner)!;
    if (region.active === capture) region.active = null;
    region.coverEnd = Math.max(region.coverEnd, capture.start + (capture.handler.covered?.(capture) ?? capture.length));
  }

  private finishCompleted(eof: boolean): void {
    while (this.completed.length > 0) {
      const done = this.completed;
      this.completed = [];
      for (const capture of done) this.finishCapture(capture, eof);
    }
  }

  /** Start the detectors of a candidate that arrived near a chunk end, now that enough bytes followed; `rest` is the unread part of the current chunk. */
  private promote(capture: Capture, rest: Uint8Array, eof: boolean): void {
    const handler = capture.handler as LookaheadHandler;
    const bytes = capture.bytes();
    const index = handler.candidateIndex;
    const absolute = capture.start + index;
    const detectors = this.startable(DETECTORS_BY_FIRST_BYTE[bytes[index]!]!, absolute);
    this.startAll(detectors, bytes, index, absolute, true, rest, eof);
  }

  private finishCapture(capture: Capture, eof: boolean): void {
    if (capture.owner === null) {
      this.promote(capture, new Uint8Array(0), eof);
      return;
    }
    this.release(capture);
    this.record(capture.handler.finish(capture, eof), capture.start);
  }

  private record(detections: Detection[], start: number): void {
    for (const detection of detections) {
      const offset = start + (detection.at ?? 0);
      if (detection.type === 'note') {
        const key = `note:${detection.detector}:${offset}:${detection.message}`;
        if (this.seen.has(key)) continue;
        this.seen.add(key);
        this.notes.push({ detector: detection.detector, offset, message: detection.message });
        continue;
      }
      const key = `finding:${detection.detector}:${detection.kind}:${offset}:${detection.fingerprints.join(',')}:${detection.keygrips.join(',')}`;
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      const matchesPublicKey =
        detection.fingerprints.some((fingerprint) => this.knownFingerprints.has(fingerprint)) || detection.keygrips.some((keygrip) => this.knownKeygrips.has(keygrip));
      // A well-known public test key (or one the user allowed) is not a leak, unless it is also the
      // user's own key: then the user's question wins and it stays a finding.
      const known = matchesPublicKey ? null : this.allowList.match(detection.fingerprints, detection.keygrips, detection.catalogueIds);
      if (known) {
        const where = this.options.path ?? 'this content';
        const message =
          known.kind === 'well-known'
            ? `well-known public test key (${known.origin}, ${known.identity}) in ${where}: not a leak`
            : `allowed key (${known.identity}, given in allowKeys) in ${where}: not a leak`;
        const noteKey = `note:${detection.detector}:${offset}:${message}`;
        if (!this.seen.has(noteKey)) {
          this.seen.add(noteKey);
          this.notes.push({ detector: detection.detector, offset, message });
        }
        continue;
      }
      this.findings.push({
        detector: detection.detector,
        kind: detection.kind,
        severity: detection.severity,
        offset,
        fingerprints: detection.fingerprints,
        keygrips: detection.keygrips,
        matchesPublicKey,
        excerpt: detection.excerpt,
        message: matchesPublicKey && !detection.message.endsWith(KNOWN_KEY_SUFFIX) ? `${detection.message}${KNOWN_KEY_SUFFIX}` : detection.message,
      });
    }
  }
}

/**
 * A streaming detector for the bytes of one file: feed it chunks of any size with `write`, then
 * call `end` once. It holds a bounded tail and bounded captures of candidate keys, never the file.
 */
export function createContentScanner(options: ContentScannerOptions): ContentScanner {
  return new StreamingScanner(options, 0);
}

/** Scan a whole in-memory byte string (used for decoded base64 and config values). */
export function scanBytes(bytes: Uint8Array, options: ContentScannerOptions, depth = 0): ContentScanResult {
  const scanner = new StreamingScanner(options, depth);
  scanner.write(bytes);
  return scanner.end();
}
