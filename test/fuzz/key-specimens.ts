// Real key material for the fuzz targets, made once per run by real tools (never committed):
// OpenPGP.js v4 and v6 keys, node:crypto PEM keys, ssh-keygen, puttygen, and their encoded forms.
import { execa } from 'execa';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';

export interface KeySpecimens {
  /** Text forms: armored v4/v6 OpenPGP, PEM, OpenSSH, .ppk. */
  texts: string[];
  /** Binary OpenPGP transferable keys, v4 and v6. */
  binaries: Buffer[];
  /** Every form as the content scanner meets it in files (text, binary, UTF-16, base64, JSON-escaped). */
  files: Buffer[];
  ppk: string;
  v6Binary: Buffer;
}

let cached: Promise<KeySpecimens> | undefined;

async function make(): Promise<KeySpecimens> {
  const v4 = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'f' }], format: 'object' });
  const v6 = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'f' }], format: 'object', passphrase: 'p', config: { v6Keys: true } });
  const pem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  const pkcs8 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const work = await mkdtemp(join(tmpdir(), 'eic-fuzz-'));
  try {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(work, 'id')]);
    const openssh = await readFile(join(work, 'id'), 'utf8');
    let ppk = '';
    const puttygen = await execa('puttygen', ['-t', 'ed25519', '-q', '-o', join(work, 'k.ppk'), '--new-passphrase', '/dev/null'], { reject: false });
    if (puttygen.exitCode === 0) ppk = await readFile(join(work, 'k.ppk'), 'utf8');
    const texts = [v4.privateKey.armor(), v6.privateKey.armor(), pem, pkcs8, openssh, ...(ppk ? [ppk] : [])];
    const binaries = [Buffer.from(v4.privateKey.write()), Buffer.from(v6.privateKey.write())];
    const files = [
      ...texts.map((text) => Buffer.from(text)),
      ...binaries,
      ...texts.map((text) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])),
      ...texts.map((text) => Buffer.from(`key: ${Buffer.from(text).toString('base64')}\n`)),
      ...texts.map((text) => Buffer.from(JSON.stringify({ key: text }))),
    ];
    return { texts, binaries, files, ppk, v6Binary: binaries[1]! };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The specimens of this run (made once, shared by every target). */
/** The programs keySpecimens() runs (a fuzz target using them names them in `tools`). */
export const KEY_SPECIMEN_TOOLS = ['ssh-keygen', 'puttygen'] as const;

export function keySpecimens(): Promise<KeySpecimens> {
  cached ??= make();
  return cached;
}
