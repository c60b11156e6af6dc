import test from 'ava';
import * as openpgp from 'openpgp';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspectKey } from '../../src/keys/inspect-key.js';
import { resolveSigningKey } from '../../src/keys/resolve-signing-key.js';
import { EicBuildError } from '../../src/errors.js';
import { runCli } from '../helpers/cli.js';
import { bodyLines, firstSecretFingerprint, gpg, gpgBytes, makeGpgHome, parseColons, SEED_RECIPE, secretOnlyLines } from './helpers/gpg.js';

// One RSA-4096 key made by gpg with the seed's batch recipe, shared by the tests of this file.
interface SeedKey {
  home: string;
  fingerprint: string;
  armoredSecret: string;
  armoredPublic: string;
  colons: { fingerprints: string[]; keygrips: string[] };
}
let seedPromise: Promise<SeedKey> | undefined;
const cleanups: Array<() => Promise<void>> = [];

function seedKey(): Promise<SeedKey> {
  seedPromise ??= (async () => {
    const home = await makeGpgHome({ teardown: (fn) => cleanups.push(fn) });
    await gpg(home, ['--gen-key'], SEED_RECIPE);
    const fingerprint = await firstSecretFingerprint(home);
    const armoredSecret = (await gpg(home, ['--export-secret-keys', '--armor', 'EIC Containers'])).stdout;
    const armoredPublic = (await gpg(home, ['--export', '--armor', fingerprint])).stdout;
    const colons = parseColons((await gpg(home, ['--with-colons', '--with-keygrip', '-K'])).stdout);
    return { home, fingerprint, armoredSecret, armoredPublic, colons };
  })();
  return seedPromise;
}

test.after.always(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-keys-'));
  t.teardown(async () => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('[integration] a gpg key made with the seed recipe is read, inspected, and matched by fingerprint and keygrip', async (t) => {
  const seed = await seedKey();
  t.is(seed.colons.fingerprints.length, 1, 'the recipe has no Subkey-Type: one RSA key that certifies and signs');
  const inspection = await inspectKey({ envVar: 'SPACK_SIGNING_KEY', env: { SPACK_SIGNING_KEY: seed.armoredSecret } });
  t.deepEqual(inspection.findings, []);
  const facts = inspection.facts!;
  t.is(facts.primary.fingerprint, seed.fingerprint);
  t.deepEqual(
    [facts.primary, ...facts.subkeys].map((part) => part.fingerprint),
    seed.colons.fingerprints,
  );
  t.is(facts.primary.algorithm, 'rsaEncryptSign');
  t.is(facts.primary.bits, 4096);
  t.is(facts.primary.expires, null);
  t.is(facts.primary.secret, 'present');
  t.false(facts.passphraseProtected);
  t.true(facts.primary.canSign);
  t.deepEqual(facts.userIds, ['EIC Containers <eic-containers@example.org>']);
  t.deepEqual(inspection.identity?.fingerprints, seed.colons.fingerprints);
  t.deepEqual(inspection.identity?.keygrips, seed.colons.keygrips);
});

test('[integration] resolveSigningKey takes the seed key from SPACK_SIGNING_KEY as armored text and as base64', async (t) => {
  const seed = await seedKey();
  for (const value of [seed.armoredSecret, Buffer.from(seed.armoredSecret).toString('base64')]) {
    const key = await resolveSigningKey({ env: { SPACK_SIGNING_KEY: value } });
    t.is(key.source, 'env');
    t.is(key.fingerprint, seed.fingerprint);
    t.deepEqual(key.identity.keygrips, seed.colons.keygrips);
    t.deepEqual(key.warnings, []);
    t.is(key.armoredSecretKey.trim(), seed.armoredSecret.trim());
  }
});

test('[integration] key inspect --format json and export-public on the seed key: facts out, secret never', async (t) => {
  const seed = await seedKey();
  const env = { SPACK_SIGNING_KEY: Buffer.from(seed.armoredSecret).toString('base64') };
  const inspected = await runCli(['key', 'inspect', '--format', 'json'], { env });
  t.is(inspected.exitCode, 0, String(inspected.stderr));
  const json = JSON.parse(String(inspected.stdout)) as { key: { primary: { fingerprint: string; bits: number } }; identity: { keygrips: string[] }; ok: boolean };
  t.is(json.key.primary.fingerprint, seed.fingerprint);
  t.is(json.key.primary.bits, 4096);
  t.deepEqual(json.identity.keygrips, seed.colons.keygrips);
  t.true(json.ok);

  const exported = await runCli(['key', 'export-public'], { env });
  t.is(exported.exitCode, 0, String(exported.stderr));
  const output = String(exported.stdout);
  t.notRegex(output, /PRIVATE KEY|REDACTED/);
  const publicKey = await openpgp.readKey({ armoredKey: output });
  t.false(publicKey.isPrivate());
  t.is(publicKey.getFingerprint().toUpperCase(), seed.fingerprint);
  for (const result of [inspected, exported]) {
    const all = `${String(result.stdout)}\n${String(result.stderr)}`;
    for (const line of secretOnlyLines(seed.armoredSecret, seed.armoredPublic)) t.false(all.includes(line));
  }
  // And gpg takes the printed public key.
  const pubHome = await makeGpgHome(t);
  await gpg(pubHome, ['--import'], output);
  t.deepEqual(parseColons((await gpg(pubHome, ['--with-colons', '-k'])).stdout).fingerprints, seed.colons.fingerprints);
});

for (const algorithm of ['ed25519', 'rsa4096']) {
  test(`[integration] key generate --algorithm ${algorithm}: imports into gpg, gpg clearsigns with it, the signature verifies in gpg and OpenPGP.js`, async (t) => {
    const dir = await tempDir(t);
    const keyFile = join(dir, 'signing.asc');
    const generated = await runCli(['key', 'generate', '--algorithm', algorithm, '--name', 'Interop Test', '--email', 'interop@example.org', '--output', keyFile]);
    t.is(generated.exitCode, 0, String(generated.stderr));
    const fingerprint = /fingerprint: ([0-9A-F]{40})/.exec(String(generated.stdout))?.[1];
    t.truthy(fingerprint);
    t.regex(String(generated.stdout), new RegExp(`public key:  ${join(dir, 'signing.pub.asc')}`));

    // Sign as Spack does: import the secret key, then gpg --clearsign.
    const signHome = await makeGpgHome(t);
    await gpg(signHome, ['--import', keyFile]);
    t.is(await firstSecretFingerprint(signHome), fingerprint!);
    const manifest = join(dir, 'zlib-1.3.1-abcdef.spec.manifest.json');
    await writeFile(manifest, '{"version":3,"data":[]}\n');
    await gpg(signHome, ['--pinentry-mode', 'error', '--local-user', fingerprint!, '--clearsign', '--output', `${manifest}.sig`, manifest]);
    const signed = await readFile(`${manifest}.sig`, 'utf8');
    t.regex(signed, /BEGIN PGP SIGNED MESSAGE/);

    // Verify with the exported public key only, in a fresh gpg home...
    const publicFile = join(dir, 'exported.pub.asc');
    const exported = await runCli(['key', 'export-public', keyFile, '--output', publicFile]);
    t.is(exported.exitCode, 0, String(exported.stderr));
    const verifyHome = await makeGpgHome(t);
    await gpg(verifyHome, ['--import', publicFile]);
    t.is((await gpg(verifyHome, ['-K', '--with-colons'])).stdout.trim(), '', 'the verifying keyring holds no secret key');
    const verified = await gpg(verifyHome, ['--status-fd', '1', '--verify', `${manifest}.sig`]);
    t.regex(verified.stdout, new RegExp(`VALIDSIG ${fingerprint}`));

    // ...and in OpenPGP.js.
    const publicKey = await openpgp.readKey({ armoredKey: await readFile(publicFile, 'utf8') });
    const message = await openpgp.readCleartextMessage({ cleartextMessage: signed });
    const result = await openpgp.verify({ message, verificationKeys: publicKey });
    await t.notThrowsAsync(result.signatures[0]!.verified);
    t.is(result.data.trim(), '{"version":3,"data":[]}');
  });
}

test('[integration] a passphrase-protected gpg key: refused with how to remove the passphrase, or decrypted in memory with SPACK_SIGNING_KEY_PASSPHRASE', async (t) => {
  const home = await makeGpgHome(t);
  const passphrase = 'correct horse battery staple';
  await gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', passphrase, '--quick-gen-key', 'Protected <protected@example.org>', 'ed25519', 'sign', 'never']);
  const fingerprint = await firstSecretFingerprint(home);
  const armored = (await gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', passphrase, '--export-secret-keys', '--armor', fingerprint])).stdout;

  const refused = await t.throwsAsync(resolveSigningKey({ env: { SPACK_SIGNING_KEY: armored } }), { instanceOf: EicBuildError });
  t.is(refused?.code, 'key-protected');
  t.regex(refused?.message ?? '', /passphrase-protected and SPACK_SIGNING_KEY_PASSPHRASE is not set/);
  t.regex(refused?.hint ?? '', /gpg --pinentry-mode loopback --passwd [0-9A-F]{16}/);

  const wrong = await t.throwsAsync(resolveSigningKey({ env: { SPACK_SIGNING_KEY: armored, SPACK_SIGNING_KEY_PASSPHRASE: 'not the passphrase' } }), { instanceOf: EicBuildError });
  t.is(wrong?.code, 'key-protected');
  t.regex(wrong?.message ?? '', /does not decrypt/);

  const key = await resolveSigningKey({ env: { SPACK_SIGNING_KEY: armored, SPACK_SIGNING_KEY_PASSPHRASE: passphrase } });
  t.is(key.fingerprint, fingerprint);
  // The copy handed on is unprotected: gpg signs with it without any passphrase.
  const useHome = await makeGpgHome(t);
  await gpg(useHome, ['--import'], key.armoredSecretKey);
  const signed = await gpg(useHome, ['--pinentry-mode', 'error', '--local-user', fingerprint, '--clearsign'], 'hello\n');
  t.regex(signed.stdout, /BEGIN PGP SIGNATURE/);
});

test('[integration] gpg exports that cannot sign are refused with the fix: binary, public only, certify-only', async (t) => {
  const home = await makeGpgHome(t);
  await gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-gen-key', 'Certify Only <cert@example.org>', 'ed25519', 'cert', 'never']);
  const certOnly = await firstSecretFingerprint(home);
  const armoredCertOnly = (await gpg(home, ['--export-secret-keys', '--armor', certOnly])).stdout;
  const noSign = await t.throwsAsync(resolveSigningKey({ env: { SPACK_SIGNING_KEY: armoredCertOnly } }), { instanceOf: EicBuildError });
  t.is(noSign?.code, 'key-unusable');
  t.regex(noSign?.message ?? '', /\[no-signing-key\]/);

  const dir = await tempDir(t);
  const binaryFile = join(dir, 'key.gpg');
  await writeFile(binaryFile, await gpgBytes(home, ['--export-secret-keys', certOnly]));
  const binary = await t.throwsAsync(resolveSigningKey({ signingKeyFile: binaryFile, env: {} }), { instanceOf: EicBuildError });
  t.is(binary?.code, 'key-invalid');
  t.regex(binary?.message ?? '', /binary \(unarmored\) OpenPGP secret key/);
  t.regex(binary?.hint ?? '', /--export-secret-keys --armor/);

  const publicOnly = (await gpg(home, ['--export', '--armor', certOnly])).stdout;
  const pub = await t.throwsAsync(resolveSigningKey({ env: { SPACK_SIGNING_KEY: publicOnly } }), { instanceOf: EicBuildError });
  t.is(pub?.code, 'key-public-only');
  t.regex(pub?.hint ?? '', /not gpg --export/);
});

test('[integration] body lines helper sanity: a secret armored key has secret-only lines', async (t) => {
  const seed = await seedKey();
  t.true(bodyLines(seed.armoredSecret).length > 20);
  t.true(secretOnlyLines(seed.armoredSecret, seed.armoredPublic).length > 20);
});
