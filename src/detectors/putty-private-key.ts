import { latin1, type Capture, type CaptureHandler } from './capture.js';
import { TEXT_LOOKAHEAD, type ContentDetector } from './content-detector.js';
import { redactedExcerpt } from './excerpt.js';
import { opensshPublicIdentity } from './public-identity.js';
import { textTrigger } from './trigger.js';
import type { Detection, DetectorInfo } from './types.js';

/** PuTTY private key files (`.ppk`, formats 2 and 3), encrypted or not. */
export const puttyPrivateKey: DetectorInfo = {
  id: 'putty-private-key',
  title: 'PuTTY private key file (.ppk v2/v3)',
  severity: 'high',
  docs: 'docs/detectors/putty-private-key.md',
};

const MAGIC = 'PuTTY-User-Key-File-';
/** Largest .ppk captured (an RSA-16384 key file is about 12 KiB). */
const PPK_LIMIT = 64 << 10;
const MAX_LINES = 1024;

/** What a .ppk file says about itself; never holds private bytes. */
export type PpkSummary = { version: 2 | 3; keyType: string; encryption: string; kdf: string | null; publicBlob: Uint8Array };

/**
 * The key file as puttygen wrote it, from the forms it is pasted in: a JSON string (`\n`, `\r\n`,
 * `\/` escapes) and a YAML block (every line after the header indented alike).
 */
export function unwrapPpkText(text: string): string {
  let out = text;
  if (/^PuTTY-User-Key-File-[23]: [a-z0-9@.-]{3,64}\\(r\\)?n/.test(out)) {
    out = out.replace(/\\r\\n|\\n/g, '\n').replace(/\\\//g, '/');
  }
  const lines = out.split('\n');
  const indent = /^([ \t]+)Encryption: /.exec(lines[1] ?? '')?.[1];
  if (indent) out = lines.map((line, i) => (i > 0 && line.startsWith(indent) ? line.slice(indent.length) : line)).join('\n');
  return out;
}

/**
 * Parse a PuTTY key file (`text` starts at `PuTTY-User-Key-File-`): header lines in their order, the
 * public blob (an SSH wire-format key whose type must be the header's), the private lines, and a MAC
 * of the length its version uses. A reason when it is not one.
 */
export function parsePpk(text: string): PpkSummary | { error: string } {
  const lines = unwrapPpkText(text).split(/\r?\n/);
  let at = 0;
  const next = (): string | undefined => lines[at++];
  const head = /^PuTTY-User-Key-File-([23]): ([a-z0-9@.-]{3,64})$/.exec(next() ?? '');
  if (!head) return { error: 'no PuTTY-User-Key-File-2/3 header with a key type' };
  const version = head[1] === '2' ? 2 : 3;
  const keyType = head[2]!;
  const encryption = /^Encryption: (none|aes256-cbc)$/.exec(next() ?? '')?.[1];
  if (!encryption) return { error: 'no Encryption line (none or aes256-cbc)' };
  if (!/^Comment: /.test(next() ?? '')) return { error: 'no Comment line' };
  const block = (label: string): Uint8Array | null => {
    const count = new RegExp(`^${label}-Lines: (\\d{1,4})$`).exec(next() ?? '');
    if (!count || Number(count[1]) < 1 || Number(count[1]) > MAX_LINES) return null;
    const body = lines.slice(at, at + Number(count[1]));
    at += body.length;
    if (body.length !== Number(count[1]) || !body.every((line) => /^[A-Za-z0-9+/]+={0,2}$/.test(line))) return null;
    return Buffer.from(body.join(''), 'base64');
  };
  const publicBlob = block('Public');
  if (!publicBlob || publicBlob.length < 8) return { error: 'no readable Public-Lines block' };
  const typeLength = Buffer.from(publicBlob).readUInt32BE(0);
  if (typeLength + 4 > publicBlob.length || latin1(publicBlob.subarray(4, 4 + typeLength)) !== keyType) return { error: 'the public blob is not a key of the header type' };
  let kdf: string | null = null;
  if (version === 3 && encryption !== 'none') {
    kdf = /^Key-Derivation: (Argon2id|Argon2i|Argon2d)$/.exec(next() ?? '')?.[1] ?? null;
    const parameters = [next(), next(), next(), next()];
    if (
      !kdf ||
      !/^Argon2-Memory: \d+$/.test(parameters[0] ?? '') ||
      !/^Argon2-Passes: \d+$/.test(parameters[1] ?? '') ||
      !/^Argon2-Parallelism: \d+$/.test(parameters[2] ?? '') ||
      !/^Argon2-Salt: [0-9a-f]+$/.test(parameters[3] ?? '')
    ) {
      return { error: 'no readable Argon2 key-derivation lines' };
    }
  }
  const privateBlob = block('Private');
  if (!privateBlob || privateBlob.length < 4 || (encryption !== 'none' && privateBlob.length % 16 !== 0)) return { error: 'no readable Private-Lines block' };
  // The line may end a JSON string (`…"`) or a YAML flow value.
  const mac = /^Private-MAC: ([0-9a-f]+)(?:$|[^0-9A-Za-z])/.exec(next() ?? '')?.[1];
  if (!mac || mac.length !== (version === 2 ? 40 : 64)) return { error: 'no Private-MAC line of the right length' };
  return { version, keyType, encryption, kdf, publicBlob };
}

/** Validate a captured .ppk file. */
export function validatePpk(text: string): Detection[] {
  const parsed = parsePpk(text);
  if ('error' in parsed)
    return [{ type: 'note', detector: puttyPrivateKey.id, message: `"${MAGIC}" header with a key file that could not be validated (${parsed.error}); check it by hand` }];
  const identity = opensshPublicIdentity(parsed.publicBlob);
  const header = `${MAGIC}${parsed.version}: ${parsed.keyType}`;
  const protection =
    parsed.encryption === 'none'
      ? 'not encrypted'
      : `encrypted with ${parsed.encryption}${parsed.kdf ? ` and ${parsed.kdf}` : ''} (still a leak: the passphrase can be attacked offline)`;
  return [
    {
      type: 'finding',
      detector: puttyPrivateKey.id,
      kind: `ppk-v${parsed.version}`,
      severity: 'high',
      // The public blob's hash, as `ssh-keygen -l` prints it for the same key in OpenSSH form.
      fingerprints: [identity],
      keygrips: [],
      excerpt: redactedExcerpt(header, text.length - header.length),
      message: `PuTTY private key file v${parsed.version} (${parsed.keyType}, ${protection}), public key ${identity}`,
    },
  ];
}

const MAC_LABEL = 'Private-MAC: ';
const isHex = (byte: number): boolean => (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66);

/**
 * A .ppk file: complete at the end of its MAC, whose line starts after a newline, an indent (YAML)
 * or a `\n` escape (JSON).
 */
class PpkHandler implements CaptureHandler {
  readonly limit = PPK_LIMIT;
  private end = -1;
  /** Where the MAC's label starts, once seen (its hex may arrive in later chunks). */
  private mac = -1;
  progress(capture: Capture, from: number): boolean {
    const bytes = Buffer.from(capture.bytes().buffer, capture.bytes().byteOffset, capture.length);
    for (let at = bytes.indexOf(MAC_LABEL, Math.max(1, from - MAC_LABEL.length - 1), 'latin1'); this.mac === -1 && at !== -1; at = bytes.indexOf(MAC_LABEL, at + 1, 'latin1')) {
      const before = bytes[at - 1]!;
      if (before === 0x0a || before === 0x20 || before === 0x09 || (before === 0x6e && bytes[at - 2] === 0x5c)) this.mac = at;
    }
    if (this.mac === -1) return false;
    let end = this.mac + MAC_LABEL.length;
    while (end < bytes.length && isHex(bytes[end]!)) end++;
    if (end === bytes.length) return false;
    this.end = end;
    return true;
  }
  finish(capture: Capture): Detection[] {
    const bytes = capture.bytes();
    return validatePpk(latin1(this.end === -1 ? bytes : bytes.subarray(0, this.end)).replace(/\r$/, ''));
  }
}

/** The .ppk detector as a plug-in: `PuTTY-User-Key-File-` (trigger `P.T`). */
export const puttyPrivateKeyDetector: ContentDetector = {
  id: puttyPrivateKey.id,
  info: puttyPrivateKey,
  triggers: [textTrigger(MAGIC, 2)],
  lookahead: TEXT_LOOKAHEAD,
  start: (bytes, index) => (latin1(bytes.subarray(index, index + MAGIC.length)) === MAGIC ? { startIndex: index, handler: new PpkHandler() } : null),
};
