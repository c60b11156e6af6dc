/**
 * What a key input looks like before any OpenPGP parsing: armored text, base64 of armored text
 * (how CI systems often store multi-line secrets), binary OpenPGP, or something else. Pure.
 */
export type KeyText =
  | { kind: 'armored'; armored: string; block: 'private' | 'public'; encoding: 'text' | 'base64' }
  | { kind: 'binary'; block: 'private' | 'public'; encoding: 'raw' | 'base64' }
  | { kind: 'not-a-key'; reason: NotAKeyReason };

/** Why an input is not an OpenPGP key, so the message can say what it is instead. */
export type NotAKeyReason = 'empty' | 'pgp-message' | 'pgp-signature' | 'other-armor' | 'pem-or-ssh' | 'unknown';

const ARMOR_BEGIN = /-----BEGIN PGP ([A-Z ,/0-9]+)-----/;
const BASE64_ONLY = /^[A-Za-z0-9+/=\n]{16,}$/;
// OpenPGP packet tags of a key's first packet: 5 secret key, 6 public key.
const SECRET_KEY_TAG = 5;
const PUBLIC_KEY_TAG = 6;

/** The tag of the first OpenPGP packet in `bytes`, or undefined when it is not a packet header. */
export function firstPacketTag(bytes: Uint8Array): number | undefined {
  const first = bytes[0];
  if (first === undefined || (first & 0x80) === 0) return undefined;
  // New format (bit 6 set): tag in the low 6 bits; old format: bits 5..2.
  return (first & 0x40) !== 0 ? first & 0x3f : (first >> 2) & 0x0f;
}

/** Header length and body length of the first packet, when its header is complete. */
function firstPacketLengths(bytes: Uint8Array): { header: number; body: number } | undefined {
  const first = bytes[0] ?? 0;
  if ((first & 0x40) === 0) {
    const type = first & 0x03;
    const size = [1, 2, 4][type];
    if (size === undefined || bytes.length < 1 + size) return undefined;
    let body = 0;
    for (let i = 1; i <= size; i++) body = body * 256 + (bytes[i] ?? 0);
    return { header: 1 + size, body };
  }
  const l0 = bytes[1] ?? 0;
  if (l0 < 192) return { header: 2, body: l0 };
  if (l0 < 224) return { header: 3, body: ((l0 - 192) << 8) + (bytes[2] ?? 0) + 192 };
  if (l0 === 255 && bytes.length >= 6) return { header: 6, body: ((bytes[2] ?? 0) * 2 ** 24) + ((bytes[3] ?? 0) << 16) + ((bytes[4] ?? 0) << 8) + (bytes[5] ?? 0) };
  return undefined;
}

function classifyBinary(bytes: Uint8Array, encoding: 'raw' | 'base64'): KeyText | undefined {
  const tag = firstPacketTag(bytes);
  if (tag !== SECRET_KEY_TAG && tag !== PUBLIC_KEY_TAG) return undefined;
  // Demand a plausible key packet (complete, version 4-6), so stray bytes are not taken for a key.
  const lengths = firstPacketLengths(bytes);
  const version = lengths ? bytes[lengths.header] : undefined;
  if (!lengths || lengths.body < 6 || lengths.header + lengths.body > bytes.length || version === undefined || version < 4 || version > 6) return undefined;
  return { kind: 'binary', block: tag === SECRET_KEY_TAG ? 'private' : 'public', encoding };
}

function classifyArmored(text: string, encoding: 'text' | 'base64'): KeyText | undefined {
  const begin = ARMOR_BEGIN.exec(text);
  if (!begin) {
    if (/-----BEGIN [A-Z0-9 ]*(PRIVATE KEY|PUBLIC KEY)-----|^ssh-(rsa|ed25519) /m.test(text)) return { kind: 'not-a-key', reason: 'pem-or-ssh' };
    return undefined;
  }
  const type = begin[1];
  // Start at the BEGIN line: CI systems sometimes prepend a label or a blank line.
  const armored = `${text.slice(begin.index).trim()}\n`;
  if (type === 'PRIVATE KEY BLOCK') return { kind: 'armored', armored, block: 'private', encoding };
  if (type === 'PUBLIC KEY BLOCK') return { kind: 'armored', armored, block: 'public', encoding };
  if (type === 'MESSAGE') return { kind: 'not-a-key', reason: 'pgp-message' };
  if (type === 'SIGNATURE' || type === 'SIGNED MESSAGE') return { kind: 'not-a-key', reason: 'pgp-signature' };
  return { kind: 'not-a-key', reason: 'other-armor' };
}

/**
 * Normalise the ways a multi-line secret gets mangled on its way through a CI system: CRLF line
 * ends, and literal "\n" sequences where a one-line field could not hold real newlines.
 */
export function normaliseKeyText(text: string): string {
  let out = text.replace(/\r\n?/g, '\n');
  if (!out.includes('\n') && out.includes('\\n')) out = out.replace(/\\n/g, '\n');
  return out.trim();
}

/** Classify a key input given as text (environment variable) or bytes (file). */
export function parseKeyText(input: string | Uint8Array): KeyText {
  if (typeof input !== 'string') {
    const binary = classifyBinary(input, 'raw');
    if (binary) return binary;
    return parseKeyText(Buffer.from(input).toString('utf8'));
  }
  const text = normaliseKeyText(input);
  if (text === '') return { kind: 'not-a-key', reason: 'empty' };
  const armored = classifyArmored(text, 'text');
  if (armored) return armored;
  if (BASE64_ONLY.test(text)) {
    const decoded = Buffer.from(text.replace(/\n/g, ''), 'base64');
    const fromBase64 = classifyArmored(normaliseKeyText(decoded.toString('utf8')), 'base64') ?? classifyBinary(decoded, 'base64');
    if (fromBase64) return fromBase64;
  }
  return { kind: 'not-a-key', reason: 'unknown' };
}
