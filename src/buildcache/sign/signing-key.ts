import * as openpgp from 'openpgp';
import { EicBuildError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import { resolveSigningKey } from '../../keys/resolve-signing-key.js';
import { PASSPHRASE_VARIABLE } from '../../keys/key-checks.js';

/** A private key ready to sign, with the facts a report may show (never the key itself). */
export interface SigningKey {
  key: openpgp.PrivateKey;
  fingerprint: string;
  userIds: string[];
}

/**
 * The signing key from `--signing-key FILE` or SPACK_SIGNING_KEY (and its passphrase variable),
 * resolved and checked by the key layer (resolveSigningKey); never an ephemeral key: a signature
 * nobody can verify later is worth nothing in a mirror.
 */
export async function loadSigningKey(options: { file?: string; env: NodeJS.ProcessEnv; warn?: (message: string) => void }): Promise<SigningKey> {
  const resolved = await resolveSigningKey({
    ...(options.file ? { signingKeyFile: options.file } : {}),
    env: options.env,
    ...(options.warn ? { warn: options.warn } : {}),
  });
  registerSecret(resolved.armoredSecretKey);
  let key = await openpgp.readPrivateKey({ armoredKey: resolved.armoredSecretKey });
  if (!key.isDecrypted()) {
    const passphrase = options.env[PASSPHRASE_VARIABLE];
    if (!passphrase) {
      throw new EicBuildError('key-protected', 'the signing key is protected by a passphrase', { hint: `set ${PASSPHRASE_VARIABLE} or use a key without passphrase` });
    }
    key = await openpgp.decryptKey({ privateKey: key, passphrase });
  }
  try {
    await key.getSigningKey();
  } catch (error) {
    throw new EicBuildError('key-unusable', `the signing key ${resolved.fingerprint} cannot sign: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'use a key with a valid, unexpired signing (sub)key',
    });
  }
  return { key, fingerprint: resolved.fingerprint, userIds: key.getUserIDs() };
}
