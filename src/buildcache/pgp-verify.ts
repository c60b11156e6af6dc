import * as openpgp from 'openpgp';
import type { TrustedKey } from './trust.js';

/** Who made a signature, as far as the signature itself says. */
export interface Signer {
  keyId: string;
  fingerprint?: string;
  userIds?: string[];
}

/** Outcome of checking one signed document against the pinned keys. */
export type SignatureCheck =
  | { kind: 'verified'; signer: Signer; text: Uint8Array }
  | { kind: 'unsigned'; detail: string }
  | { kind: 'bad-signature'; detail: string; signer?: Signer }
  | { kind: 'untrusted-signer'; signers: Signer[] };

const CLEARSIGN_HEADER = '-----BEGIN PGP SIGNED MESSAGE-----';

/** True when the text is an OpenPGP clearsigned message. */
export function isClearsigned(text: string): boolean {
  return text.trimStart().startsWith(CLEARSIGN_HEADER);
}

function signerOf(keyId: string, fingerprint: string | undefined, known: readonly TrustedKey[]): Signer {
  const owner = known.find((k) => k.keyIds.includes(keyId) || (fingerprint !== undefined && k.fingerprint === fingerprint));
  const signer: Signer = { keyId };
  if (owner) {
    signer.fingerprint = owner.fingerprint;
    signer.userIds = owner.userIds;
  } else if (fingerprint) signer.fingerprint = fingerprint;
  return signer;
}

async function check(
  message: openpgp.CleartextMessage | openpgp.Message<Uint8Array>,
  trusted: readonly TrustedKey[],
  informational: readonly TrustedKey[],
): Promise<SignatureCheck> {
  const verificationKeys = trusted.map((k) => k.key);
  let result: openpgp.VerifyMessageResult<string | Uint8Array>;
  try {
    result =
      message instanceof openpgp.CleartextMessage
        ? await openpgp.verify({ message, verificationKeys, format: 'utf8', expectSigned: false })
        : await openpgp.verify({ message, verificationKeys, format: 'binary', expectSigned: false });
  } catch (error) {
    return { kind: 'bad-signature', detail: error instanceof Error ? error.message : String(error) };
  }
  if (result.signatures.length === 0) return { kind: 'unsigned', detail: 'the document carries no signature' };
  const untrusted: Signer[] = [];
  let bad: { detail: string; signer: Signer } | undefined;
  for (const entry of result.signatures) {
    const keyId = entry.keyID.toHex().toUpperCase();
    let fingerprint: string | undefined;
    try {
      const packet = (await entry.signature).packets[0];
      if (packet?.issuerFingerprint) fingerprint = Buffer.from(packet.issuerFingerprint).toString('hex').toUpperCase();
    } catch {
      // a malformed signature packet: reported below through `verified`
    }
    const signer = signerOf(keyId, fingerprint, [...trusted, ...informational]);
    const pinned = trusted.find((k) => k.keyIds.includes(keyId));
    if (!pinned) {
      untrusted.push(signer);
      await entry.verified.catch(() => undefined);
      continue;
    }
    try {
      await entry.verified;
      const text = typeof result.data === 'string' ? Buffer.from(result.data, 'utf8') : result.data;
      return { kind: 'verified', signer: { ...signer, fingerprint: pinned.fingerprint, userIds: pinned.userIds }, text };
    } catch (error) {
      bad = { detail: error instanceof Error ? error.message : String(error), signer };
    }
  }
  if (bad) return { kind: 'bad-signature', detail: bad.detail, signer: bad.signer };
  return { kind: 'untrusted-signer', signers: untrusted };
}

/**
 * Check a clearsigned text (what Spack writes for spec manifests) against the pinned keys.
 * `informational` keys (published in the mirror) only name a signer, they never make it trusted.
 */
export async function verifyClearsigned(text: string, trusted: readonly TrustedKey[], informational: readonly TrustedKey[] = []): Promise<SignatureCheck> {
  if (!isClearsigned(text)) return { kind: 'unsigned', detail: 'not a clearsigned document (no PGP SIGNED MESSAGE header)' };
  let message: openpgp.CleartextMessage;
  try {
    message = await openpgp.readCleartextMessage({ cleartextMessage: text });
  } catch (error) {
    return { kind: 'bad-signature', detail: `unreadable clearsigned message: ${error instanceof Error ? error.message : String(error)}` };
  }
  return check(message, trusted, informational);
}

/** Check a binary OpenPGP signed message (the containers/image signature format); `text` is its payload. */
export async function verifySignedMessage(bytes: Uint8Array, trusted: readonly TrustedKey[], informational: readonly TrustedKey[] = []): Promise<SignatureCheck> {
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: bytes });
  } catch (error) {
    return { kind: 'bad-signature', detail: `unreadable OpenPGP message: ${error instanceof Error ? error.message : String(error)}` };
  }
  return check(message, trusted, informational);
}
