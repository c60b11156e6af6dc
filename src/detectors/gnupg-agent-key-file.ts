import { parseGnupgKeyFile } from '../pgp/gnupg-key-file.js';
import { redactedExcerpt } from './excerpt.js';
import type { Detection, DetectorInfo } from './types.js';

/** gpg-agent key files (`private-keys-v1.d/<keygrip>.key`): extended `Key:` format and the older S-expression. */
export const gnupgAgentKeyFile: DetectorInfo = {
  id: 'gnupg-agent-key-file',
  title: 'GnuPG agent private key file (private-keys-v1.d)',
  severity: 'critical',
  docs: 'docs/detectors/gnupg-agent-key-file.md',
};

/** The outcome of validating a key-file S-expression that may still be cut off. */
export type KeyFileVerdict = { status: 'incomplete' } | { status: 'done'; detections: Detection[]; length: number };

/** Validate the S-expression at `start` of `bytes` (the '(' before `private-key` and friends). */
export function validateKeyFileSexp(bytes: Uint8Array, start: number, fileName: string | null): KeyFileVerdict {
  const parsed = parseGnupgKeyFile(bytes, start);
  if (parsed.kind === 'incomplete') return { status: 'incomplete' };
  if (parsed.kind === 'invalid') return { status: 'done', detections: [], length: 0 };
  const file = parsed.file;
  const canonical = bytes[start + 1]! >= 0x30 && bytes[start + 1]! <= 0x39;
  const form = canonical ? 'S-expression' : 'extended (Key:)';
  const keygrips = file.keygrip ? [file.keygrip] : [];
  const algorithm = file.curve ? `${file.algorithm} ${file.curve}` : file.algorithm;
  const detections: Detection[] = [];
  if (fileName && /^[0-9A-Fa-f]{40}\.key$/.test(fileName) && file.keygrip && fileName.slice(0, 40).toUpperCase() !== file.keygrip) {
    detections.push({ type: 'note', detector: gnupgAgentKeyFile.id, message: `key file name ${fileName} does not match the keygrip ${file.keygrip} of its public parameters` });
  }
  if (file.kind === 'shadowed') {
    detections.push({ type: 'note', detector: gnupgAgentKeyFile.id, message: `GnuPG shadowed key (smartcard stub, no secret material), ${algorithm}, keygrip ${file.keygrip ?? 'unknown'}: not a leak` });
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
