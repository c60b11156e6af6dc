import * as openpgp from 'openpgp';
import { loadKey, throwIfBlocked } from './load-key.js';
import { readKeyInput, type KeySource } from './read-key-input.js';
import { keySourceOf } from './inspect-key.js';

/** The public half of a key input. */
export interface ExportedPublicKey {
  armoredPublicKey: string;
  /** Primary fingerprints (upper-case hex) of the exported keys. */
  fingerprints: string[];
  inputName: string;
}

/** Options for exportPublicKey: one of file / envVar (default SPACK_SIGNING_KEY). */
export interface ExportPublicKeyOptions {
  file?: string;
  envVar?: string;
  source?: KeySource;
  env: NodeJS.ProcessEnv;
}

/**
 * The armored public key of a secret or public key input: what `spack gpg trust` should get
 * (never the secret key, which it would import as well). A protected secret key needs no
 * passphrase for this: its public half is in the clear.
 */
export async function exportPublicKey(options: ExportPublicKeyOptions): Promise<ExportedPublicKey> {
  const source = options.source ?? keySourceOf(options, 'SPACK_SIGNING_KEY');
  if (!source) throw new TypeError('exportPublicKey: pass either file or envVar, not both');
  const input = await readKeyInput(source, options.env);
  const loaded = await loadKey(input, { need: 'public' });
  // Only input problems stop an export; expiry or rotation warnings belong to inspect and build.
  throwIfBlocked({ input, findings: loaded.findings.filter((finding) => finding.code === 'key-invalid') }, false, 'key');
  const publicKeys = loaded.keys.map((key) => key.toPublic());
  const packets = publicKeys.map((key) => key.write());
  const body = new Uint8Array(packets.reduce((size, part) => size + part.length, 0));
  let offset = 0;
  for (const part of packets) {
    body.set(part, offset);
    offset += part.length;
  }
  return {
    armoredPublicKey: publicKeys.length === 1 ? (publicKeys[0] as openpgp.PublicKey).armor() : openpgp.armor(openpgp.enums.armor.publicKey, body),
    fingerprints: publicKeys.map((key) => key.getFingerprint().toUpperCase()),
    inputName: input.inputName,
  };
}
