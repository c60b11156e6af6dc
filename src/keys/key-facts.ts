import * as openpgp from 'openpgp';

/** Whether a (sub)key's secret half is in the input, and in what state. */
export type SecretState = 'present' | 'protected' | 'absent' | 'stub';

/** Plain facts about one primary key or subkey: what the checks and `key inspect` work from. */
export interface KeyPartFacts {
  role: 'primary' | 'subkey';
  /** Upper-case hex, as gpg prints it. */
  fingerprint: string;
  /** Upper-case 16-hex-digit long key ID. */
  keyId: string;
  /** OpenPGP.js algorithm name: rsaEncryptSign, eddsaLegacy, ecdh, ecdsa, ed25519, ... */
  algorithm: string;
  bits?: number;
  curve?: string;
  created: Date;
  /** null: never expires. */
  expires: Date | null;
  canSign: boolean;
  canCertify: boolean;
  canEncrypt: boolean;
  revoked: boolean;
  secret: SecretState;
}

/** Everything `key inspect` reports and the checks read, about one OpenPGP key (certificate). */
export interface KeyFacts {
  primary: KeyPartFacts;
  subkeys: KeyPartFacts[];
  userIds: string[];
  /** The input's secret material was passphrase-protected (even if it was decrypted since). */
  passphraseProtected: boolean;
}

const SIGN_ALGORITHMS = new Set(['rsaEncryptSign', 'rsaSign', 'dsa', 'ecdsa', 'eddsaLegacy', 'ed25519', 'ed448']);
const ENCRYPT_ALGORITHMS = new Set(['rsaEncryptSign', 'rsaEncrypt', 'elgamal', 'ecdh', 'x25519', 'x448']);

function latest<T extends { created: Date | null }>(signatures: T[]): T | undefined {
  return [...signatures].sort((a, b) => (b.created?.getTime() ?? 0) - (a.created?.getTime() ?? 0))[0];
}

function flagsOf(signature: openpgp.SignaturePacket | undefined, algorithm: string) {
  const flags = signature?.keyFlags?.[0];
  // Without a key-flags subpacket, what the algorithm can do is what the key may do (RFC 4880 5.2.3.21).
  if (flags === undefined || flags === null) {
    return { canSign: SIGN_ALGORITHMS.has(algorithm), canCertify: SIGN_ALGORITHMS.has(algorithm), canEncrypt: ENCRYPT_ALGORITHMS.has(algorithm) };
  }
  const { signData, certifyKeys, encryptCommunication, encryptStorage } = openpgp.enums.keyFlags;
  return {
    canSign: (flags & signData) !== 0 && SIGN_ALGORITHMS.has(algorithm),
    canCertify: (flags & certifyKeys) !== 0,
    canEncrypt: (flags & (encryptCommunication | encryptStorage)) !== 0,
  };
}

function secretStateOf(packet: openpgp.Key['keyPacket'] | openpgp.Subkey['keyPacket']): SecretState {
  if (!(packet instanceof openpgp.SecretKeyPacket) && !(packet instanceof openpgp.SecretSubkeyPacket)) return 'absent';
  if (packet.isDummy()) return 'stub';
  return packet.isDecrypted() ? 'present' : 'protected';
}

function normaliseExpiry(value: Date | number | null): Date | null {
  // OpenPGP.js says Infinity for "never"; null when it could not tell, which for our purposes is "never".
  return value instanceof Date ? value : null;
}

async function partFacts(
  part: openpgp.Key | openpgp.Subkey,
  role: 'primary' | 'subkey',
  selfSignature: openpgp.SignaturePacket | undefined,
  expires: Date | null,
  revoked: boolean,
): Promise<KeyPartFacts> {
  const info = part.getAlgorithmInfo();
  const algorithm = String(info.algorithm);
  const facts: KeyPartFacts = {
    role,
    fingerprint: part.getFingerprint().toUpperCase(),
    keyId: part.getKeyID().toHex().toUpperCase(),
    algorithm,
    created: part.getCreationTime(),
    expires,
    ...flagsOf(selfSignature, algorithm),
    revoked,
    secret: secretStateOf(part.keyPacket),
  };
  if (info.bits !== undefined) facts.bits = info.bits;
  if (info.curve !== undefined) facts.curve = String(info.curve);
  return facts;
}

/** Gather the facts of one parsed key. Time-independent: validity at a date is for the checks to judge. */
export async function keyFactsOf(key: openpgp.Key, passphraseProtected?: boolean): Promise<KeyFacts> {
  const userSignatures = key.users.flatMap((user) => user.selfCertifications);
  const primaryUserSignature = latest(userSignatures.filter((signature) => signature.isPrimaryUserID)) ?? latest(userSignatures);
  const primaryExpiry = normaliseExpiry(await key.getExpirationTime().catch(() => null));
  const primaryRevoked = await key.isRevoked().catch(() => false);
  const primary = await partFacts(key, 'primary', primaryUserSignature, primaryExpiry, primaryRevoked);

  const subkeys: KeyPartFacts[] = [];
  for (const subkey of key.subkeys) {
    const binding = latest(subkey.bindingSignatures);
    let expires = normaliseExpiry(await subkey.getExpirationTime().catch(() => null));
    // A subkey is never valid longer than its primary key.
    if (primaryExpiry && (!expires || expires > primaryExpiry)) expires = primaryExpiry;
    // isRevoked(null, null) asks: is there any valid revocation signature for this subkey.
    const revoked = await subkey.isRevoked(null as unknown as openpgp.SignaturePacket, null as unknown as openpgp.PublicKeyPacket).catch(() => false);
    const facts = await partFacts(subkey, 'subkey', binding, expires, revoked);
    // A signing subkey must carry an embedded back-signature, or no implementation will use it.
    if (facts.canSign && !binding?.embeddedSignature) facts.canSign = false;
    subkeys.push(facts);
  }
  const parts = [primary, ...subkeys];
  return {
    primary,
    subkeys,
    userIds: key.getUserIDs(),
    passphraseProtected: passphraseProtected ?? parts.some((part) => part.secret === 'protected'),
  };
}

/** Human name of an algorithm with its size: "RSA 4096", "EdDSA ed25519". */
export function formatAlgorithm(part: Pick<KeyPartFacts, 'algorithm' | 'bits' | 'curve'>): string {
  const names: Record<string, string> = {
    rsaEncryptSign: 'RSA',
    rsaSign: 'RSA (sign only)',
    rsaEncrypt: 'RSA (encrypt only)',
    dsa: 'DSA',
    elgamal: 'ElGamal',
    ecdsa: 'ECDSA',
    ecdh: 'ECDH',
    eddsaLegacy: 'EdDSA',
    ed25519: 'Ed25519',
    ed448: 'Ed448',
    x25519: 'X25519',
    x448: 'X448',
  };
  const name = names[part.algorithm] ?? part.algorithm;
  if (part.bits !== undefined) return `${name} ${part.bits}`;
  if (part.curve !== undefined) return `${name} ${part.curve.replace(/Legacy$/, '')}`;
  return name;
}
