import test from 'ava';
import * as openpgp from 'openpgp';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError, type ErrorCode } from '../../src/errors.js';
import { redact } from '../../src/redact.js';
import { generateKey } from '../../src/keys/generate-key.js';
import { resolveSigningKey, EPHEMERAL_FALLBACK_WARNING } from '../../src/keys/resolve-signing-key.js';
import { deriveKeyIdentity } from '../../src/pgp/key-identity.js';
import { bodyLines } from './helpers/gpg.js';

const DAY = 86_400;
const NOW = new Date();

// Keys are generated at test time (OpenPGP.js), once per file.
const fresh = generateKey({ name: 'Resolve Test', email: 'resolve@example.org' });
const other = generateKey({ name: 'Other Test' });

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-keys-'));
  t.teardown(async () => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function expectError(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: ErrorCode, message: RegExp, hint?: RegExp) {
  const error = await t.throwsAsync(promise, { instanceOf: EicBuildError });
  t.is(error?.code, code);
  t.regex(error?.message ?? '', message);
  if (hint) t.regex(error?.hint ?? '', hint);
  return error;
}

test('SPACK_SIGNING_KEY as armored text', async (t) => {
  const key = await fresh;
  const resolved = await resolveSigningKey({ env: { SPACK_SIGNING_KEY: key.armoredSecretKey } });
  t.is(resolved.source, 'env');
  t.is(resolved.fingerprint, key.fingerprint);
  t.is(resolved.armoredSecretKey, key.armoredSecretKey.trim() + '\n');
  t.is(resolved.armoredPublicKey.includes('PUBLIC KEY BLOCK'), true);
  t.deepEqual(resolved.identity, deriveKeyIdentity(key.armoredSecretKey));
  t.is(resolved.identity.fingerprints.length, 2);
  t.is(resolved.identity.keygrips.length, 2);
  t.deepEqual(resolved.warnings, []);
});

test('SPACK_SIGNING_KEY as base64 (single line and wrapped), and with CRLF line ends', async (t) => {
  const key = await fresh;
  const base64 = Buffer.from(key.armoredSecretKey).toString('base64');
  for (const value of [base64, base64.replace(/(.{76})/g, '$1\n'), key.armoredSecretKey.replace(/\n/g, '\r\n')]) {
    const resolved = await resolveSigningKey({ env: { SPACK_SIGNING_KEY: value } });
    t.is(resolved.fingerprint, key.fingerprint);
    // Each form of the secret is registered: no output can carry it.
    t.false(redact(`value: ${value}`).includes(value));
  }
});

test('--signing-key FILE wins over SPACK_SIGNING_KEY', async (t) => {
  const [a, b] = await Promise.all([fresh, other]);
  const dir = await tempDir(t);
  const file = join(dir, 'key.asc');
  await writeFile(file, b.armoredSecretKey, { mode: 0o600 });
  const resolved = await resolveSigningKey({ signingKeyFile: file, env: { SPACK_SIGNING_KEY: a.armoredSecretKey } });
  t.is(resolved.source, 'file');
  t.is(resolved.fingerprint, b.fingerprint);
});

test('a missing key file names the file', async (t) => {
  await expectError(t, resolveSigningKey({ signingKeyFile: '/nonexistent/key.asc', env: {} }), 'input-not-found', /file \/nonexistent\/key\.asc does not exist/);
});

test('no key, not local, not ephemeral: an error naming every way to give one', async (t) => {
  const error = await expectError(t, resolveSigningKey({ env: {} }), 'config', /SPACK_SIGNING_KEY is not set/);
  t.regex(error?.hint ?? '', /SPACK_SIGNING_KEY/);
  t.regex(error?.hint ?? '', /--signing-key FILE/);
  t.regex(error?.hint ?? '', /--ephemeral-key/);
});

test('local mode without a key: a throw-away key and a LOUD warning', async (t) => {
  const warnings: string[] = [];
  const resolved = await resolveSigningKey({ local: true, env: { SPACK_SIGNING_KEY: '  ' }, warn: (line) => warnings.push(line) });
  t.is(resolved.source, 'ephemeral');
  t.deepEqual(resolved.warnings, [EPHEMERAL_FALLBACK_WARNING]);
  t.is(warnings.length, 1);
  t.regex(warnings[0] ?? '', /^WARNING: .*THROW-AWAY key.*CANNOT be verified or reused by any other build/s);
  const parsed = await openpgp.readPrivateKey({ armoredKey: resolved.armoredSecretKey });
  t.true(parsed.isDecrypted());
  t.is(parsed.getFingerprint().toUpperCase(), resolved.fingerprint);
  t.is(redact(resolved.armoredSecretKey).includes(bodyLines(resolved.armoredSecretKey)[2] ?? 'x'), false);
});

test('local mode with --strict refuses the implicit throw-away key', async (t) => {
  await expectError(t, resolveSigningKey({ local: true, strict: true, env: {} }), 'config', /--strict refuses the implicit throw-away key/, /--ephemeral-key/);
});

test('--ephemeral-key: a fresh key each time, no warning; a configured key is passed over with a note', async (t) => {
  const key = await fresh;
  const notes: string[] = [];
  const one = await resolveSigningKey({ ephemeral: true, env: { SPACK_SIGNING_KEY: key.armoredSecretKey }, warn: (line) => notes.push(line) });
  const two = await resolveSigningKey({ ephemeral: true, env: {} });
  t.is(one.source, 'ephemeral');
  t.not(one.fingerprint, two.fingerprint);
  t.not(one.fingerprint, key.fingerprint);
  t.deepEqual(one.warnings, []);
  t.regex(notes.join('\n'), /SPACK_SIGNING_KEY is not used/);
});

test('--ephemeral-key and --signing-key together are a usage error', async (t) => {
  await expectError(t, resolveSigningKey({ ephemeral: true, signingKeyFile: 'x.asc', env: {} }), 'usage', /exclude each other/);
});

test('not a key / not armored / public key: each error names the input and the fix', async (t) => {
  const key = await fresh;
  await expectError(
    t,
    resolveSigningKey({ env: { SPACK_SIGNING_KEY: 'just some text' } }),
    'key-invalid',
    /environment variable SPACK_SIGNING_KEY is not an OpenPGP key/,
    /--export-secret-keys --armor/,
  );
  const binary = (await openpgp.readPrivateKey({ armoredKey: key.armoredSecretKey })).write();
  await expectError(
    t,
    resolveSigningKey({ env: { SPACK_SIGNING_KEY: Buffer.from(binary).toString('base64') } }),
    'key-invalid',
    /binary \(unarmored\) OpenPGP secret key encoded in base64/,
    /--armor/,
  );
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: key.armoredPublicKey } }), 'key-public-only', /holds only the public key/, /--export-secret-keys/);
  const truncated = key.armoredSecretKey
    .split('\n')
    .filter((_, i) => i !== 4)
    .join('\n');
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: truncated } }), 'key-invalid', /cannot be read/, /-----BEGIN line to the -----END line/);
});

test('two keys in SPACK_SIGNING_KEY are refused (Spack needs exactly one secret key)', async (t) => {
  const [a, b] = await Promise.all([fresh, other]);
  // Both shapes of "two keys": two armored blocks one after the other, and one block holding two keys.
  const twoBlocks = `${a.armoredSecretKey}\n${b.armoredSecretKey}`;
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: twoBlocks } }), 'key-invalid', /holds 2 keys/, /gpg --export-secret-keys --armor KEYID/);
  const [pa, pb] = await Promise.all([a, b].map(async (key) => (await openpgp.readPrivateKey({ armoredKey: key.armoredSecretKey })).write()));
  const joined = openpgp.armor(openpgp.enums.armor.privateKey, Uint8Array.from([...pa!, ...pb!]));
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: joined } }), 'key-invalid', /holds 2 keys/);
});

test('passphrase-protected OpenPGP.js key: error without the passphrase, unprotected copy in memory with it', async (t) => {
  const key = await fresh;
  const privateKey = await openpgp.readPrivateKey({ armoredKey: key.armoredSecretKey });
  const protectedKey = (await openpgp.encryptKey({ privateKey, passphrase: 'a long passphrase' })).armor();
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: protectedKey } }), 'key-protected', /passphrase-protected/, /--passwd/);
  const resolved = await resolveSigningKey({ env: { SPACK_SIGNING_KEY: protectedKey, SPACK_SIGNING_KEY_PASSPHRASE: 'a long passphrase' } });
  t.true((await openpgp.readPrivateKey({ armoredKey: resolved.armoredSecretKey })).isDecrypted());
  // The passphrase and the decrypted copy are registered secrets.
  t.false(redact('pass: a long passphrase').includes('a long passphrase'));
  t.false(redact(resolved.armoredSecretKey).includes(bodyLines(resolved.armoredSecretKey).at(-1)!));
});

test('an expired key is an error; one expiring soon only warns (fails with strict)', async (t) => {
  const expired = await generateKey({ date: new Date(NOW.getTime() - 40 * DAY * 1000), expiresInSeconds: 10 * DAY });
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: expired.armoredSecretKey } }), 'key-unusable', /expired on/, /quick-set-expire/);
  const soon = await generateKey({ expiresInSeconds: 10 * DAY });
  const warned: string[] = [];
  const resolved = await resolveSigningKey({ env: { SPACK_SIGNING_KEY: soon.armoredSecretKey }, warn: (line) => warned.push(line) });
  t.deepEqual(
    resolved.warnings.map((warning) => warning.id),
    ['expiring-soon'],
  );
  t.regex(warned.join('\n'), /^warning: .*expires on .*\(in 10 days\)/);
  await expectError(t, resolveSigningKey({ strict: true, env: { SPACK_SIGNING_KEY: soon.armoredSecretKey } }), 'key-unusable', /\[expiring-soon\]/);
});

test('rotation period: default 180 days, configurable, judged against an injected clock', async (t) => {
  const key = await fresh;
  const later = (days: number) => new Date(Date.now() + days * DAY * 1000);
  t.deepEqual((await resolveSigningKey({ env: { SPACK_SIGNING_KEY: key.armoredSecretKey }, now: later(170) })).warnings, []);
  t.deepEqual(
    (await resolveSigningKey({ env: { SPACK_SIGNING_KEY: key.armoredSecretKey }, now: later(190) })).warnings.map((w) => w.id),
    ['rotation-due'],
  );
  t.deepEqual(
    (await resolveSigningKey({ env: { SPACK_SIGNING_KEY: key.armoredSecretKey }, now: later(40), rotationDays: 30 })).warnings.map((w) => w.id),
    ['rotation-due'],
  );
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: key.armoredSecretKey }, now: later(190), strict: true }), 'key-unusable', /with --strict.*rotation period/);
  await expectError(t, resolveSigningKey({ env: { SPACK_SIGNING_KEY: key.armoredSecretKey }, rotationDays: 0 }), 'usage', /rotation period 0/);
});

test('RSA under 3072 bits warns', async (t) => {
  const { privateKey } = await openpgp.generateKey({ type: 'rsa', rsaBits: 2048, userIDs: [{ name: 'Short RSA' }], format: 'armored' });
  const resolved = await resolveSigningKey({ env: { SPACK_SIGNING_KEY: privateKey } });
  t.deepEqual(
    resolved.warnings.map((warning) => warning.id),
    ['rsa-too-short'],
  );
  t.regex(resolved.warnings[0]?.message ?? '', /RSA 2048/);
});
