import test from 'ava';
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryIo } from '../../src/cli-io.js';
import { renderCommand } from '../../src/commands/render.js';
import { EicBuildError, type ErrorCode } from '../../src/errors.js';
import { generateKey } from '../../src/keys/generate-key.js';
import { publicKeyContextPath, renderProject } from '../../src/render/index.js';
import { runCli } from '../helpers/cli.js';
import { EIC_ENV, PLACEHOLDER_KEY } from './inputs.js';

const fixtureDir = fileURLToPath(new URL('./fixtures/eic/', import.meta.url));

/**
 * One key pair for the file, made at run time (never committed) by OpenPGP.js: rendering only reads
 * the key, so the test needs no gpg (it stays a unit test).
 */
const keys = await (async () => {
  const key = await generateKey({ name: 'Render Test', email: 'render@test.invalid' });
  return { publicKey: key.armoredPublicKey, secretKey: key.armoredSecretKey, fingerprint: key.fingerprint };
})();

async function tempDir(t: import('ava').ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-render-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('render writes Dockerfile, mirrors.yaml and the public key into <context>/.eic-build', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'public.asc'), keys.publicKey);
  const io = memoryIo(EIC_ENV);
  t.is(await renderCommand(['--public-key', join(dir, 'public.asc'), '--context', dir], io), 0);
  t.deepEqual((await readdir(join(dir, '.eic-build'))).sort(), ['Dockerfile', 'mirrors.yaml', 'spack-signer-public.asc']);
  const publicFile = await readFile(join(dir, '.eic-build/spack-signer-public.asc'), 'utf8');
  t.regex(publicFile, /BEGIN PGP PUBLIC KEY BLOCK/);
  t.regex(io.stdout, new RegExp(`public key ${keys.fingerprint}`));
  t.regex(io.stderr, new RegExp(`--build-arg SPACK_SIGNER_FINGERPRINT=${keys.fingerprint}`));
  t.regex(io.stderr, /note: mirror eic-build-cache \(OCI\)/);
  t.regex(await readFile(join(dir, '.eic-build/Dockerfile'), 'utf8'), /COPY \.eic-build\/spack-signer-public\.asc \/spack-signer-public\.asc/);
});

test('render derives the public key from --signing-key or SPACK_SIGNING_KEY and never prints the secret', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'secret.asc'), keys.secretKey, { mode: 0o600 });
  const io = memoryIo(EIC_ENV);
  t.is(await renderCommand(['--signing-key', join(dir, 'secret.asc'), '--context', dir, '--json'], io), 0);
  const json = JSON.parse(io.stdout);
  t.is(json.publicKey.fingerprint, keys.fingerprint);
  const written = await readFile(join(dir, '.eic-build/spack-signer-public.asc'), 'utf8');
  t.false(written.includes('PRIVATE'));
  const io2 = memoryIo({ ...EIC_ENV, SPACK_SIGNING_KEY: Buffer.from(keys.secretKey).toString('base64') });
  t.is(await renderCommand(['--context', dir, '--json'], io2), 0);
  t.is(JSON.parse(io2.stdout).publicKey.fingerprint, keys.fingerprint);
  for (const output of [io.stdout, io.stderr, io2.stdout, io2.stderr]) t.false(output.includes('PRIVATE KEY BLOCK-----\n\n'));
});

test('a private key given as --public-key is refused before anything is written', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'secret.asc'), keys.secretKey, { mode: 0o600 });
  const error = await t.throwsAsync(renderCommand(['--public-key', join(dir, 'secret.asc'), '--context', dir], memoryIo(EIC_ENV)), { instanceOf: EicBuildError });
  t.is(error!.code, 'key-invalid');
  t.regex(error!.message, /holds a PRIVATE key/);
  await t.throwsAsync(readdir(join(dir, '.eic-build')));
});

test('usage errors: no key, bad --var, output outside the context, unknown --var name, generated name', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'public.asc'), keys.publicKey);
  const pub = ['--public-key', join(dir, 'public.asc'), '--context', dir];
  const cases: [string[], ErrorCode, RegExp][] = [
    [['--context', dir], 'usage', /needs the public signing key/],
    [[...pub, '--var', 'NOEQUALS'], 'usage', /is not NAME=VALUE/],
    [[...pub, 'extra'], 'usage', /takes no positional arguments/],
    [[...pub, '--colour'], 'usage', /Unknown option '--colour'/],
    [[...pub, '--signing-key', join(dir, 'public.asc')], 'usage', /exclude each other/],
    [[...pub, '--output-dir', tmpdir()], 'usage', /is not inside the build context/],
    [[...pub, '--var', 'HOME=/x'], 'render', /HOME is not in the allowed list/],
    [[...pub, '--var', 'EIC_BUILD_STRICT=true'], 'render', /computed by eic-build/],
    [['--public-key', join(dir, 'missing.asc')], 'input-not-found', /cannot read the file/],
    [[...pub, '--config', join(dir, 'missing.yaml')], 'input-not-found', /project config/],
  ];
  for (const [argv, code, message] of cases) {
    const error = await t.throwsAsync(renderCommand(argv, memoryIo(EIC_ENV)), { instanceOf: EicBuildError }, argv.join(' '));
    t.is(error!.code, code, argv.join(' '));
    t.regex(error!.message, message);
  }
  await t.throwsAsync(readdir(join(dir, '.eic-build')));
});

test('publicKeyContextPath: the key path the Dockerfile COPYs, relative to the build context', (t) => {
  t.is(publicKeyContextPath('/ctx', '/ctx/.eic-build'), '.eic-build/spack-signer-public.asc');
  t.is(publicKeyContextPath('/ctx', '/ctx'), 'spack-signer-public.asc');
  t.is(publicKeyContextPath('/ctx', '/ctx/a/b'), 'a/b/spack-signer-public.asc');
  t.throws(() => publicKeyContextPath('/ctx', '/elsewhere'), { message: /not inside the build context/ });
});

test('unset EIC variables in both templates are all reported at once, with file:line:column', async (t) => {
  const error = await t.throwsAsync(renderProject({ vars: {}, env: {}, publicKey: PLACEHOLDER_KEY }), { instanceOf: EicBuildError });
  t.is(error!.code, 'render');
  t.regex(error!.message, /7 problems/);
  t.regex(error!.message, /bundled:mirrors\.yaml\.in:6:16: variable CI_REGISTRY is not set/);
  t.regex(error!.message, /bundled:dockerfile\/00-header\.Dockerfile\.in:4:19: variable CI_REGISTRY is not set/);
  t.regex(error!.message, /SPACKPACKAGES_VERSION/);
});

test('a user template that breaks lint rules fails rendering with every finding', async (t) => {
  const dir = await tempDir(t);
  await cp(fixtureDir, dir, { recursive: true });
  const runtime = join(dir, 'stages/runtime.Dockerfile.in');
  const text = await readFile(runtime, 'utf8');
  // The mistakes EIC made by hand: skip signature checks, keep a fallback, a key-named ARG.
  await writeFile(
    runtime,
    text
      .replace('install --use-buildcache only', 'install --use-buildcache only --no-check-signature')
      .replace('ARG ${EIC_BUILD_FINGERPRINT_ARG}', 'ARG ${EIC_BUILD_FINGERPRINT_ARG}\nARG SPACK_PUBKEY_TOKEN=none'),
  );
  const error = await t.throwsAsync(renderProject({ configFile: join(dir, 'eic-build.yaml'), vars: {}, env: EIC_ENV, publicKey: PLACEHOLDER_KEY }), { instanceOf: EicBuildError });
  t.is(error!.code, 'lint');
  t.regex(error!.message, /Dockerfile \(rendered\):\d+:1: \[runtime-no-check-signature\]/);
  t.regex(error!.message, /\[no-secret-words-in-arg-env\] ARG SPACK_PUBKEY_TOKEN.*\(from stages\/runtime\.Dockerfile\.in:5\)/);
  t.regex(error!.message, /\[runtime-no-check-signature\].*\(from stages\/runtime\.Dockerfile\.in:8\)/);
  t.regex(error!.hint ?? '', /docs\/render\.md/);
});

test('a user mirrors template with a literal token is refused, naming the rendered line', async (t) => {
  const dir = await tempDir(t);
  await cp(fixtureDir, dir, { recursive: true });
  const mirrors = join(dir, 'mirrors.yaml.in');
  await writeFile(mirrors, (await readFile(mirrors, 'utf8')).replace('secret_variable: CI_REGISTRY_PASSWORD', 'secret_variable: glpat-0123456789abcdefghij'));
  const error = await t.throwsAsync(renderProject({ configFile: join(dir, 'eic-build.yaml'), vars: {}, env: EIC_ENV, publicKey: PLACEHOLDER_KEY }), { instanceOf: EicBuildError });
  t.regex(error!.message, /mirrors\.yaml\.in \(rendered\):8:24: value looks like a GitLab token/);
  t.false(error!.message.includes('glpat-0123456789abcdefghij'.slice(6)), 'the token itself is not echoed');
});

test('syntax line is configurable and transition mode is explicit and warns', async (t) => {
  const dir = await tempDir(t);
  await cp(fixtureDir, dir, { recursive: true });
  const config = join(dir, 'eic-build.yaml');
  await writeFile(config, (await readFile(config, 'utf8')).replace('check: error=true', 'check: error=true\nsyntax: docker/dockerfile:1.7\ntransition: true'));
  const project = await renderProject({ configFile: config, vars: {}, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.true(project.files.dockerfile.startsWith('# syntax=docker/dockerfile:1.7\n# check=error=true\n'));
  t.regex(project.warnings.join('\n'), /transition mode is ON/);
  t.regex(project.files.dockerfile, /if ! \/opt\/eic-build\/usr\/local\/bin\/eic-build buildcache verify .*WARNING: transition mode/);
  const bundled = await renderProject({ vars: {}, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.false(bundled.files.dockerfile.includes('# syntax='), 'no syntax line unless configured');
  t.deepEqual(bundled.warnings, []);
});

test('BUILDCACHE_VERIFY_SELECTION narrows what runtime steps verify; anything but --all/--spec is refused', async (t) => {
  const narrowed = await renderProject({ vars: { BUILDCACHE_VERIFY_SELECTION: '--spec zlib-1.3-abc --spec hello-1.0-def' }, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.regex(narrowed.files.dockerfile, /--public-key \/run\/eic-build\/spack-signer-public\.asc --spec zlib-1\.3-abc --spec hello-1\.0-def --copy-to /);
  const error = await t.throwsAsync(renderProject({ vars: { BUILDCACHE_VERIFY_SELECTION: '--all; curl x' }, env: EIC_ENV, publicKey: PLACEHOLDER_KEY }), {
    instanceOf: EicBuildError,
  });
  t.regex(error!.message, /BUILDCACHE_VERIFY_SELECTION:1:1: '--all; curl x' is not '--spack-lock \/ABSOLUTE\/spack.lock \[--include-build-deps\]', '--all' or '--spec/);
  const relative = await t.throwsAsync(renderProject({ vars: { BUILDCACHE_VERIFY_SELECTION: '--spack-lock spack.lock' }, env: EIC_ENV, publicKey: PLACEHOLDER_KEY }), {
    instanceOf: EicBuildError,
  });
  t.regex(relative!.message, /'--spack-lock spack.lock' is not/);
  // Default: the lockfile of the environment the step installs, never the whole buildcache.
  const byDefault = await renderProject({ vars: {}, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.regex(byDefault.files.dockerfile, /--public-key \/run\/eic-build\/spack-signer-public\.asc --spack-lock \/opt\/spack-environment\/spack\.lock --copy-to /);
  const otherEnv = await renderProject({ vars: { SPACK_ENV: '/opt/env/xl/' }, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.regex(otherEnv.files.dockerfile, /--spack-lock \/opt\/env\/xl\/spack\.lock --copy-to /);
  // A named environment cannot give the default lockfile path: SPACK_ENV is named, not a variable the user never set.
  const named = await t.throwsAsync(renderProject({ vars: { SPACK_ENV: 'eic' }, env: EIC_ENV, publicKey: PLACEHOLDER_KEY }), { instanceOf: EicBuildError });
  t.regex(named!.message, /SPACK_ENV:1:1: 'eic' is not an absolute environment directory/);
  t.notRegex(named!.message, /BUILDCACHE_VERIFY_SELECTION:1:1/);
  const namedWithSelection = await renderProject({ vars: { SPACK_ENV: 'eic', BUILDCACHE_VERIFY_SELECTION: '--all' }, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.regex(namedWithSelection.files.dockerfile, /--env 'eic' config get mirrors/);
  const all = await renderProject({ vars: { BUILDCACHE_VERIFY_SELECTION: '--all' }, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.regex(all.files.dockerfile, /spack-signer-public\.asc --all --copy-to /);
});

test('--var overrides the environment, which overrides eic-build.yaml values', async (t) => {
  const fromConfig = await renderProject({ configFile: join(fixtureDir, 'eic-build.yaml'), vars: {}, env: EIC_ENV, publicKey: PLACEHOLDER_KEY });
  t.regex(fromConfig.files.dockerfile, /ccache-xl/);
  const fromEnv = await renderProject({ configFile: join(fixtureDir, 'eic-build.yaml'), vars: {}, env: { ...EIC_ENV, ENV: 'ci' }, publicKey: PLACEHOLDER_KEY });
  t.regex(fromEnv.files.dockerfile, /ccache-ci/);
  const fromCli = await renderProject({ configFile: join(fixtureDir, 'eic-build.yaml'), vars: { ENV: 'tf' }, env: { ...EIC_ENV, ENV: 'ci' }, publicKey: PLACEHOLDER_KEY });
  t.regex(fromCli.files.dockerfile, /ccache-tf/);
});

test('render --config takes the eic-build.yaml that eic-build build reads (its build: section is skipped)', async (t) => {
  const dir = await tempDir(t);
  const example = fileURLToPath(new URL('../../examples/signed-artifacts/', import.meta.url));
  await cp(example, join(dir, 'project'), { recursive: true, filter: (src) => !src.includes('.eic-build') });
  t.regex(await readFile(join(dir, 'project/eic-build.yaml'), 'utf8'), /^build:/m, 'the example still carries a build: section');
  await writeFile(join(dir, 'public.asc'), keys.publicKey);
  const io = memoryIo(EIC_ENV);
  const code = await renderCommand(['--config', join(dir, 'project/eic-build.yaml'), '--context', join(dir, 'project'), '--public-key', join(dir, 'public.asc')], io);
  t.is(code, 0, io.stderr);
  t.deepEqual((await readdir(join(dir, 'project/.eic-build'))).sort(), ['Dockerfile', 'mirrors.yaml', 'spack-signer-public.asc']);
  // A typo next to build: is still the renderer's to report.
  await writeFile(join(dir, 'typo.yaml'), 'build:\n  dockerfile: Dockerfile\ntemplate: {}\n');
  const typo = memoryIo(EIC_ENV);
  await t.throwsAsync(renderCommand(['--config', join(dir, 'typo.yaml'), '--context', join(dir, 'project'), '--public-key', join(dir, 'public.asc')], typo), {
    message: /typo\.yaml:3:1: unknown key 'template'/,
  });
});

test('CLI: eic-build render --help, and an error exits 2 with file:line:column', async (t) => {
  const help = await runCli(['render', '--help']);
  t.is(help.exitCode, 0);
  t.regex(String(help.stdout), /usage: eic-build render/);
  const dir = await tempDir(t);
  await mkdir(join(dir, 'ctx'));
  await writeFile(join(dir, 'public.asc'), keys.publicKey);
  const failed = await runCli(['render', '--public-key', join(dir, 'public.asc'), '--context', join(dir, 'ctx')], { env: { CI_REGISTRY: '127.0.0.1:5000' }, extendEnv: false });
  t.is(failed.exitCode, 2);
  t.regex(String(failed.stderr), /bundled:mirrors\.yaml\.in:6:31: variable CI_PROJECT_PATH is not set/);
  await t.throwsAsync(readdir(join(dir, 'ctx/.eic-build')));
});

test('examples/spack-environment renders with the bundled stages: the runtime waits for the builder, --target runtime can skip it', async (t) => {
  const { PLACEHOLDER_KEY } = await import('./inputs.js');
  const config = fileURLToPath(new URL('../../examples/spack-environment/eic-build.yaml', import.meta.url));
  const project = await renderProject({ configFile: config, vars: {}, env: { CI_REGISTRY: '127.0.0.1:5000', CI_PROJECT_PATH: 'demo' }, publicKey: PLACEHOLDER_KEY });
  t.deepEqual(
    project.mirrors.map((mirror) => [mirror.name, mirror.url, mirror.autopush]),
    [['buildcache', 'oci+http://127.0.0.1:5000/demo/spack-cache', true]],
  );
  t.deepEqual(
    project.stages.map((stage) => `${stage.name}:${stage.kind}`),
    ['spack-signer-public:other', 'eic-build:other', 'builder:builder', 'builder-skipped:other', 'builder-done:other', 'runtime:runtime'],
  );
  t.deepEqual(project.runtimeAloneBuildArgs, { EIC_BUILD_BUILDER_STAGE: 'builder-skipped' });
  t.regex(project.files.dockerfile, /^ARG EIC_BUILD_BUILDER_STAGE=builder$/m);
  t.regex(project.files.dockerfile, /^FROM \$\{EIC_BUILD_BUILDER_STAGE\} AS builder-done$/m);
  t.regex(project.files.dockerfile, /--mount=type=bind,from=builder-done,source=\/var\/lib\/eic-build\/builder-done,target=\/run\/eic-build\/builder-done/);
});
