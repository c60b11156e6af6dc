import test from 'ava';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chooseDockerfile, prepareSources } from '../../src/build/sources.js';
import { EicBuildError } from '../../src/errors.js';
import { DEFAULT_LAYOUT } from '../../src/render/layout.js';

const noConfig = { file: undefined, build: { dockerfile: undefined } };

test('chooseDockerfile: --file, else build.dockerfile, else CONTEXT/Dockerfile without a config file, else render', (t) => {
  const ctx = '/ctx';
  t.deepEqual(
    chooseDockerfile({ file: 'x/Dockerfile.alt', config: { file: '/ctx/eic-build.yaml', build: { dockerfile: '/ctx/D' } }, contextDir: ctx, contextHasDockerfile: true }),
    { kind: 'user', path: resolve('x/Dockerfile.alt') },
  );
  t.deepEqual(chooseDockerfile({ file: undefined, config: { file: '/ctx/eic-build.yaml', build: { dockerfile: '/ctx/D' } }, contextDir: ctx, contextHasDockerfile: true }), {
    kind: 'user',
    path: '/ctx/D',
  });
  t.deepEqual(chooseDockerfile({ file: undefined, config: noConfig, contextDir: ctx, contextHasDockerfile: true }), { kind: 'user', path: '/ctx/Dockerfile' });
  // A config file without build.dockerfile means: render, even beside a Dockerfile.
  t.deepEqual(chooseDockerfile({ file: undefined, config: { file: '/ctx/eic-build.yaml', build: { dockerfile: undefined } }, contextDir: ctx, contextHasDockerfile: true }), {
    kind: 'render',
  });
  t.deepEqual(chooseDockerfile({ file: undefined, config: noConfig, contextDir: ctx, contextHasDockerfile: false }), { kind: 'render' });
});

async function context(t: { teardown: (fn: () => Promise<void>) => void }, dockerfile: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-sources-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

const key = { armoredPublicKey: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n(public)\n-----END PGP PUBLIC KEY BLOCK-----\n' } as never;
const config = { file: undefined, text: undefined, build: { dockerfile: undefined, baseImages: [] } } as never;

test('a user Dockerfile that reads the public key file gets it (git-ignored); one that does not gets no stray file', async (t) => {
  const reads = await context(t, `FROM scratch\nCOPY ${DEFAULT_LAYOUT.publicContextPath} /key.asc\n`);
  const sources = await prepareSources({ config, options: { file: undefined, vars: {} }, contextDir: reads, key, render: undefined, env: {}, layout: DEFAULT_LAYOUT });
  t.is(sources.dockerfile, join(reads, 'Dockerfile'));
  t.is(await readFile(join(reads, DEFAULT_LAYOUT.publicContextPath), 'utf8'), (key as { armoredPublicKey: string }).armoredPublicKey);
  t.regex(await readFile(join(reads, '.eic-build', '.gitignore'), 'utf8'), /^\*$/m);
  const plain = await context(t, 'FROM scratch\n');
  await prepareSources({ config, options: { file: undefined, vars: {} }, contextDir: plain, key, render: undefined, env: {}, layout: DEFAULT_LAYOUT });
  await t.throwsAsync(stat(join(plain, '.eic-build')));
});

test('a --file that does not exist, and no renderer for a context without a Dockerfile, are named errors', async (t) => {
  const dir = await context(t, 'FROM scratch\n');
  const missing = await t.throwsAsync(
    prepareSources({ config, options: { file: join(dir, 'nope'), vars: {} }, contextDir: dir, key, render: undefined, env: {}, layout: DEFAULT_LAYOUT }),
    { instanceOf: EicBuildError },
  );
  t.is(missing?.code, 'input-not-found');
  t.regex(missing?.message ?? '', /Dockerfile .*nope does not exist/);
  await rm(join(dir, 'Dockerfile'));
  const none = await t.throwsAsync(prepareSources({ config, options: { file: undefined, vars: {} }, contextDir: dir, key, render: undefined, env: {}, layout: DEFAULT_LAYOUT }), {
    instanceOf: EicBuildError,
  });
  t.regex(none?.message ?? '', /no Dockerfile to build/);
});
