import test from 'ava';
import * as openpgp from 'openpgp';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../src/keys/generate-key.js';
import { runCli } from '../helpers/cli.js';
import { bodyLines, gpg, makeGpgHome, parseColons, secretOnlyLines } from './helpers/gpg.js';

// Keys made at test time (OpenPGP.js), once per file. RSA-3072 made by OpenPGP.js armors its
// secret and public keys alike, so the two share whole body lines: export-public must still
// print the public key intact through the redactor.
const ed25519 = generateKey({ name: 'CLI Test', email: 'cli@example.org' });
const rsa = openpgp.generateKey({ type: 'rsa', rsaBits: 3072, userIDs: [{ name: 'CLI RSA' }], format: 'armored' });

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-keys-cli-'));
  t.teardown(async () => rm(dir, { recursive: true, force: true }));
  return dir;
}

function outputs(result: { stdout: unknown; stderr: unknown }): string {
  return `${String(result.stdout)}\n${String(result.stderr)}`;
}

test('key generate: 0600 secret key, public key next to it, fingerprint printed, secret never printed', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'spack-signing-key.asc');
  const result = await runCli(['key', 'generate', '--output', file, '--expires', '1y']);
  t.is(result.exitCode, 0, String(result.stderr));
  t.is((await stat(file)).mode & 0o777, 0o600);
  const publicFile = join(dir, 'spack-signing-key.pub.asc');
  t.is((await stat(publicFile)).mode & 0o777, 0o644);
  const secret = await readFile(file, 'utf8');
  const key = await openpgp.readPrivateKey({ armoredKey: secret });
  t.true(key.isDecrypted(), 'the key is unprotected, as Spack needs');
  t.is(key.getAlgorithmInfo().algorithm, 'eddsaLegacy');
  const expiry = await key.getExpirationTime();
  t.true(expiry instanceof Date && Math.abs(expiry.getTime() - Date.now() - 365 * 86_400_000) < 60_000);
  t.regex(String(result.stdout), new RegExp(`fingerprint: ${key.getFingerprint().toUpperCase()}`));
  t.regex(String(result.stdout), new RegExp(`public key:  ${publicFile}`));
  t.regex(String(result.stderr), /SPACK_SIGNING_KEY/);
  t.notRegex(outputs(result), /PRIVATE KEY BLOCK/);
  for (const line of bodyLines(secret)) t.false(outputs(result).includes(line));
  t.is((await openpgp.readKey({ armoredKey: await readFile(publicFile, 'utf8') })).getFingerprint(), key.getFingerprint());
});

test('key generate refuses to overwrite without --force, and replaces both files with it', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'k.asc');
  t.is((await runCli(['key', 'generate', '--output', file])).exitCode, 0);
  const before = await readFile(file, 'utf8');
  const refused = await runCli(['key', 'generate', '--output', file]);
  t.is(refused.exitCode, 2);
  t.regex(String(refused.stderr), /k\.asc already exists; not overwriting a key\nhint: pass --force/);
  t.is(await readFile(file, 'utf8'), before);
  const forced = await runCli(['key', 'generate', '--output', file, '--force', '--name', 'Replaced']);
  t.is(forced.exitCode, 0, String(forced.stderr));
  t.not(await readFile(file, 'utf8'), before);
  t.is((await stat(file)).mode & 0o777, 0o600);
  t.regex(await readFile(join(dir, 'k.pub.asc'), 'utf8'), /PUBLIC KEY BLOCK/);
});

test('key generate: bad flags are usage errors and write nothing', async (t) => {
  const dir = await tempDir(t);
  const file = join(dir, 'k.asc');
  for (const [args, message] of [
    [['--algorithm', 'dsa1024'], /--algorithm 'dsa1024' is not supported/],
    [['--expires', 'soon'], /--expires 'soon' is not a duration/],
    [['--email', 'not an email'], /is not an email address/],
    [['extra'], /takes no arguments/],
    [['--output', '/'], /--output \/ is a directory/],
  ] as const) {
    const result = await runCli(['key', 'generate', '--output', file, ...args]);
    t.is(result.exitCode, 2);
    t.regex(String(result.stderr), message);
  }
  await t.throwsAsync(stat(file));
});

test('key inspect reads SPACK_SIGNING_KEY (armored or base64) and --env VAR; text and json; secret never printed', async (t) => {
  const key = await ed25519;
  const base64 = Buffer.from(key.armoredSecretKey).toString('base64');
  const runs = [
    await runCli(['key', 'inspect'], { env: { SPACK_SIGNING_KEY: key.armoredSecretKey } }),
    await runCli(['key', 'inspect', '--env', 'MY_KEY'], { env: { MY_KEY: base64 } }),
    await runCli(['key', 'inspect', '--format', 'json'], { env: { SPACK_SIGNING_KEY: base64 } }),
  ];
  for (const result of runs) {
    t.is(result.exitCode, 0, String(result.stderr));
    // Neither what it printed nor its own command line carries any of the key.
    for (const line of [...bodyLines(key.armoredSecretKey), base64]) {
      t.false(outputs(result).includes(line));
      t.false(result.command.includes(line));
    }
  }
  t.regex(String(runs[0]!.stdout), new RegExp(`fingerprint: +${key.fingerprint}`));
  t.regex(String(runs[0]!.stdout), /algorithm: +EdDSA ed25519/);
  t.regex(String(runs[0]!.stdout), /secret: +present\n/);
  t.regex(String(runs[0]!.stdout), /user ID: +CLI Test <cli@example.org>/);
  t.regex(String(runs[0]!.stdout), /checks: all passed/);
  t.regex(String(runs[1]!.stdout), /key from environment variable MY_KEY/);
  const json = JSON.parse(String(runs[2]!.stdout)) as {
    key: { primary: { fingerprint: string; secret: string }; signingKeys: string[] };
    identity: { keygrips: string[] };
    findings: unknown[];
    ok: boolean;
  };
  t.is(json.key.primary.fingerprint, key.fingerprint);
  t.deepEqual(json.key.signingKeys, [key.fingerprint]);
  t.is(json.identity.keygrips.length, 2);
  t.deepEqual(json.findings, []);
  t.true(json.ok);
});

test('key inspect: a failing check exits 2 with the finding and its fix; warnings only with --strict', async (t) => {
  const dir = await tempDir(t);
  const expired = await generateKey({ date: new Date(Date.now() - 400 * 86_400_000), expiresInSeconds: 30 * 86_400 });
  const file = join(dir, 'expired.asc');
  await writeFile(file, expired.armoredSecretKey, { mode: 0o600 });
  const result = await runCli(['key', 'inspect', file]);
  t.is(result.exitCode, 2);
  t.regex(String(result.stdout), /error: the signing key .* expired on .* \[expired\]\n +fix: extend it/);
  t.regex(String(result.stdout), /warning: .* beyond the 180-day rotation period \[rotation-due\]/);
  t.regex(String(result.stderr), /failed 1 check\(s\): expired/);
  t.regex(String(result.stdout), /expires: +\d{4}-\d\d-\d\d \(EXPIRED\)/);

  const old = await generateKey({ date: new Date(Date.now() - 200 * 86_400_000) });
  await writeFile(file, old.armoredSecretKey, { mode: 0o600 });
  t.is((await runCli(['key', 'inspect', file])).exitCode, 0);
  t.is((await runCli(['key', 'inspect', file, '--rotation-days', '365'])).exitCode, 0);
  const strict = await runCli(['key', 'inspect', file, '--strict']);
  t.is(strict.exitCode, 2);
  t.regex(String(strict.stderr), /rotation-due/);
  t.regex(String((await runCli(['key', 'inspect', file, '--rotation-days', 'x'])).stderr), /--rotation-days 'x' is not a positive whole number/);
});

test('key inspect of a public key file judges it for public use; of a non-key names the input', async (t) => {
  const dir = await tempDir(t);
  const key = await ed25519;
  const pub = join(dir, 'key.pub.asc');
  await writeFile(pub, key.armoredPublicKey);
  const result = await runCli(['key', 'inspect', pub]);
  t.is(result.exitCode, 0, String(result.stderr));
  t.regex(String(result.stdout), /secret: +absent \(public key\)/);
  t.regex(String(result.stdout), /judged for public use/);
  const notKey = await runCli(['key', 'inspect'], { env: { SPACK_SIGNING_KEY: 'hunter2-but-longer' } });
  t.is(notKey.exitCode, 2);
  t.regex(String(notKey.stdout), /environment variable SPACK_SIGNING_KEY is not an OpenPGP key .*\[not-a-key\]/);
  t.false(outputs(notKey).includes('hunter2-but-longer'));
  const missing = await runCli(['key', 'inspect'], { env: {} });
  t.is(missing.exitCode, 2);
  t.regex(String(missing.stderr), /environment variable SPACK_SIGNING_KEY is not set or empty/);
  t.is((await runCli(['key', 'inspect', pub, '--env', 'X'])).exitCode, 2);
});

test('[integration] key export-public prints an intact public key through the redactor, even when it shares lines with the secret', async (t) => {
  const { privateKey, publicKey } = await rsa;
  // The precondition this test is about: the two armors share whole lines.
  t.true(bodyLines(privateKey).some((line) => publicKey.includes(line)));
  const result = await runCli(['key', 'export-public'], { env: { SPACK_SIGNING_KEY: privateKey } });
  t.is(result.exitCode, 0, String(result.stderr));
  const printed = String(result.stdout);
  t.notRegex(printed, /REDACTED|PRIVATE/);
  const parsed = await openpgp.readKey({ armoredKey: printed });
  t.false(parsed.isPrivate());
  t.is(parsed.getFingerprint(), (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint());
  for (const line of secretOnlyLines(privateKey, publicKey)) t.false(outputs(result).includes(line));
  // The re-wrapped armor is ordinary armor to gpg as well.
  const home = await makeGpgHome(t);
  await gpg(home, ['--import'], printed);
  t.deepEqual(parseColons((await gpg(home, ['--with-colons', '-k'])).stdout).fingerprints[0], parsed.getFingerprint().toUpperCase());
});

test('key export-public --output writes the file; a protected key needs no passphrase for it', async (t) => {
  const dir = await tempDir(t);
  const key = await ed25519;
  const protectedKey = (await openpgp.encryptKey({ privateKey: await openpgp.readPrivateKey({ armoredKey: key.armoredSecretKey }), passphrase: 'pw-for-the-test' })).armor();
  const secretFile = join(dir, 'protected.asc');
  await writeFile(secretFile, protectedKey, { mode: 0o600 });
  const out = join(dir, 'out.pub.asc');
  const result = await runCli(['key', 'export-public', secretFile, '--output', out]);
  t.is(result.exitCode, 0, String(result.stderr));
  t.regex(String(result.stderr), new RegExp(`wrote the public key ${key.fingerprint} to`));
  t.is(String(result.stdout), '');
  t.is((await openpgp.readKey({ armoredKey: await readFile(out, 'utf8') })).getFingerprint().toUpperCase(), key.fingerprint);
});

test('key --help and each subcommand --help; unknown subcommand is a usage error', async (t) => {
  for (const args of [
    ['key', '--help'],
    ['key', 'generate', '--help'],
    ['key', 'inspect', '--help'],
    ['key', 'export-public', '--help'],
  ]) {
    const result = await runCli(args);
    t.is(result.exitCode, 0);
    t.regex(String(result.stdout), /usage: eic-build key/);
  }
  const unknown = await runCli(['key', 'frobnicate']);
  t.is(unknown.exitCode, 2);
  t.regex(String(unknown.stderr), /unknown subcommand 'key frobnicate'/);
});
