// [integration] Images that keep a Spack tree are not leaks because of Spack's own test key: the real kit
// image (real Spack v1.1.0 at /opt/spack, made by ../shared/spack-kit/make-base-image.sh when missing) scans
// clean with the key as a note naming it. In small images built at test time by the real engine, the same
// path holding a fresh key is a leak, and Spack's key is a leak when it is the user's --public-key.
import { execa } from 'execa';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deriveKeyIdentity } from '../../src/pgp/index.js';
import { createGpgHome } from '../pgp/gpg-fixtures.js';
import { ensureBusyboxImage } from '../helpers/images.js';
import { buildImage, DOCKER, makeTempDir, removeImages, scanJson, type BuiltImage, type JsonReport } from '../scan-integration/harness.js';
import { readSpackTreeFile, SPACK_TEST_KEY_PATH, spackKitTest } from './spack-kit.js';

const KIT_IMAGE = process.env['SPACK_KIT_IMAGE'] || 'eic-build-kit/spack:1.1.0';
const IN_IMAGE = `/opt/spack/${SPACK_TEST_KEY_PATH}`;
const SPACK_PRIMARY = 'EA17D7BAD069C9C51B16683965F19128BF181183';
const SPACK_SUBKEY = 'E947A28C0BCB3F692DD3F56F65ED2C9625AAAD63';

/** The kit image, made by the kit's own script when this machine does not have it yet (about 10 minutes once). */
async function ensureKitImage(kitDir: string): Promise<string> {
  const present = await execa(DOCKER, ['image', 'inspect', KIT_IMAGE], { reject: false });
  if (present.exitCode !== 0) {
    console.log(`making ${KIT_IMAGE} with ${kitDir}/make-base-image.sh (about 10 minutes the first time)`);
    await execa('bash', [join(kitDir, 'make-base-image.sh')], { env: { DOCKER, SPACK_KIT_IMAGE: KIT_IMAGE }, timeout: 30 * 60_000 });
  }
  return KIT_IMAGE;
}

/** Notes about Spack's test key file, by the text they show. */
function spackKeyNotes(report: JsonReport): string[] {
  return (report.notes as Array<{ path: string | null; message: string }>)
    .filter((note) => note.path !== null && note.path.replace(/^\//, '') === IN_IMAGE.slice(1))
    .map((note) => note.message);
}

spackKitTest("[integration] scanning the real Spack kit image: exit 0, zero findings, Spack's test key is a note naming it", async (t, kit) => {
  t.timeout(40 * 60_000);
  const image = await ensureKitImage(kit);
  const started = Date.now();
  const { exitCode, report, stderr } = await scanJson(`docker-daemon:${image}`);
  t.log(`scan of ${image}: ${((Date.now() - started) / 1000).toFixed(1)} s, ${report.stats.layers} layers, ${(report.stats.bytesScanned / 2 ** 20).toFixed(0)} MiB`);
  t.is(exitCode, 0, stderr);
  t.false(report.leaked);
  t.deepEqual(report.findings, []);
  const notes = spackKeyNotes(report);
  t.is(notes.length, 1, JSON.stringify(notes));
  t.regex(
    notes[0]!,
    new RegExp(
      `well-known public test key \\(Spack's test key package-signing-key, RSA-2048 primary key, ${SPACK_PRIMARY}\\) in /?opt/spack/var/spack/gpg\\.mock/keys/package-signing-key: not a leak`,
    ),
  );
});

spackKitTest("[integration] Spack's key file in a small image: a note; a fresh key at that path, or Spack's key as the --public-key: exit 1", async (t, kit) => {
  t.timeout(10 * 60_000);
  const { dir, cleanup } = await makeTempDir('spack-keys');
  const built: BuiltImage[] = [];
  const home = await createGpgHome();
  t.teardown(async () => {
    await removeImages(built);
    await home.close();
    await cleanup();
  });
  const base = await ensureBusyboxImage();
  const dockerfile = `FROM ${base}\nCOPY package-signing-key ${IN_IMAGE}\n`;

  // Spack's own file, copied from the kit's Spack archive at test time.
  const spackFile = await readSpackTreeFile(kit, SPACK_TEST_KEY_PATH);
  const spackImage = await buildImage(dir, { name: 'spack-small-spack-key', dockerfile, context: { 'package-signing-key': spackFile } });
  built.push(spackImage);
  const clean = await scanJson(spackImage.archive);
  t.is(clean.exitCode, 0, clean.stderr);
  t.deepEqual(clean.report.findings, []);
  t.true(spackKeyNotes(clean.report).some((message) => message.includes(`Spack's test key package-signing-key, RSA-2048 primary key, ${SPACK_PRIMARY}`)));

  // The user names Spack's key as theirs: its secret half in the image is their key leaking.
  const text = Buffer.from(spackFile.toString('latin1'), 'base64').toString('latin1');
  const spackPublic = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/.exec(text)![0];
  const publicFile = join(dir, 'spack-public.asc');
  await writeFile(publicFile, `${spackPublic}\n`);
  const named = await scanJson(spackImage.archive, ['--public-key', publicFile]);
  t.is(named.exitCode, 1, named.stderr);
  t.is(named.report.findings.length, 1);
  t.like(named.report.findings[0], { matchesPublicKey: true, fingerprints: [SPACK_PRIMARY, SPACK_SUBKEY], visibleInFinalImage: true });
  t.deepEqual(
    spackKeyNotes(named.report).filter((message) => message.includes('well-known')),
    [],
  );

  // A fresh key written at the same path, the way Spack writes its file: the path excuses nothing.
  const fingerprint = await home.generate('Fresh <fresh@example.invalid>', 'ed25519', { usage: 'sign' });
  const pub = (await home.gpg(['--armor', '--export', fingerprint])).toString('latin1');
  const sec = (await home.gpg(['--pinentry-mode', 'loopback', '--passphrase', '', '--armor', '--export-secret-keys', fingerprint])).toString('latin1');
  const freshImage = await buildImage(dir, { name: 'spack-small-fresh-key', dockerfile, context: { 'package-signing-key': Buffer.from(pub + sec, 'latin1').toString('base64') } });
  built.push(freshImage);
  const leaked = await scanJson(freshImage.archive);
  t.is(leaked.exitCode, 1, leaked.stderr);
  t.is(leaked.report.findings.length, 1);
  t.like(leaked.report.findings[0], { fingerprints: deriveKeyIdentity(pub).fingerprints, matchesPublicKey: false, visibleInFinalImage: true });
  t.regex(leaked.report.findings[0]!.path ?? '', /opt\/spack\/var\/spack\/gpg\.mock\/keys\/package-signing-key$/);
});
