import test from 'ava';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as openpgp from 'openpgp';
import { extract } from 'tar-stream';
import type { Readable } from 'node:stream';
import { parsePublicKey, renderProject, writeRenderedProject } from '../../src/render/index.js';
import { runCli } from '../helpers/cli.js';
import { ensureBusyboxImage, ensureDebianGnupgImage } from '../helpers/images.js';

// Real parts: the Docker engine's BuildKit (docker 20.10 `docker build`), real gpg in the build
// steps, real images. `spack` and the eic-build image are stand-ins (fixtures/integration/standins):
// this file checks the generated shell (tmpfs GnuPG home, one-secret-key and fingerprint checks,
// the split-pipeline runtime, a layer-copy control), which needs no real Spack. Real Spack, real
// eic-build and a real registry run the same flow in test/spack/real-spack.test.ts.

const DOCKER = '/usr/bin/docker';
const fixture = fileURLToPath(new URL('./fixtures/integration/', import.meta.url));
const SPACK_IMAGE = 'eic-build-test/render-spack-standin:1';
const TOOL_IMAGE = 'eic-build-test/render-eic-build-standin:1';
const run = randomBytes(4).toString('hex');

interface Key {
  dir: string;
  secretFile: string;
  secretArmored: string;
  publicArmored: string;
  fingerprint: string;
}

async function makeKey(dir: string, name: string): Promise<Key> {
  const home = join(dir, `gnupg-${name}`);
  await mkdir(home, { mode: 0o700 });
  try {
    await execa('gpg', ['--homedir', home, '--batch', '--passphrase', '', '--quick-gen-key', `${name} <${name}@test.invalid>`, 'ed25519', 'sign', 'never']);
    const secretArmored = (await execa('gpg', ['--homedir', home, '--armor', '--export-secret-keys'])).stdout;
    const publicArmored = (await execa('gpg', ['--homedir', home, '--armor', '--export'])).stdout;
    const secretFile = join(dir, `${name}.secret.asc`);
    await writeFile(secretFile, `${secretArmored}\n`, { mode: 0o600 });
    const { fingerprint } = await parsePublicKey(publicArmored, name);
    return { dir, secretFile, secretArmored, publicArmored, fingerprint };
  } finally {
    await execa('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { reject: false });
    await rm(home, { recursive: true, force: true });
  }
}

async function dockerBuild(context: string, args: string[], env: Record<string, string> = {}) {
  return execa(DOCKER, ['build', '--progress=plain', ...args, context], { env: { ...env, DOCKER_BUILDKIT: '1' }, reject: false, all: true });
}

/** Every regular file of every layer of an image (docker save), as name → content. */
async function readLayers(image: string): Promise<{ names: string[]; contents: Buffer[] }> {
  const names: string[] = [];
  const contents: Buffer[] = [];
  const save = spawn(DOCKER, ['save', image], { stdio: ['ignore', 'pipe', 'inherit'] });
  const outer = extract();
  const readInner = (stream: Readable) =>
    new Promise<void>((resolve, reject) => {
      const inner = extract();
      inner.on('entry', (header, entry, next) => {
        names.push(header.name);
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: unknown) => {
          chunks.push(chunk as Buffer);
        });
        entry.on('end', () => {
          if (header.type === 'file') contents.push(Buffer.concat(chunks));
          next();
        });
      });
      inner.on('finish', resolve);
      inner.on('error', reject);
      stream.pipe(inner);
    });
  outer.on('entry', (header, stream, next) => {
    if (header.name.endsWith('layer.tar') || header.name.startsWith('blobs/')) {
      readInner(stream as unknown as Readable).then(
        () => next(),
        (error: Error) => outer.destroy(error),
      );
    } else {
      stream.resume();
      stream.on('end', next);
    }
  });
  await new Promise<void>((resolve, reject) => {
    outer.on('finish', resolve);
    outer.on('error', reject);
    save.stdout.pipe(outer);
  });
  return { names, contents };
}

/** The raw secret parameters of a key (what a binary keyring or a private-keys-v1.d file holds). */
async function secretKeyParams(armored: string): Promise<Buffer[]> {
  const privateKey = await openpgp.readPrivateKey({ armoredKey: armored });
  const params: Buffer[] = [];
  for (const packet of [privateKey.keyPacket, ...privateKey.getSubkeys().map((subkey) => subkey.keyPacket)]) {
    const values = Object.values((packet as unknown as { privateParams?: Record<string, unknown> }).privateParams ?? {});
    for (const value of values) if (value instanceof Uint8Array && value.length >= 16) params.push(Buffer.from(value));
  }
  if (params.length === 0) throw new Error('could not read the secret key parameters');
  return params;
}

/** Where the secret key shows up in an image, if anywhere (armor body lines, GnuPG key files). */
async function keyTraces(image: string, key: Key): Promise<string[]> {
  const body = key.secretArmored.split('\n').filter((line) => line.length >= 40 && !line.startsWith('-----'));
  const secretParams = await secretKeyParams(key.secretArmored);
  const { names, contents } = await readLayers(image);
  const traces = names.filter((name) => /private-keys-v1\.d\/.+|secring/.test(name)).map((name) => `file ${name}`);
  for (const content of contents) {
    const text = content.toString('latin1');
    for (const line of body) if (text.includes(line)) traces.push(`armored secret key line in a layer file`);
    for (const secret of secretParams) if (content.includes(secret)) traces.push('raw secret key material (binary keyring or GnuPG key file)');
  }
  return [...new Set(traces)];
}

const images: string[] = [];
let work = '';
let key: Key;
let contextDir = '';
let project: Awaited<ReturnType<typeof renderProject>>;
const registryEnv = { CI_REGISTRY_USER: 'render-bot', CI_REGISTRY_PASSWORD: `pw-${randomBytes(12).toString('hex')}` };

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'eic-build-render-int-'));
  await chmod(work, 0o700);
  const base = await ensureDebianGnupgImage();
  await ensureBusyboxImage();
  const standins = join(work, 'standins');
  await cp(join(fixture, 'standins'), standins, { recursive: true });
  await writeFile(
    join(standins, 'Dockerfile'),
    `FROM ${base} AS spack\nCOPY spack /usr/local/bin/spack\nRUN chmod 0755 /usr/local/bin/spack\nFROM ${base} AS tool\nCOPY eic-build /usr/local/bin/eic-build\nRUN chmod 0755 /usr/local/bin/eic-build\n`,
  );
  for (const [target, tag] of [
    ['spack', SPACK_IMAGE],
    ['tool', TOOL_IMAGE],
  ] as const) {
    const built = await dockerBuild(standins, ['--target', target, '-t', tag]);
    if (built.exitCode !== 0) throw new Error(`stand-in image ${tag} failed:\n${built.all}`);
  }
  key = await makeKey(work, 'signer');
  contextDir = join(work, 'context');
  await mkdir(contextDir);
  project = await renderProject({
    configFile: join(fixture, 'eic-build.yaml'),
    vars: { STANDIN_CACHE_ID: `eic-build-render-${run}` },
    env: { CI_REGISTRY: '127.0.0.1:5000', CI_PROJECT_PATH: 'eic/containers', SPACKPACKAGES_VERSION: 'v0.0.1' },
    publicKey: await parsePublicKey(key.publicArmored, 'test key'),
  });
  await writeRenderedProject(project, join(contextDir, '.eic-build'));
});

test.after.always(async () => {
  for (const image of images) await execa(DOCKER, ['rmi', '-f', image], { reject: false });
  if (work) await rm(work, { recursive: true, force: true });
});

/** The flags eic-build build derives from RenderedProject (secrets, build-args). */
function buildFlags(target: string, tag: string, overrides: { secretFile?: string; fingerprint?: string } = {}): string[] {
  const flags = ['-f', join(contextDir, '.eic-build/Dockerfile'), '--target', target, '-t', tag];
  for (const secret of project.secrets) {
    if (secret.purpose === 'signing-key') {
      if (target === 'builder') flags.push('--secret', `id=${secret.id},src=${overrides.secretFile ?? key.secretFile}`);
    } else if (secret.kind === 'file') flags.push('--secret', `id=${secret.id},src=${join(contextDir, '.eic-build', project.fileNames.mirrorsYaml)}`);
    else flags.push('--secret', `id=${secret.id},env=${secret.env}`);
  }
  for (const [name, value] of Object.entries(project.buildArgs)) flags.push('--build-arg', `${name}=${overrides.fingerprint ?? value}`);
  // A split pipeline: the runtime alone, as `eic-build build --target runtime` builds it (the builder ran in its own build).
  if (target === 'runtime') flags.push('--build-arg', 'EIC_BUILD_BUILDER_STAGE=builder-skipped');
  flags.push('--build-arg', `BUILDER_IMAGE=${SPACK_IMAGE}`, '--build-arg', `RUNTIME_IMAGE=${SPACK_IMAGE}`, '--build-arg', `EIC_BUILD_IMAGE=${TOOL_IMAGE}`);
  return flags;
}

test.serial('[integration] rendered Dockerfile builds: builder signs in a tmpfs home, runtime verifies, the key is in no layer', async (t) => {
  const builderTag = `eic-build-test/render-builder:${run}`;
  const runtimeTag = `eic-build-test/render-runtime:${run}`;
  images.push(builderTag, runtimeTag);

  const builder = await dockerBuild(contextDir, buildFlags('builder', builderTag), registryEnv);
  t.is(builder.exitCode, 0, builder.all);
  t.regex(builder.all!, /Pushed hello-1\.0-\w+ to local/, 'Spack (stand-in) signed the file mirror with the one key in SPACK_GNUPGHOME');
  t.regex(builder.all!, /Code signing is currently not supported for OCI images/);
  t.regex(builder.all!, /eic-build: signed hello-1\.0-\w+\.spack/, 'eic-build signed the OCI entry in the same step');
  t.false(builder.all!.includes(registryEnv.CI_REGISTRY_PASSWORD));

  const runtime = await dockerBuild(contextDir, buildFlags('runtime', runtimeTag), registryEnv);
  t.is(runtime.exitCode, 0, runtime.all);
  t.regex(runtime.all!, /Installed hello-1\.0-\w+ from a binary cache/);
  // Spack read only the verified copies (the scope's mirrors:: replaced the mounted mirrors.yaml),
  // and the copies were removed before the layer was committed.
  t.regex(runtime.all!, /Mirrors read from \/var\/tmp\/eic-build-verified\/scope\/mirrors\.yaml: (?:file:\/\/\/var\/tmp\/eic-build-verified\/mirrors\/\S+ ){2}\n/);
  t.regex(runtime.all!, /verified copy written to \/var\/tmp\/eic-build-verified\/mirrors\//);
  const noCopies = await execa(DOCKER, ['run', '--rm', runtimeTag, 'test', '-e', '/var/tmp/eic-build-verified'], { reject: false });
  t.not(noCopies.exitCode, 0, 'the verified copies are not in the runtime image');

  const log = await execa(DOCKER, ['run', '--rm', runtimeTag, 'cat', '/var/log/eic-build-verify.log']);
  t.regex(log.stdout, new RegExp(`verified file:///var/cache/standin-mirror/local hello-1\\.0-\\w+\\.spec\\.json signer ${key.fingerprint}`));
  t.regex(log.stdout, new RegExp(`verified oci://127\\.0\\.0\\.1:5000/eic/containers/spack-v0\\.0\\.1 hello-1\\.0-\\w+\\.spack signer ${key.fingerprint}`));
  const noTool = await execa(DOCKER, ['run', '--rm', runtimeTag, 'test', '-e', '/opt/eic-build/usr/local/bin/eic-build'], { reject: false });
  t.not(noTool.exitCode, 0, 'the mounted eic-build left nothing in the runtime image');

  // An independent second check on the image whose build step held the key.
  t.deepEqual(await keyTraces(builderTag, key), [], `${builderTag} must not contain the signing key`);
  // eic-build scan as the independent check. The Debian base layer holds library self-test keys
  // (libgcrypt, gnutls) that scan rightly reports; what matters is: nothing is our key, nothing
  // is in a layer this build added.
  const baseLayers = (await execa(DOCKER, ['image', 'inspect', '--format', '{{len .RootFS.Layers}}', SPACK_IMAGE])).stdout.trim();
  for (const image of [builderTag, runtimeTag]) {
    const findings = await scanFindings(image);
    t.deepEqual(
      findings.filter((finding) => finding.matchesPublicKey),
      [],
      `eic-build scan found the signing key in ${image}`,
    );
    t.deepEqual(
      findings.filter((finding) => (finding.layer?.index ?? 0) >= Number(baseLayers)).map((f) => `${f.path}: ${f.message}`),
      [],
      `${image}: key material in a layer of this build`,
    );
  }
});

interface ScanFinding {
  matchesPublicKey: boolean;
  layer: { index: number } | null;
  path: string;
  message: string;
}

async function scanFindings(image: string): Promise<ScanFinding[]> {
  const scan = await runCli(['scan', `docker-daemon:${image}`, '--format', 'json', '--public-key', join(contextDir, '.eic-build', project.fileNames.publicKeyFile)]);
  if (scan.exitCode !== 0 && scan.exitCode !== 1) throw new Error(`eic-build scan ${image} failed (${scan.exitCode}): ${String(scan.stderr)}`);
  return (JSON.parse(String(scan.stdout)) as { findings: ScanFinding[] }).findings;
}

test.serial('[integration] control: the layer check finds a key that was copied into a layer', async (t) => {
  const tag = `eic-build-test/render-leak:${run}`;
  images.push(tag);
  const dir = join(work, 'leak');
  await mkdir(dir);
  await writeFile(join(dir, 'Dockerfile'), `FROM eic-build-test/busybox:1\nRUN --mount=type=secret,id=k cp /run/secrets/k /leaked.asc\n`);
  // Secrets are not part of BuildKit's cache key: without --no-cache an earlier run's layer (with its key) is reused.
  const built = await dockerBuild(dir, ['--no-cache', '-t', tag, '--secret', `id=k,src=${key.secretFile}`]);
  t.is(built.exitCode, 0, built.all);
  t.true((await keyTraces(tag, key)).length > 0);
  t.true(
    (await scanFindings(tag)).some((finding) => finding.matchesPublicKey),
    'eic-build scan must see the copied key',
  );
});

test.serial('[integration] the signing step fails with two secret keys, and with a fingerprint that is not the key', async (t) => {
  const other = await makeKey(work, 'other');
  const both = join(work, 'both.secret.asc');
  await writeFile(both, `${key.secretArmored}\n${other.secretArmored}\n`, { mode: 0o600 });
  const twoKeys = await dockerBuild(contextDir, ['--no-cache', ...buildFlags('builder', `eic-build-test/render-fail:${run}`, { secretFile: both })], registryEnv);
  t.not(twoKeys.exitCode, 0);
  t.regex(twoKeys.all!, /expected exactly one secret key in SPACK_GNUPGHOME, found 2/);

  const wrongFpr = await dockerBuild(contextDir, buildFlags('runtime', `eic-build-test/render-fail:${run}`, { fingerprint: other.fingerprint }), registryEnv);
  t.not(wrongFpr.exitCode, 0);
  t.regex(wrongFpr.all!, /the public key file has fingerprint \w+ but build-arg SPACK_SIGNER_FINGERPRINT/);
  images.push(`eic-build-test/render-fail:${run}`);
});
