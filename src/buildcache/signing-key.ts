import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../errors.js';
import { registerSecret } from '../redact.js';

/** A private key ready to sign, with the facts a report may show (never the key itself). */
export interface SigningKey {
  key: openpgp.PrivateKey;
  fingerprint: string;
  userIds: string[];
}

/**
 * Load the signing key from `--signing-key FILE` or the SPACK_SIGNING_KEY variable (armored, or
 * base64 of armored as CI secrets are sometimes stored). A small adapter: the "keys" layer's
 * resolveSigningKey (src/keys/index.ts) was not available when this was written.
 */
export async function loadSigningKey(options: { file?: string; env: NodeJS.ProcessEnv }): Promise<SigningKey> {
  let text: string;
  let source: string;
  if (options.file) {
    source = options.file;
    try {
      text = await readFile(options.file, 'utf8');
    } catch (error) {
      throw new EicBuildError('input-not-found', `cannot read signing key file ${options.file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: 'pass --signing-key with the path of an armored private key, or set SPACK_SIGNING_KEY',
      });
    }
  } else if (options.env.SPACK_SIGNING_KEY) {
    source = 'SPACK_SIGNING_KEY';
    text = options.env.SPACK_SIGNING_KEY;
  } else {
    throw new EicBuildError('usage', 'no signing key: neither --signing-key FILE nor SPACK_SIGNING_KEY is set', {
      hint: 'pass --signing-key FILE (an armored private key) or export SPACK_SIGNING_KEY',
    });
  }
  registerSecret(text);
  if (!text.includes('-----BEGIN PGP') && /^[A-Za-z0-9+/=\s]+$/.test(text.trim())) {
    const decoded = Buffer.from(text.trim(), 'base64').toString('utf8');
    if (decoded.includes('-----BEGIN PGP')) {
      text = decoded;
      registerSecret(text);
    }
  }
  if (text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') && !text.includes('PRIVATE KEY BLOCK')) {
    throw new EicBuildError('key-public-only', `${source} holds only a public key; signing needs the private key`, {
      hint: 'export the secret key (gpg --export-secret-keys --armor FPR) into the secret, never into the repository',
    });
  }
  let key: openpgp.PrivateKey;
  try {
    key = await openpgp.readPrivateKey({ armoredKey: text });
  } catch {
    throw new EicBuildError('key-invalid', `${source} is not an armored OpenPGP private key`, {
      hint: 'the value must start with -----BEGIN PGP PRIVATE KEY BLOCK----- (gpg --export-secret-keys --armor FPR)',
    });
  }
  if (!key.isDecrypted()) {
    throw new EicBuildError('key-protected', `the key in ${source} is protected by a passphrase`, {
      hint: 'use a key without passphrase for CI signing (gpg --passwd to remove it), kept only in the CI secret',
    });
  }
  try {
    await key.getSigningKey();
  } catch (error) {
    throw new EicBuildError('key-unusable', `the key in ${source} cannot sign: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'use a key with a valid, unexpired signing (sub)key',
    });
  }
  return { key, fingerprint: key.getFingerprint().toUpperCase(), userIds: key.getUserIDs() };
}
