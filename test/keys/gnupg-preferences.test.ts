// Keys eic-build generates import into real GnuPG 2.2 without a single warning: their self-signatures only
// prefer algorithms GnuPG 2.2 knows (OpenPGP.js 6 alone adds SHA3-512/SHA3-256, digest ids 14/12, and gpg
// then prints "contains preferences for unavailable algorithms" on every import of the secret key: the
// control below). test/keys/spack-gpg-trust.test.ts shows the same through real Spack's `spack gpg trust`.
import test from 'ava';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { GNUPG_HASH_PREFERENCES, generateKey, KEY_ALGORITHMS, type GenerateKeyOptions } from '../../src/keys/generate-key.js';
import { resolveSigningKey } from '../../src/keys/resolve-signing-key.js';
import { makeGpgHome } from './helpers/gpg.js';

/** What gpg 2.2 prints on stderr for a clean import: nothing else may appear. */
const QUIET_IMPORT = [
  /^gpg: keybox '.+' created$/,
  /^gpg: .+\/trustdb\.gpg: trustdb created$/,
  /^gpg: key [0-9A-F]{16}: public key ".*" imported$/,
  /^gpg: key [0-9A-F]{16}: secret key imported$/,
  /^gpg: key [0-9A-F]{16}: ".*" not changed$/,
  /^gpg: Total number processed: \d+$/,
  /^gpg: +(?:imported|unchanged|secret keys read|secret keys imported|secret keys unchanged): \d+$/,
];

type Gpg = (args: string[], input?: string) => Promise<{ stdout: string; stderr: string }>;

async function gpgIn(t: Parameters<typeof makeGpgHome>[0]): Promise<Gpg> {
  const home = await makeGpgHome(t);
  // English messages, whatever the machine's locale.
  return async (args, input) => {
    const run = await execa('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { input, env: { LC_ALL: 'C', LANGUAGE: 'C' } });
    return { stdout: run.stdout, stderr: run.stderr };
  };
}

/** stderr lines of a gpg import that are not in QUIET_IMPORT (warnings and anything unexpected). */
function unexpectedLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !QUIET_IMPORT.some((pattern) => pattern.test(line)));
}

// OpenPGP algorithm ids (RFC 4880 9.2-9.4) by the names `gpg --version` lists them under.
const HASH_NAMES: Record<number, string> = { 1: 'MD5', 2: 'SHA1', 3: 'RIPEMD160', 8: 'SHA256', 9: 'SHA384', 10: 'SHA512', 11: 'SHA224' };
const CIPHER_NAMES: Record<number, string> = {
  1: 'IDEA',
  2: '3DES',
  3: 'CAST5',
  4: 'BLOWFISH',
  7: 'AES',
  8: 'AES192',
  9: 'AES256',
  10: 'TWOFISH',
  11: 'CAMELLIA128',
  12: 'CAMELLIA192',
  13: 'CAMELLIA256',
};
const ZIP_NAMES: Record<number, string> = { 0: 'Uncompressed', 1: 'ZIP', 2: 'ZLIB', 3: 'BZIP2' };

/** Each preference id in the key's packets that this gpg does not list as supported (`gpg --version`). */
async function unknownPreferences(gpg: Gpg, armoredPublicKey: string): Promise<string[]> {
  const version = (await gpg(['--version'])).stdout;
  const supported = (label: string): string[] => (new RegExp(`^${label}: ([^\\n]*(?:\\n +[^\\n]*)*)`, 'm').exec(version)?.[1] ?? '').split(/,\s*/).map((name) => name.trim());
  const packets = (await gpg(['--list-packets'], armoredPublicKey)).stdout;
  const unknown: string[] = [];
  for (const [subpacket, label, names] of [
    ['pref-hash-algos', 'Hash', HASH_NAMES],
    ['pref-sym-algos', 'Cipher', CIPHER_NAMES],
    ['pref-zip-algos', 'Compression', ZIP_NAMES],
  ] as const) {
    const known = supported(label);
    for (const match of packets.matchAll(new RegExp(`${subpacket}: ([0-9 ]+)`, 'g'))) {
      for (const id of match[1]!.trim().split(/ +/).map(Number)) {
        if (!known.includes(names[id] ?? `#${id}`)) unknown.push(`${subpacket} ${id}`);
      }
    }
  }
  return unknown;
}

const KINDS: Array<{ title: string; make: () => Promise<{ armoredSecretKey: string; armoredPublicKey: string; fingerprint: string }> }> = [
  ...KEY_ALGORITHMS.map((algorithm) => ({
    title: `key generate --algorithm ${algorithm}`,
    make: () => generateKey({ algorithm, name: 'Prefs Test', email: 'prefs@example.org' }),
  })),
  { title: 'the ephemeral build key', make: () => resolveSigningKey({ ephemeral: true, env: {} }) },
  {
    title: 'an expiring key made in the past (--expires, date)',
    make: () => generateKey({ algorithm: 'ed25519', expiresInSeconds: 90 * 86_400, date: new Date(Date.now() - 10 * 86_400_000) } satisfies GenerateKeyOptions),
  },
];

for (const kind of KINDS) {
  test(`[integration] ${kind.title}: gpg --import prints no warning, and every preference is an algorithm this gpg lists`, async (t) => {
    const key = await kind.make();
    const gpg = await gpgIn(t);
    const imported = await gpg(['--import'], key.armoredSecretKey);
    t.deepEqual(unexpectedLines(imported.stderr), [], imported.stderr);
    t.notRegex(imported.stderr, /unavailable|WARNING/i);
    t.deepEqual(await unknownPreferences(gpg, key.armoredPublicKey), []);

    // The public half (what `spack gpg trust` imports on the verifying side) is just as quiet.
    const publicOnly = await gpgIn(t);
    const trusted = await publicOnly(['--import'], key.armoredPublicKey);
    t.deepEqual(unexpectedLines(trusted.stderr), [], trusted.stderr);

    // Every self-signature still verifies in gpg, and no subpacket but the digest list changed.
    const checked = await gpg(['--check-sigs', key.fingerprint]);
    t.regex(checked.stderr, /gpg: \d+ good signatures?/);
    t.notRegex(checked.stderr, /bad signature|no signature/i);
    const packets = (await gpg(['--list-packets'], key.armoredPublicKey)).stdout;
    t.regex(packets, /\(pref-hash-algos: 10 9 8 11\)/);
    t.regex(packets, /\(pref-sym-algos: 9 7\)/);
    t.regex(packets, /key flags: 03/);
    t.regex(packets, /primary user ID/);
  });
}

test('[integration] control: a key straight from OpenPGP.js 6 makes gpg 2.2 warn about digest algorithms 14 and 12', async (t) => {
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', userIDs: [{ name: 'Control' }], format: 'armored' });
  const gpg = await gpgIn(t);
  const imported = await gpg(['--import'], privateKey);
  t.regex(imported.stderr, /contains preferences for unavailable\s+algorithms/);
  t.regex(imported.stderr, /preference for digest algorithm 14/);
  t.regex(imported.stderr, /preference for digest algorithm 12/);
  t.true(unexpectedLines(imported.stderr).length > 0);
  const armoredPublicKey = (await openpgp.readPrivateKey({ armoredKey: privateKey })).toPublic().armor();
  t.deepEqual(await unknownPreferences(gpg, armoredPublicKey), ['pref-hash-algos 14', 'pref-hash-algos 12']);
  t.deepEqual([...GNUPG_HASH_PREFERENCES], [openpgp.enums.hash.sha512, openpgp.enums.hash.sha384, openpgp.enums.hash.sha256, openpgp.enums.hash.sha224]);
});
