import { parseGnupgKeyFile } from '../pgp/gnupg-key-file.js';
import { redactedExcerpt } from './excerpt.js';
import { startsWith, latin1, type Capture, type CaptureHandler } from './capture.js';
import { TEXT_LOOKAHEAD, type ContentDetector } from './content-detector.js';
import { textTrigger } from './trigger.js';
import type { Detection, DetectorInfo } from './types.js';

/** gpg-agent key files (`private-keys-v1.d/<keygrip>.key`): extended `Key:` format and the older S-expression. */
export const gnupgAgentKeyFile: DetectorInfo = {
  id: 'gnupg-agent-key-file',
  title: 'GnuPG agent private key file (private-keys-v1.d)',
  severity: 'critical',
  docs: 'docs/detectors/gnupg-agent-key-file.md',
};

const KEY_FILE_NAME = /^[0-9A-Fa-f]{40}\.key$/;

/**
 * A file named like gpg-agent's `<keygrip>.key` that opens as a private key but does not parse: fail
 * closed. A form this parser does not know yet must not pass as clean.
 */
function unreadableKeyFile(fileName: string, reason: string, withheld: number): Detection {
  return {
    type: 'finding',
    detector: gnupgAgentKeyFile.id,
    kind: 'unreadable-private-key',
    severity: 'critical',
    fingerprints: [],
    keygrips: [fileName.slice(0, 40).toUpperCase()],
    excerpt: redactedExcerpt('(private-key ...)', withheld),
    message: `GnuPG agent key file ${fileName} opens as a private key but does not parse (${reason}): treated as a leak`,
  };
}

/** The outcome of validating a key-file S-expression that may still be cut off. */
export type KeyFileVerdict = { status: 'incomplete' } | { status: 'done'; detections: Detection[]; length: number };

/** Validate the S-expression at `start` of `bytes` (the '(' before `private-key` and friends). */
export function validateKeyFileSexp(bytes: Uint8Array, start: number, fileName: string | null): KeyFileVerdict {
  const parsed = parseGnupgKeyFile(bytes, start);
  if (parsed.kind === 'incomplete') return { status: 'incomplete' };
  if (parsed.kind === 'invalid')
    return { status: 'done', detections: fileName && KEY_FILE_NAME.test(fileName) ? [unreadableKeyFile(fileName, parsed.reason, bytes.length - start)] : [], length: 0 };
  const file = parsed.file;
  const canonical = bytes[start + 1]! >= 0x30 && bytes[start + 1]! <= 0x39;
  const form = canonical ? 'S-expression' : 'extended (Key:)';
  const keygrips = file.keygrip ? [file.keygrip] : [];
  const algorithm = file.curve ? `${file.algorithm} ${file.curve}` : file.algorithm;
  const detections: Detection[] = [];
  if (fileName && KEY_FILE_NAME.test(fileName) && file.keygrip && fileName.slice(0, 40).toUpperCase() !== file.keygrip) {
    detections.push({ type: 'note', detector: gnupgAgentKeyFile.id, message: `key file name ${fileName} does not match the keygrip ${file.keygrip} of its public parameters` });
  }
  if (file.kind === 'shadowed') {
    detections.push({
      type: 'note',
      detector: gnupgAgentKeyFile.id,
      message: `GnuPG shadowed key (smartcard stub, no secret material), ${algorithm}, keygrip ${file.keygrip ?? 'unknown'}: not a leak`,
    });
    return { status: 'done', detections, length: file.length };
  }
  detections.push({
    type: 'finding',
    detector: gnupgAgentKeyFile.id,
    kind: `${file.kind === 'protected' ? 'protected-private-key' : 'private-key'}${canonical ? '-sexp' : ''}`,
    severity: 'critical',
    fingerprints: [],
    keygrips,
    excerpt: redactedExcerpt(`(${file.kind === 'protected' ? 'protected-' : ''}private-key (${file.algorithm} ...))`, file.length),
    message: `GnuPG agent key file, ${form} format, ${algorithm}, ${file.kind === 'protected' ? 'passphrase-protected (still a leak)' : 'not protected'}: keygrip ${file.keygrip ?? 'unknown (curve not supported)'}`,
  });
  return { status: 'done', detections, length: file.length };
}

const KEYFILE_LIMIT = 256 << 10;
const KEY_FILE_PREFIXES = ['(protected-', '(21:protected-', '(shadowed-', '(20:shadowed-', '(11:', '('];

/** A gpg-agent key S-expression: complete when it parses (or proves not to be one). */
class KeyFileHandler implements CaptureHandler {
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

/** The gpg-agent key file detector as a plug-in: `private-key` (trigger `p.....e`) after one of the S-expression prefixes. */
export const gnupgAgentKeyFileDetector: ContentDetector = {
  id: gnupgAgentKeyFile.id,
  info: gnupgAgentKeyFile,
  triggers: [textTrigger('private-key', 6)],
  lookahead: TEXT_LOOKAHEAD,
  start(bytes, index, _eof, context) {
    if (!startsWith(bytes, index, 'private-key')) return null;
    // What follows must open the algorithm list: `(rsa`, `(3:rsa`, ` (ecc`, folded or not.
    const after = latin1(bytes.subarray(index + 11, Math.min(bytes.length, index + 11 + 16)));
    if (!/^\s*\((?:\d:)?\s*(?:rsa|ecc|dsa|elg|ecdsa|ecdh|eddsa)\b/.test(after.replace(/\n[ \t]/g, ''))) return null;
    for (const prefix of KEY_FILE_PREFIXES) {
      if (startsWith(bytes, index - prefix.length, prefix)) return { startIndex: index - prefix.length, handler: new KeyFileHandler(context.fileName) };
    }
    return null;
  },
};
