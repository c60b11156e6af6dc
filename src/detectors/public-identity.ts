import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';

/**
 * Public identities of private keys, so that a finding can be recognised (a well-known test key, an
 * allowed key) without keeping anything secret. Forms:
 * - `SPKI-SHA256:<base64>`: SHA-256 of the DER SubjectPublicKeyInfo of a PEM key's public half
 *   (the value `openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary | base64` prints);
 * - `SHA256:<base64>`: SHA-256 of an OpenSSH public key blob (what `ssh-keygen -l` prints);
 * - 40/64 hex digits: an OpenPGP fingerprint or a GnuPG keygrip (compared case-insensitively).
 */
export type PublicIdentity = string;

function base64NoPad(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}

/**
 * The `SPKI-SHA256:` identity of an unencrypted PEM private key (`type` is the PEM label, `der` its
 * decoded body), or null when node:crypto cannot read it (encrypted, unsupported algorithm, corrupt).
 * The key object lives only in this call's memory.
 */
export function pemPublicIdentity(type: string, der: Uint8Array): PublicIdentity | null {
  if (type.startsWith('ENCRYPTED')) return null;
  // No empty line before END (OpenSSL rejects it) when the base64 length is a multiple of 64.
  const body = (
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? []
  ).join('\n');
  try {
    const key = createPrivateKey({ key: `-----BEGIN ${type}-----\n${body}\n-----END ${type}-----\n`, format: 'pem' });
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    return `SPKI-SHA256:${base64NoPad(createHash('sha256').update(spki).digest())}`;
  } catch {
    return null;
  }
}

/**
 * The catalogue-only identity (`DER-SHA256:<base64>`) of a private key whose public half node:crypto
 * cannot derive (GOST keys in PKCS#8). It hashes the private DER, so it is NEVER reported: it only
 * recognises keys that are public knowledge already (the built-in catalogue).
 */
export function privateDerCatalogueId(der: Uint8Array): string {
  return `DER-SHA256:${base64NoPad(createHash('sha256').update(der).digest())}`;
}

/** The `SHA256:` identity (ssh-keygen -l) of an OpenSSH public key blob. */
export function opensshPublicIdentity(blob: Uint8Array): PublicIdentity {
  return `SHA256:${base64NoPad(createHash('sha256').update(blob).digest())}`;
}

/**
 * The canonical form of an identity given by a user or the catalogue: hex upper-cased (spaces and
 * colons dropped, as gpg prints fingerprints), prefixes upper-cased, base64 without padding. Null
 * when it is none of the known forms.
 */
export function normalizeIdentity(text: string): PublicIdentity | null {
  const trimmed = text.trim();
  const prefixed = /^(SPKI-SHA256|SHA256|DER-SHA256):([A-Za-z0-9+/]{43})=?$/i.exec(trimmed);
  if (prefixed) return `${prefixed[1]!.toUpperCase()}:${prefixed[2]!}`;
  const hex = trimmed.replace(/[\s:]/g, '').replace(/^0x/i, '');
  if (/^(?:[0-9A-Fa-f]{40}|[0-9A-Fa-f]{64})$/.test(hex)) return hex.toUpperCase();
  return null;
}
