import * as openpgp from 'openpgp';
import { EicBuildError } from '../errors.js';
import { registerSecret } from '../redact.js';

/** Algorithms `key generate` offers: ed25519 (fast, default) or rsa4096 (the seed's recipe). */
export type KeyAlgorithm = 'ed25519' | 'rsa4096';
/** The accepted values of --algorithm. */
export const KEY_ALGORITHMS: readonly KeyAlgorithm[] = ['ed25519', 'rsa4096'];

/** Options for generateKey. */
export interface GenerateKeyOptions {
  name?: string;
  email?: string;
  algorithm?: KeyAlgorithm;
  /** Lifetime in seconds; 0 or absent: never expires (as in the seed's recipe). */
  expiresInSeconds?: number;
  /** Creation time (tests make old keys with it). */
  date?: Date;
}

/** A freshly made key. The secret is unprotected and already registered with the redactor. */
export interface GeneratedKey {
  armoredSecretKey: string;
  armoredPublicKey: string;
  /** Primary key fingerprint, upper-case hex. */
  fingerprint: string;
  keyId: string;
  algorithm: KeyAlgorithm;
  userId: string;
}

/** Default user ID name of generated keys. */
export const DEFAULT_KEY_NAME = 'Spack buildcache signing key';

/** Make an unprotected OpenPGP v4 signing key that GnuPG 2.2 (and so Spack) can import and use. */
export async function generateKey(options: GenerateKeyOptions = {}): Promise<GeneratedKey> {
  const algorithm = options.algorithm ?? 'ed25519';
  if (!KEY_ALGORITHMS.includes(algorithm)) {
    throw new EicBuildError('usage', `unknown key algorithm '${String(algorithm)}'`, { hint: `use one of: ${KEY_ALGORITHMS.join(', ')}` });
  }
  const userId: openpgp.UserID = { name: options.name ?? DEFAULT_KEY_NAME };
  if (options.email) userId.email = options.email;
  const common = {
    userIDs: [userId],
    keyExpirationTime: options.expiresInSeconds ?? 0,
    format: 'object' as const,
    ...(options.date ? { date: options.date } : {}),
  };
  // 'ecc' with the default curve gives EdDSA (legacy, v4) + cv25519: what gpg 2.2 understands.
  // v6 keys (RFC 9580) would not import into gpg 2.2, so they stay off (the OpenPGP.js 6 default).
  const { privateKey } =
    algorithm === 'rsa4096'
      ? // One RSA-4096 key that certifies and signs, no encryption subkey: exactly the seed's gpg recipe
        // (and half the generation time).
        await openpgp.generateKey({ ...common, type: 'rsa', rsaBits: 4096, subkeys: [] })
      : await openpgp.generateKey({ ...common, type: 'ecc' });
  const certified = await certifyWithGnupgPreferences(privateKey);
  const armoredSecretKey = certified.armor();
  registerSecret(armoredSecretKey);
  return {
    armoredSecretKey,
    armoredPublicKey: certified.toPublic().armor(),
    fingerprint: certified.getFingerprint().toUpperCase(),
    keyId: certified.getKeyID().toHex().toUpperCase(),
    algorithm,
    userId: certified.getUserIDs()[0] ?? '',
  };
}

/**
 * Digest preferences GnuPG 2.2 knows, in its own default order (SHA512 SHA384 SHA256 SHA224). OpenPGP.js 6
 * always adds SHA3-512 and SHA3-256 (ids 14, 12) to a user ID's self-signature (its config can only reorder
 * that list), and GnuPG 2.2 then warns "contains preferences for unavailable algorithms" whenever the secret
 * key is imported (`gpg --import`, `spack gpg trust` of the key in a signing step).
 */
export const GNUPG_HASH_PREFERENCES: readonly openpgp.enums.hash[] = [openpgp.enums.hash.sha512, openpgp.enums.hash.sha384, openpgp.enums.hash.sha256, openpgp.enums.hash.sha224];

/**
 * Replace each user ID self-signature with one that is the same except for its digest preferences
 * (GNUPG_HASH_PREFERENCES), made at the same time with the same key; the symmetric (AES-256, AES-128) and
 * compression preferences OpenPGP.js writes are ones GnuPG 2.2 knows and are kept. Subkey bindings carry no
 * preferences. Returns the key read back from its armor, checked to verify.
 */
async function certifyWithGnupgPreferences(key: openpgp.PrivateKey): Promise<openpgp.PrivateKey> {
  for (const user of key.users) {
    if (!user.userID) continue;
    const userID = user.userID;
    user.selfCertifications = await Promise.all(
      user.selfCertifications.map(async (previous) => {
        const certification = new openpgp.SignaturePacket();
        certification.signatureType = previous.signatureType;
        certification.publicKeyAlgorithm = previous.publicKeyAlgorithm;
        certification.hashAlgorithm = previous.hashAlgorithm;
        certification.keyFlags = previous.keyFlags;
        certification.isPrimaryUserID = previous.isPrimaryUserID;
        certification.keyExpirationTime = previous.keyExpirationTime;
        certification.keyNeverExpires = previous.keyNeverExpires;
        certification.preferredSymmetricAlgorithms = previous.preferredSymmetricAlgorithms;
        certification.preferredCompressionAlgorithms = previous.preferredCompressionAlgorithms;
        certification.features = previous.features;
        certification.preferredHashAlgorithms = [...GNUPG_HASH_PREFERENCES];
        // The typings omit sign()'s config argument, which OpenPGP.js 6 reads (salt notation setting).
        const sign = certification.sign as (key: openpgp.SecretKeyPacket, data: object, date: Date | undefined, detached: boolean, config: openpgp.Config) => Promise<void>;
        await sign.call(certification, key.keyPacket as openpgp.SecretKeyPacket, { userID, key: key.keyPacket }, previous.created ?? undefined, false, openpgp.config);
        return certification;
      }),
    );
  }
  const reread = await openpgp.readPrivateKey({ armoredKey: key.armor() });
  // Throws if the new self-signatures do not verify: never hand out a key GnuPG would reject. Checked at
  // the key's creation time: a key made with a past `date` and a lifetime may have expired since.
  await reread.verifyPrimaryKey(reread.keyPacket.created);
  return reread;
}
