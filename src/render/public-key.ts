import * as openpgp from 'openpgp';
import { EicBuildError } from '../errors.js';

/** The public half of the signing key, as the renderer needs it. */
export interface PublicKeyInput {
  armored: string;
  /** Upper-case hex fingerprint of the primary key. */
  fingerprint: string;
}

/**
 * Read an armored public key (text) and compute its fingerprint. Refuses private key material:
 * the renderer writes this text into the build context.
 */
export async function parsePublicKey(text: string, what: string): Promise<PublicKeyInput> {
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(text)) {
    throw new EicBuildError('key-invalid', `${what} holds a PRIVATE key; render only needs the public half and writes it into the build context`, {
      hint: 'pass the private key with --signing-key (eic-build derives the public half), or export the public key: gpg --armor --export FPR',
    });
  }
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ armoredKey: text });
  } catch (error) {
    throw new EicBuildError('key-invalid', `${what} is not an armored OpenPGP public key`, {
      hint: 'export it with: gpg --armor --export FINGERPRINT > public.asc',
      cause: error,
    });
  }
  if (key.isPrivate()) throw new EicBuildError('key-invalid', `${what} holds a private key`, { hint: 'pass the public half only.' });
  return { armored: key.armor(), fingerprint: key.getFingerprint().toUpperCase() };
}
