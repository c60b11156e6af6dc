import { PacketTag, readPacketHeader } from '../pgp/packet-header.js';

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
function classifyBinary(bytes: Uint8Array, encoding: 'raw' | 'base64'): KeyText | undefined {
  const header = readPacketHeader(bytes, 0);
  if (!header || (header.tag !== PacketTag.secretKey && header.tag !== PacketTag.publicKey)) return undefined;
  // Demand a plausible key packet (complete, definite length, version 4-6), so stray bytes are not taken for a key.
  const version = bytes[header.headerLength];
  if (header.partial || header.bodyLength === null || header.bodyLength < 6 || header.headerLength + header.bodyLength > bytes.length) return undefined;
  if (version === undefined || version < 4 || version > 6) return undefined;
  return { kind: 'binary', block: header.tag === PacketTag.secretKey ? 'private' : 'public', encoding };
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
