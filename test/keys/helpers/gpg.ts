// Real GnuPG 2.2 in throw-away homes, for the key interoperability tests. Keys are made at test
// time and never written into the repository.
import { execa } from 'execa';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireIntegration } from '../../helpers/unit-only.js';

/** A temporary GnuPG home (0700), its agent killed and the directory removed at teardown. */
export async function makeGpgHome(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  requireIntegration('gpg (a GnuPG home)');
  const home = await mkdtemp(join(tmpdir(), 'eic-build-gpg-'));
  t.teardown(async () => {
    await execa('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { reject: false });
    await rm(home, { recursive: true, force: true });
  });
  return home;
}

/** Run gpg --batch in `home`; rejects on failure with gpg's stderr. */
export async function gpg(home: string, args: string[], input?: string | Uint8Array) {
  return execa('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], {
    ...(input !== undefined ? { input } : {}),
    encoding: 'utf8',
    stripFinalNewline: false,
  });
}

/** Run gpg and return stdout as bytes (binary exports). */
export async function gpgBytes(home: string, args: string[]): Promise<Uint8Array> {
  const result = await execa('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { encoding: 'buffer' });
  return result.stdout;
}

/** The seed's production recipe (BUILDCACHE_SIGNING.md): RSA-4096, no expiry, no passphrase. */
export const SEED_RECIPE = `Key-Type: RSA
Key-Length: 4096
Name-Real: EIC Containers
Name-Email: eic-containers@example.org
Expire-Date: 0
%no-protection
%commit
`;

/** fpr and grp records of `gpg --with-colons --with-keygrip -K` (or -k), in order. */
export function parseColons(output: string): { fingerprints: string[]; keygrips: string[] } {
  const fingerprints: string[] = [];
  const keygrips: string[] = [];
  for (const line of output.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === 'fpr' && fields[9]) fingerprints.push(fields[9]);
    if (fields[0] === 'grp' && fields[9]) keygrips.push(fields[9]);
  }
  return { fingerprints, keygrips };
}

/** The first fingerprint in a home's secret keyring. */
export async function firstSecretFingerprint(home: string): Promise<string> {
  const { stdout } = await gpg(home, ['--with-colons', '-K']);
  const fpr = parseColons(stdout).fingerprints[0];
  if (!fpr) throw new Error('no secret key in the gpg home');
  return fpr;
}

/** Body lines of an armored key (what must never show up in any output). */
export function bodyLines(armored: string): string[] {
  return armored
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length >= 16 && !line.startsWith('-----') && !line.includes(':'));
}

/**
 * Body lines of a secret key that do not occur in its public key: an armored secret key shares
 * whole base64 lines with its public key (same leading packet), and those may appear legitimately.
 */
export function secretOnlyLines(armoredSecret: string, armoredPublic: string): string[] {
  const publicStream = bodyLines(armoredPublic).join('');
  return bodyLines(armoredSecret).filter((line) => !publicStream.includes(line));
}
