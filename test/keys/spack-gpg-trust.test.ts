// [integration] Real Spack v1.1.0 (the kit's host-env.sh) trusts a key from `eic-build key generate` without
// GnuPG printing a warning: its public half (what the rendered runtime trusts) and its secret half (what a
// step that lets Spack sign imports into a tmpfs SPACK_GNUPGHOME). The control, a key straight from
// OpenPGP.js 6, makes the secret import warn about "unavailable algorithms" (gpg 2.2 checks preferences of
// secret imports only). Each run has its own SPACK_GNUPGHOME in a temp directory, removed afterwards.
// The kit's Spack is unpacked into a directory of this test's own (SPACK_KIT_HOME): host-env.sh defaults
// to the shared ${TMPDIR:-/tmp}/spack-kit-host and rewrites its config files each time it is sourced,
// under any other run of this test (another checkout, another agent) that reads them at that moment.
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { generateKey } from '../../src/keys/generate-key.js';
import { spackKitTest } from '../detectors/spack-kit.js';

/** gpg's lines on a clean `spack gpg trust` (import, then Spack's ownertrust update). */
const QUIET_GPG = [
  /^gpg: keybox '.+' created$/,
  /^gpg: .+\/trustdb\.gpg: trustdb created$/,
  /^gpg: key [0-9A-F]{16}: public key ".*" imported$/,
  /^gpg: key [0-9A-F]{16}: secret key imported$/,
  /^gpg: Total number processed: \d+$/,
  /^gpg: +(?:imported|secret keys read|secret keys imported): \d+$/,
  /^gpg: inserting ownertrust of \d+$/,
];

/** `spack gpg trust FILE` with the kit's Spack on the host; returns gpg's stderr lines that are not QUIET_GPG. */
async function spackGpgTrust(kitDir: string, kitHome: string, armoredKey: string): Promise<{ unexpected: string[]; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-spack-trust-'));
  try {
    const keyFile = join(dir, 'key.asc');
    await writeFile(keyFile, armoredKey, { mode: 0o600 });
    const home = join(dir, 'gnupg');
    const run = await execa('bash', ['-c', '. "$1/host-env.sh" && spack gpg trust "$2"', 'spack-gpg-trust', kitDir, keyFile], {
      env: { SPACK_GNUPGHOME: home, SPACK_KIT_HOME: kitHome, LC_ALL: 'C', LANGUAGE: 'C' },
      timeout: 5 * 60_000,
    });
    await execa('gpgconf', ['--homedir', home, '--kill', 'all'], { reject: false });
    // Only gpg's lines: Spack itself also warns that it cannot clone its default package repository
    // (no network here; the kit's repos:: replaces it), which says nothing about the key.
    const gpgLines = run.stderr.split('\n').filter((line) => line.startsWith('gpg:'));
    return { unexpected: gpgLines.filter((line) => !QUIET_GPG.some((pattern) => pattern.test(line))), stderr: run.stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

spackKitTest('[integration] spack gpg trust of generated keys prints no GnuPG warning (rsa4096, ed25519; public and secret); an OpenPGP.js 6 key does', async (t, kit) => {
  t.timeout(10 * 60_000);
  const kitHome = await mkdtemp(join(tmpdir(), 'eic-build-spack-kit-home-'));
  t.teardown(() => rm(kitHome, { recursive: true, force: true }));
  for (const algorithm of ['rsa4096', 'ed25519'] as const) {
    const key = await generateKey({ algorithm, name: 'Spack Trust Test' });
    for (const [half, armored] of [
      ['public', key.armoredPublicKey],
      ['secret', key.armoredSecretKey],
    ] as const) {
      const { unexpected, stderr } = await spackGpgTrust(kit, kitHome, armored);
      t.deepEqual(unexpected, [], `${algorithm} ${half}:\n${stderr}`);
      t.regex(stderr, /gpg: key [0-9A-F]{16}: public key "Spack Trust Test" imported/);
      if (half === 'secret') t.regex(stderr, /gpg: key [0-9A-F]{16}: secret key imported/);
    }
  }
  const { privateKey } = await openpgp.generateKey({ type: 'ecc', userIDs: [{ name: 'Control' }], format: 'armored' });
  const control = await spackGpgTrust(kit, kitHome, privateKey);
  t.true(
    control.unexpected.some((line) => /preferences for unavailable/.test(line)),
    control.stderr,
  );
});
