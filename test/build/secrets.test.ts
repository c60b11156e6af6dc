import test from 'ava';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { planSecrets, provideSecrets, secretsByEnv } from '../../src/build/secrets.js';
import { redact } from '../../src/redact.js';

const layout = { signingSecretId: 'spack-signing-key', mirrorsSecretId: 'mirrors' };
const key = { armoredSecretKey: '-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot a real key, a stand-in value for the transport\n-----END PGP PRIVATE KEY BLOCK-----\n' };

test('planSecrets: the signing key first, the mirrors file, set EIC registry credentials (unless a --secret takes the id), then --secret in order', (t) => {
  const needs = planSecrets({
    userSecrets: [
      { kind: 'env', id: 'token', env: 'MY_TOKEN' },
      { kind: 'file', id: 'netrc', src: 'netrc' },
      { kind: 'file', id: 'CI_REGISTRY_PASSWORD', src: 'pw' },
    ],
    key,
    layout,
    mirrorsFile: '/ctx/.eic-build/mirrors.yaml',
    env: { MY_TOKEN: 'token-value-1', CI_REGISTRY_USER: 'ci-user-name', CI_REGISTRY_PASSWORD: 'from-the-env' },
  });
  t.deepEqual(
    needs.map((n) => [n.kind, n.id]),
    [
      ['value', 'spack-signing-key'],
      ['file', 'mirrors'],
      ['value', 'CI_REGISTRY_USER'],
      ['value', 'token'],
      ['file', 'netrc'],
      ['file', 'CI_REGISTRY_PASSWORD'],
    ],
  );
  t.like(needs[3], { value: 'token-value-1' });
  t.like(needs[4], { path: join(process.cwd(), 'netrc') });
});

test("planSecrets refuses the signing key's id and an env= variable that is not set, naming them", (t) => {
  const reserved = t.throws(() => planSecrets({ userSecrets: [{ kind: 'env', id: 'spack-signing-key', env: 'X' }], key, layout, mirrorsFile: undefined, env: { X: 'x' } }), {
    instanceOf: EicBuildError,
  });
  t.regex(reserved?.message ?? '', /--secret id=spack-signing-key is reserved/);
  const unset = t.throws(() => planSecrets({ userSecrets: [{ kind: 'env', id: 'token', env: 'NOT_SET' }], key, layout, mirrorsFile: undefined, env: {} }), {
    instanceOf: EicBuildError,
  });
  t.regex(unset?.message ?? '', /--secret id=token,env=NOT_SET: NOT_SET is not set/);
});

test('secretsByEnv: env= where the client supports it, unless EIC_BUILD_SECRET_TRANSPORT=file', (t) => {
  t.true(secretsByEnv(true, {}));
  t.false(secretsByEnv(true, { EIC_BUILD_SECRET_TRANSPORT: 'file' }));
  t.false(secretsByEnv(false, {}));
});

test('provideSecrets: by env the value is only in the invocation env; by file a 0600 file that dispose removes; values are redacted from then on', async (t) => {
  const needs = [{ kind: 'value' as const, id: 'token', value: 'a-token-value-for-provide' }];
  const byEnv = await provideSecrets(needs, true);
  t.deepEqual(byEnv.secrets, [{ kind: 'env', id: 'token', envName: 'EIC_BUILD_SECRET_TOKEN', value: 'a-token-value-for-provide' }]);
  t.is(redact('log: a-token-value-for-provide'), 'log: [REDACTED]');
  const byFile = await provideSecrets(needs, false);
  const secret = byFile.secrets[0]!;
  if (secret.kind !== 'file') return t.fail('expected a file secret');
  t.is((await stat(secret.path)).mode & 0o777, 0o600);
  t.is(await readFile(secret.path, 'utf8'), 'a-token-value-for-provide');
  await byFile.dispose();
  await t.throwsAsync(stat(secret.path));
});

test('provideSecrets: a --secret src= file that is missing is refused naming it, and no temp file of the other secrets is left behind', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-secrets-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'present'), 'x');
  const error = await t.throwsAsync(
    provideSecrets(
      [
        { kind: 'value', id: 'k', value: 'value-before-the-missing-file' },
        { kind: 'file', id: 'gone', path: join(dir, 'gone'), spec: { kind: 'file', id: 'gone', src: 'gone' } },
      ],
      false,
    ),
    { instanceOf: EicBuildError },
  );
  t.is(error?.code, 'input-not-found');
  t.regex(error?.message ?? '', /--secret id=gone,src=gone: .*gone is not a file/);
  // No temp secret dir holds the value (other processes' dirs may come and go meanwhile: read by content).
  for (const name of (await readdir(tmpdir())).filter((n) => n.startsWith('eic-build-secret-'))) {
    const file = await readFile(join(tmpdir(), name, 'k'), 'utf8').catch(() => '');
    t.false(file.includes('value-before-the-missing-file'), name);
  }
});

test("provideSecrets: a --secret src= file's contents are redacted from then on (a step that prints the mounted file shows no secret)", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-secrets-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'netrc'), 'machine example.invalid login ci password a-file-secret-password-value\n');
  t.is(redact('cat: a-file-secret-password-value'), 'cat: a-file-secret-password-value');
  const provided = await provideSecrets([{ kind: 'file', id: 'netrc', path: join(dir, 'netrc'), spec: { kind: 'file', id: 'netrc', src: 'netrc' } }], false);
  t.deepEqual(provided.secrets, [{ kind: 'file', id: 'netrc', path: join(dir, 'netrc') }]);
  t.false(redact('#5 machine example.invalid login ci password a-file-secret-password-value').includes('a-file-secret-password-value'));
  await provided.dispose();
});
