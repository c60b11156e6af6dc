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

function signersOf(signatures: openpgp.Signature[], known: readonly TrustedKey[]): Signer[] {
  const signers: Signer[] = [];
  for (const signature of signatures) {
    for (const packet of signature.packets) {
      const keyId = packet.issuerKeyID.toHex().toUpperCase();
      const fpr = packet.issuerFingerprint ? Buffer.from(packet.issuerFingerprint).toString('hex').toUpperCase() : undefined;
      const owner = known.find((k) => k.keyIds.includes(keyId) || (fpr !== undefined && k.fingerprint === fpr));
      const signer: Signer = { keyId };
      if (owner) {
        signer.fingerprint = owner.fingerprint;
        signer.userIds = owner.userIds;
      } else if (fpr) signer.fingerprint = fpr;
      signers.push(signer);
    }
  }
  return signers;
}

async function check(
  message: openpgp.CleartextMessage | openpgp.Message<Uint8Array>,
  signatures: openpgp.Signature[],
  trusted: readonly TrustedKey[],
  informational: readonly TrustedKey[],
): Promise<SignatureCheck> {
  const signers = signersOf(signatures, [...trusted, ...informational]);
  if (signers.length === 0) return { kind: 'unsigned', detail: 'the document carries no signature' };
  const candidates = trusted.filter((k) => signers.some((s) => k.keyIds.includes(s.keyId)));
  if (candidates.length === 0) return { kind: 'untrusted-signer', signers };
  let failure: { detail: string; signer?: Signer } | undefined;
  for (const key of candidates) {
    try {
      const result =
        message instanceof openpgp.CleartextMessage
          ? await openpgp.verify({ message, verificationKeys: key.key, format: 'utf8', expectSigned: false })
          : await openpgp.verify({ message, verificationKeys: key.key, format: 'binary', expectSigned: false });
      for (const signature of result.signatures) {
        const signer = signers.find((s) => s.keyId === signature.keyID.toHex().toUpperCase());
        try {
          await signature.verified;
          return { kind: 'verified', signer: { ...(signer ?? { keyId: signature.keyID.toHex().toUpperCase() }), fingerprint: key.fingerprint, userIds: key.userIds }, text: typeof result.data === 'string' ? Buffer.from(result.data, 'utf8') : (result.data as Uint8Array) };
        } catch (error) {
          if (key.keyIds.includes(signature.keyID.toHex().toUpperCase())) {
            failure = { detail: error instanceof Error ? error.message : String(error), ...(signer ? { signer } : {}) };
          }
        }
      }
    } catch (error) {
      failure = { detail: error instanceof Error ? error.message : String(error) };
    }
  }
  return { kind: 'bad-signature', detail: failure?.detail ?? 'signature did not verify', ...(failure?.signer ? { signer: failure.signer } : {}) };
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
  // The typings omit it, but a CleartextMessage keeps its parsed signature (openpgp.js src/cleartext.js).
  return check(message, [(message as unknown as { signature: openpgp.Signature }).signature], trusted, informational);
}

/** Check a binary OpenPGP signed message (the containers/image signature format); `text` is its payload. */
export async function verifySignedMessage(bytes: Uint8Array, trusted: readonly TrustedKey[], informational: readonly TrustedKey[] = []): Promise<SignatureCheck> {
  let message: openpgp.Message<Uint8Array>;
  try {
    message = await openpgp.readMessage({ binaryMessage: bytes });
  } catch (error) {
    return { kind: 'bad-signature', detail: `unreadable OpenPGP message: ${error instanceof Error ? error.message : String(error)}` };
  }
  // One-pass signature packets name the signer before the payload; the trailing signature packets carry the fingerprint.
  const signaturePackets = message.packets.filterByTag(openpgp.enums.packet.signature) as unknown as openpgp.SignaturePacket[];
  const signatures = signaturePackets.length > 0 ? [new openpgp.Signature(signaturePackets as unknown as openpgp.PacketList<openpgp.SignaturePacket>)] : [];
  if (signatures.length === 0) {
    const onePass = message.packets.filterByTag(openpgp.enums.packet.onePassSignature);
    if (onePass.length === 0) return { kind: 'unsigned', detail: 'the OpenPGP message carries no signature' };
  }
  return check(message, signatures, trusted, informational);
}
