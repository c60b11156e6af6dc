import { getCandidateKernel, LOOKAHEAD, WINDOW_MAX, type CandidateKernel } from './candidate-kernel.js';
import { validateKeyFileSexp, type KeyFileVerdict, gnupgAgentKeyFile } from './gnupg-agent-key-file.js';
import { validateOpensshBlock, OPENSSH_TYPE } from './openssh-private-key.js';
import { PEM_PRIVATE_TYPES, validatePemBlock } from './pem-private-key.js';
import { validatePgpArmoredBlock, PGP_PRIVATE_TYPE, pgpArmoredPrivateKey } from './pgp-armored-private-key.js';
import { probeSecretKeyPacket, validateSecretKeyPacket } from './pgp-binary-secret-key.js';
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
const CLASSIFY_AHEAD = 96;
const ARMOR_LIMIT = 1 << 20;
const KEYFILE_LIMIT = 256 << 10;
const BASE64_LIMIT = 3 << 19;
const MAX_DEPTH = 2;
const MAX_CAPTURES = 64;
const PIECE = 16 << 10;

type Handler = {
  readonly limit: number;
  /** Called after bytes were appended from `from`; true when the capture is complete. */
  progress(capture: Capture, from: number): boolean;
  finish(capture: Capture, eof: boolean): Detection[];
};

class Capture {
  private buffer: Uint8Array;
  length = 0;
  /** Bytes taken from the last `append` (the rest of that chunk belongs to whatever comes next). */
  lastTaken = 0;
  constructor(
    readonly start: number,
    readonly handler: Handler,
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

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function startsWith(bytes: Uint8Array, at: number, text: string): boolean {
  if (at < 0 || at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** An armored block: complete at its END line. */
class ArmorHandler implements Handler {
  readonly limit = ARMOR_LIMIT;
  private end = -1;
  private readonly endMarker: Buffer;
  constructor(readonly type: string) {
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
    const text = latin1(this.end === -1 ? bytes : bytes.subarray(0, this.end));
    const detections =
      this.type === PGP_PRIVATE_TYPE ? validatePgpArmoredBlock(text) : this.type === OPENSSH_TYPE ? validateOpensshBlock(text) : validatePemBlock(text, this.type);
    if (this.end === -1 && capture.full()) {
      detections.push({ type: 'note', detector: detectorForType(this.type), message: `armored block longer than ${ARMOR_LIMIT} bytes without an END line: only its first ${ARMOR_LIMIT} bytes were validated` });
    }
    return detections;
  }
}

function detectorForType(type: string): string {
  return type === PGP_PRIVATE_TYPE ? pgpArmoredPrivateKey.id : type === OPENSSH_TYPE ? 'openssh-private-key' : 'pem-private-key';
}

/** A gpg-agent key S-expression: complete when it parses (or proves not to be one). */
class KeyFileHandler implements Handler {
  readonly limit = KEYFILE_LIMIT;
  private verdict: KeyFileVerdict = { status: 'incomplete' };
  private parsedAt = 0;
  constructor(private readonly fileName: string | null) {}
  progress(capture: Capture, from: number): boolean {
    const bytes = capture.bytes();
    // Only a closing parenthesis can complete the expression, and re-parsing only after the capture
    // grew by half keeps the total parsing work linear however the bytes are chunked.
    if (bytes.indexOf(0x29, from) === -1 || bytes.length < this.parsedAt * 1.5) return false;
    this.parsedAt = bytes.length;
    this.verdict = validateKeyFileSexp(bytes, 0, this.fileName);
    return this.verdict.status === 'done';
  }
  finish(capture: Capture, eof: boolean): Detection[] {
    if (this.verdict.status !== 'done' && this.parsedAt !== capture.length) this.verdict = validateKeyFileSexp(capture.bytes(), 0, this.fileName);
    if (this.verdict.status === 'done') return this.verdict.detections;
    const why = capture.full() ? `is longer than ${KEYFILE_LIMIT} bytes` : eof ? 'is cut off at the end of the file' : 'is incomplete';
    return [{ type: 'note', detector: gnupgAgentKeyFile.id, message: `a GnuPG key S-expression ${why}: not validated` }];
  }
}

const BASE64_CHAR = new Uint8Array(256);
// Base64 alphabet plus what wraps it in files: line breaks, YAML indentation, JSON `\n` escapes.
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\r\n \t\\') BASE64_CHAR[c.charCodeAt(0)] = 1;

/** A run of base64 text containing `LS0t` (base64 of `---`): decoded and scanned again. */
class Base64Handler implements Handler {
  readonly limit = BASE64_LIMIT;
  end = -1;
  constructor(
    private readonly depth: number,
    private readonly options: ContentScannerOptions,
  ) {}
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
  finish(capture: Capture): Detection[] {
    const bytes = capture.bytes();
    const text = latin1(this.end === -1 ? bytes : bytes.subarray(0, this.end)).replace(/\\[nrt]|\s/g, '');
    // The run may start mid-group: the aligned decoding is the one that starts with dashes.
    for (let shift = 0; shift < 4; shift++) {
      const part = text.slice(shift);
      const decoded = Buffer.from(part.slice(0, part.length - (part.length % 4)), 'base64');
      if (!startsWith(decoded, 0, '---')) continue;
      let dashes = 0;
      while (dashes < decoded.length && decoded[dashes] === 0x2d) dashes++;
      if (!startsWith(decoded, dashes, 'BEGIN ')) continue;
      const repaired = dashes >= 5 ? decoded : Buffer.concat([Buffer.from('-'.repeat(5 - dashes)), decoded]);
      const nested = scanBytes(repaired, this.options, this.depth + 1);
      const detections: Detection[] = [];
      for (const finding of nested.findings) {
        detections.push({
          type: 'finding',
          detector: finding.detector,
          kind: `base64-${finding.kind}`,
          severity: finding.severity,
          fingerprints: finding.fingerprints,
          keygrips: finding.keygrips,
          excerpt: `${finding.excerpt} (base64-encoded)`,
          message: `base64-encoded ${finding.message}`,
        });
      }
      for (const note of nested.notes) detections.push({ type: 'note', detector: note.detector, message: `in base64-encoded text: ${note.message}` });
      return detections;
    }
    return [];
  }
}

/** A binary key packet of known total length. */
class PacketHandler implements Handler {
  constructor(readonly limit: number) {}
  progress(capture: Capture): boolean {
    return capture.length >= this.limit;
  }
  finish(capture: Capture): Detection[] {
    return capture.length >= this.limit ? validateSecretKeyPacket(capture.bytes()) : [];
  }
}

/** Bytes around a text candidate that fell near the end of a chunk: classified once enough arrive. */
class ClassifyHandler implements Handler {
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

type Classification = { handler: Handler; startIndex: number } | null | 'need';

const KEY_FILE_PREFIXES = ['(protected-', '(21:protected-', '(shadowed-', '(20:shadowed-', '(11:', '('];

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
  private base64Active: Capture | null = null;
  private base64CoverEnd = 0;
  private skippedCandidates = 0;
  private ended = false;
  private windowStart = 0;
  private windowEof = false;

  constructor(
    private readonly options: ContentScannerOptions,
    private readonly depth: number,
  ) {
    this.kernel = getCandidateKernel();
    for (const key of options.knownKeys) {
      for (const fingerprint of key.fingerprints) this.knownFingerprints.add(fingerprint.toUpperCase());
      for (const keygrip of key.keygrips) this.knownKeygrips.add(keygrip.toUpperCase());
    }
    this.allowList = createKeyAllowList(options.allowKeys ?? []);
    const base = options.path?.split('/').pop();
    this.fileName = base ? base : null;
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
      this.notes.push({ detector: 'content-scanner', offset: 0, message: `${this.skippedCandidates} candidate positions were not validated: more than ${MAX_CAPTURES} open at once` });
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
        else if (capture.handler instanceof ClassifyHandler) this.promote(capture, slice.subarray(capture.lastTaken), false);
        else this.finishCapture(capture, false);
      }
    }
    const total = this.carry.length + slice.length;
    const limit = total - LOOKAHEAD;
    this.windowStart = this.carryStart;
    this.windowEof = false;
    if (total > WINDOW_MAX) throw new RangeError('internal: window too large');
    this.kernel.scan([this.carry, slice], this.scanFrom - this.carryStart, limit, this.onCandidate);
    if (limit > this.scanFrom - this.carryStart) this.scanFrom = this.carryStart + limit;
    this.position += slice.length;
    // Keep a bounded tail: the unscanned lookahead plus some history for key-file prefixes.
    const keep = Math.min(total, HISTORY + LOOKAHEAD);
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
    if (first >= 0x80) {
      const probe = probeSecretKeyPacket(view, index);
      if (probe.status === 'reject') return;
      if (index + probe.total <= view.length) {
        this.record(validateSecretKeyPacket(view.subarray(index, index + probe.total)), absolute);
      } else if (!this.windowEof) {
        this.open(absolute, new PacketHandler(probe.total), view.subarray(index));
      }
      return;
    }
    if (first === 0x4c) {
      if (this.base64Active && absolute >= this.base64Active.start) return;
      if (absolute < this.base64CoverEnd) return;
    }
    const ahead = view.length - index;
    if (ahead >= CLASSIFY_AHEAD || this.windowEof) {
      this.classified(view, index, this.windowEof);
      return;
    }
    const history = Math.min(index, 16);
    this.open(absolute - history, new ClassifyHandler(history + CLASSIFY_AHEAD, history), view.subarray(index - history));
  };

  /** Classify a text candidate at `index` of `bytes` and open a capture for it. */
  private classified(bytes: Uint8Array, index: number, eof: boolean): void {
    const result = this.classify(bytes, index, eof);
    if (result === null || result === 'need') return;
    const absolute = this.windowStart + index;
    this.open(absolute - (index - result.startIndex), result.handler, bytes.subarray(result.startIndex));
  }

  private classify(bytes: Uint8Array, index: number, eof: boolean): Classification {
    const first = bytes[index];
    if (first === 0x2d) {
      if (!startsWith(bytes, index, '-----BEGIN ')) return bytes.length - index < 11 && !eof ? 'need' : null;
      const rest = latin1(bytes.subarray(index + 11, Math.min(bytes.length, index + 11 + 64)));
      const close = rest.indexOf('-----');
      if (close === -1) return rest.length < 64 && !eof ? 'need' : null;
      const type = rest.slice(0, close);
      if (type === PGP_PRIVATE_TYPE || type === OPENSSH_TYPE || PEM_PRIVATE_TYPES.test(type)) return { handler: new ArmorHandler(type), startIndex: index };
      return null;
    }
    if (first === 0x70) {
      if (!startsWith(bytes, index, 'private-key')) return null;
      // What follows must open the algorithm list: `(rsa`, `(3:rsa`, ` (ecc`, folded or not.
      const after = latin1(bytes.subarray(index + 11, Math.min(bytes.length, index + 11 + 16)));
      if (!/^\s*\((?:\d:)?\s*(?:rsa|ecc|dsa|elg|ecdsa|ecdh|eddsa)\b/.test(after.replace(/\n[ \t]/g, ''))) return null;
      for (const prefix of KEY_FILE_PREFIXES) {
        if (startsWith(bytes, index - prefix.length, prefix)) return { handler: new KeyFileHandler(this.fileName), startIndex: index - prefix.length };
      }
      return null;
    }
    if (first === 0x4c) {
      if (!startsWith(bytes, index, 'LS0t')) return null;
      return { handler: new Base64Handler(this.depth, this.options), startIndex: index };
    }
    return null;
  }

  private open(start: number, handler: Handler, initial: Uint8Array): void {
    if (handler instanceof Base64Handler && this.depth >= MAX_DEPTH) return;
    if (this.captures.length >= MAX_CAPTURES) {
      this.skippedCandidates++;
      return;
    }
    const capture = new Capture(start, handler);
    if (handler instanceof Base64Handler) this.base64Active = capture;
    if (capture.append(initial) || this.windowEof) this.completed.push(capture);
    else this.captures.push(capture);
  }

  private finishCompleted(eof: boolean): void {
    while (this.completed.length > 0) {
      const done = this.completed;
      this.completed = [];
      for (const capture of done) this.finishCapture(capture, eof);
    }
  }

  /** Classify a candidate that arrived near a chunk end, now that enough bytes followed; `rest` is the unread part of the current chunk. */
  private promote(capture: Capture, rest: Uint8Array, eof: boolean): void {
    const handler = capture.handler as ClassifyHandler;
    const bytes = capture.bytes();
    const result = this.classify(bytes, handler.candidateIndex, true);
    if (result === null || result === 'need') return;
    if (result.handler instanceof Base64Handler && this.depth >= MAX_DEPTH) return;
    const promoted = new Capture(capture.start + result.startIndex, result.handler);
    if (result.handler instanceof Base64Handler) this.base64Active = promoted;
    let complete = promoted.append(bytes.subarray(result.startIndex));
    if (!complete && rest.length > 0) complete = promoted.append(rest);
    if (complete || eof) this.finishCapture(promoted, eof);
    else this.captures.push(promoted);
  }

  private finishCapture(capture: Capture, eof: boolean): void {
    const handler = capture.handler;
    if (handler instanceof ClassifyHandler) {
      this.promote(capture, new Uint8Array(0), eof);
      return;
    }
    if (handler instanceof Base64Handler) {
      if (this.base64Active === capture) this.base64Active = null;
      this.base64CoverEnd = Math.max(this.base64CoverEnd, capture.start + (handler.end === -1 ? capture.length : handler.end));
    }
    this.record(handler.finish(capture, eof), capture.start);
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
      const key = `finding:${detection.detector}:${detection.kind}:${offset}:${detection.fingerprints.join(",")}:${detection.keygrips.join(",")}`;
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
        message: matchesPublicKey ? `${detection.message} — this is the secret half of a known public key` : detection.message,
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
