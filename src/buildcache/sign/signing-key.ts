import * as openpgp from 'openpgp';
import { EicBuildError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { resolveSigningKey, type SigningKey } from '../../keys/resolve-signing-key.js';

/**
 * The key layer's SigningKey (one type for builds and signers alike) with its secret key parsed, ready
 * to sign in this process. Reports show its fingerprint and user ids, never the key.
 */
export interface UnlockedSigningKey extends SigningKey {
  key: openpgp.PrivateKey;
  userIds: string[];
}

/**
 * The signing key from `--signing-key FILE` or SPACK_SIGNING_KEY (and its passphrase variable),
 * resolved, decrypted and checked by the key layer (resolveSigningKey); never an ephemeral key: a
 * signature nobody can verify later is worth nothing in a mirror.
 */
export async function loadSigningKey(options: { file?: string; env: NodeJS.ProcessEnv; warn?: (message: string) => void }): Promise<UnlockedSigningKey> {
  const resolved = await resolveSigningKey({
    ...(options.file ? { signingKeyFile: options.file } : {}),
    env: options.env,
    ...(options.warn ? { warn: options.warn } : {}),
  });
  return unlockSigningKey(resolved);
}

/** Parse a resolved key (its armored secret is already unprotected) for signing in-process. */
export async function unlockSigningKey(resolved: SigningKey): Promise<UnlockedSigningKey> {
  registerSecret(resolved.armoredSecretKey);
  const key = await openpgp.readPrivateKey({ armoredKey: resolved.armoredSecretKey });
  try {
    await key.getSigningKey();
  } catch (error) {
    throw new EicBuildError('key-unusable', `the signing key ${resolved.fingerprint} cannot sign: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'use a key with a valid, unexpired signing (sub)key',
    });
  }
  return { ...resolved, key, userIds: key.getUserIDs() };
}
