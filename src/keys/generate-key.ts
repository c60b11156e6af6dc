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
  const armoredSecretKey = privateKey.armor();
  registerSecret(armoredSecretKey);
  return {
    armoredSecretKey,
    armoredPublicKey: privateKey.toPublic().armor(),
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    keyId: privateKey.getKeyID().toHex().toUpperCase(),
    algorithm,
    userId: privateKey.getUserIDs()[0] ?? '',
  };
}
