import { readFile } from 'node:fs/promises';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../errors.js';

/** A public key the user pinned: only these make an entry 'verified'. */
export interface TrustedKey {
  fingerprint: string;
  /** Long key IDs (16 hex, upper case) of the primary key and its subkeys. */
  keyIds: string[];
  userIds: string[];
  key: openpgp.PublicKey;
  /** Where it came from (a file path or 'mirror'). */
  source: string;
}

/** Parse armored (or binary) public keys; refuses private keys, which have no business in a trust list. */
export async function parseTrustedKeys(bytes: Uint8Array, source: string): Promise<TrustedKey[]> {
  const text = Buffer.from(bytes).toString('utf8');
  if (/-----BEGIN PGP PRIVATE KEY BLOCK-----/.test(text)) {
    throw new EicBuildError('key-invalid', `${source} holds a private key; trust needs only the public half`, {
      hint: "export the public key (gpg --export --armor FPR, or 'eic-build key export') and pass that file; keep the private key out of build inputs",
    });
  }
  let keys: openpgp.Key[];
  try {
    keys = text.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----') ? await openpgp.readKeys({ armoredKeys: text }) : await openpgp.readKeys({ binaryKeys: bytes });
  } catch (error) {
    throw new EicBuildError('key-invalid', `${source} is not an OpenPGP public key: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'pass an armored public key (gpg --export --armor FPR > key.asc)',
    });
  }
  return keys.map((key) => describeKey(key.toPublic(), source));
}

/** Read each --public-key file. */
export async function readTrustedKeys(files: readonly string[]): Promise<TrustedKey[]> {
  const all: TrustedKey[] = [];
  for (const file of files) {
    let bytes: Buffer;
    try {
      bytes = await readFile(file);
    } catch (error) {
      throw new EicBuildError('input-not-found', `cannot read public key file ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
        hint: 'pass --public-key with the path of an armored public key',
      });
    }
    all.push(...(await parseTrustedKeys(bytes, file)));
  }
  return all;
}

/** Fingerprint, key IDs and user IDs of a key. */
export function describeKey(key: openpgp.PublicKey, source: string): TrustedKey {
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    keyIds: key.getKeyIDs().map((id) => id.toHex().toUpperCase()),
    userIds: key.getUserIDs(),
    key,
    source,
  };
}
