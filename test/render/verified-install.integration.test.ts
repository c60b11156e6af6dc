// End to end: a rendered runtime stage verifies before it installs. Real parts: the Docker engine's
// BuildKit (docker 20.10 `docker build`), eic-build's own image (Dockerfile.frontend) bind-mounted
// into the RUN step and running the real `eic-build buildcache verify --copy-to`, a real registry on
// loopback holding a Spack-format OCI buildcache signed by `eic-build buildcache sign` code with a
// key made now, real gpg. Only `spack` is a stand-in (fixtures/verified-install/spack): Spack cannot
// be installed here; the stand-in reads the layout-v3 copies eic-build wrote and checks their blobs.
// The RUN step reaches the registry on 127.0.0.1 through `docker build --network host` (BuildKit in
// docker 20.10 grants the network.host entitlement for it); the registry listens on loopback only.
import test from 'ava';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signOciMirror } from '../../src/buildcache/sign/sign-oci.js';
import { loadSigningKey } from '../../src/buildcache/sign/signing-key.js';
import { RegistryClient } from '../../src/registry/client.js';
import { parsePublicKey, renderProject, writeRenderedProject, type RenderedProject } from '../../src/render/index.js';
import { fakeHash, formatSpackLock, killAgent, makeGpgKey, pushOciEntry, pushOciEntryWithDeps, pushOciIndex, specTarball, tempDir, type FixtureSpec, type GpgKey } from '../buildcache/fixtures.js';
import { runCli } from '../helpers/cli.js';
import { ensureFrontendImage } from '../helpers/frontend-image.js';
import { ensureDebianGnupgImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const DOCKER = '/usr/bin/docker';
const fixture = fileURLToPath(new URL('./fixtures/verified-install/', import.meta.url));
const TOOL_IMAGE = 'eic-build-test/frontend:verified-install';
const RUNTIME_BASE = 'eic-build-test/verified-install-spack-standin:1';
const REPOSITORY = 'eic/verified-install/spack-cache';
const run = randomBytes(4).toString('hex');
const images: string[] = [];

let registry: TestRegistry;
let client: RegistryClient;
let work: string;
let cleanup: () => Promise<void>;
let key: GpgKey;
let project: RenderedProject;
let contextDir: string;
/** The rendered Dockerfile, built exactly as written. */
let dockerfile: string;
const specs: Record<'zlib' | 'hdf5' | 'app', FixtureSpec> = {
  zlib: { name: 'zlib', version: '1.3.1', hash: fakeHash() },
  hdf5: { name: 'hdf5', version: '1.14.5', hash: fakeHash() },
  app: { name: 'app', version: '2.0', hash: fakeHash() },
};
const idOf = (spec: FixtureSpec) => `${spec.name}-${spec.version}-${spec.hash}`;
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function dockerBuild(args: string[]) {
  return execa(DOCKER, ['build', '--progress=plain', ...args, contextDir], { env: { DOCKER_BUILDKIT: '1' }, reject: false, all: true });
}

test.before(async () => {
  ({ dir: work, cleanup } = await tempDir('eic-build-verified-install-'));
  await chmod(work, 0o700);
  const [base, , started, gpgKey] = await Promise.all([
    ensureDebianGnupgImage(),
    ensureFrontendImage(TOOL_IMAGE, ['buildcache/copy-mirror.js']),
    startRegistry(),
    makeGpgKey(work, 'Verified Install Signer'),
  ]);
  registry = started;
  key = gpgKey;
  client = new RegistryClient({ registry: registry.host, insecure: true });

  // The runtime base: the shared Debian image plus the spack stand-in.
  const standin = join(work, 'standin');
  await mkdir(standin);
  await copyFile(join(fixture, 'spack'), join(standin, 'spack'));
  await writeFile(join(standin, 'Dockerfile'), `FROM ${base}\nCOPY spack /usr/local/bin/spack\nRUN chmod 0755 /usr/local/bin/spack\n`);
  const built = await execa(DOCKER, ['build', '-q', '-t', RUNTIME_BASE, standin], { env: { DOCKER_BUILDKIT: '1' }, reject: false, all: true });
  if (built.exitCode !== 0) throw new Error(`building ${RUNTIME_BASE} failed:\n${String(built.all)}`);

  // The buildcache: zlib; hdf5 (layers: zlib's tarball, then its own); app (zlib, hdf5, then its own).
  const zlibTarball = await specTarball(specs.zlib);
  const zlib = await pushOciEntry(client, REPOSITORY, specs.zlib, zlibTarball);
  const zlibLayer = { digest: zlib.layerDigest, size: zlibTarball.length };
  const hdf5 = await pushOciEntryWithDeps(client, REPOSITORY, specs.hdf5, [zlibLayer]);
  await pushOciEntryWithDeps(client, REPOSITORY, specs.app, [zlibLayer, { digest: hdf5.layerDigest, size: hdf5.tarball.length }]);
  await pushOciIndex(client, REPOSITORY, Object.values(specs));
  const signingKey = await loadSigningKey({ file: key.secretFile, env: {} });
  const signed = await signOciMirror(client, { repository: REPOSITORY, signingKey });
  if (signed.length !== 3 || signed.some((outcome) => outcome.kind !== 'signed')) throw new Error(`signing failed: ${JSON.stringify(signed)}`);

  // The build context: the environment (its lockfile) and the rendered project.
  contextDir = join(work, 'context');
  await mkdir(join(contextDir, 'spack-environment'), { recursive: true });
  const lock = formatSpackLock({
    roots: [specs.app],
    nodes: [
      { spec: specs.app, deps: [{ spec: specs.hdf5, types: ['build', 'link'] }, { spec: specs.zlib, types: ['build', 'link'] }] },
      { spec: specs.hdf5, deps: [{ spec: specs.zlib, types: ['build', 'link'] }] },
      { spec: specs.zlib },
    ],
  });
  await writeFile(join(contextDir, 'spack-environment', 'spack.lock'), lock);
  await writeFile(join(contextDir, 'spack-environment', 'spack.yaml'), 'spack:\n  specs: [app]\n');
  project = await renderProject({
    configFile: join(fixture, 'eic-build.yaml'),
    vars: {},
    env: { CI_REGISTRY: registry.host, CI_PROJECT_PATH: 'eic/verified-install' },
    publicKey: await parsePublicKey(key.publicArmored, 'test key'),
  });
  const written = await writeRenderedProject(project, join(contextDir, '.eic-build'));
  dockerfile = written.dockerfile;
});

test.after.always(async () => {
  for (const image of images) await execa(DOCKER, ['rmi', '-f', image], { reject: false });
  if (key) await killAgent(key);
  await registry?.stop();
  await cleanup?.();
});

/** The flags the rendered project asks for (secrets, build-args), as build.integration.test.ts derives them. */
function buildFlags(tag: string): string[] {
  const flags = ['--network', 'host', '-f', dockerfile, '--target', 'runtime', '-t', tag];
  for (const secret of project.secrets) {
    if (secret.purpose === 'signing-key') continue;
    if (secret.kind === 'file') flags.push('--secret', `id=${secret.id},src=${join(contextDir, '.eic-build', project.fileNames.mirrorsYaml)}`);
    else flags.push('--secret', `id=${secret.id},env=${secret.env}`);
  }
  for (const [name, value] of Object.entries(project.buildArgs)) flags.push('--build-arg', `${name}=${value}`);
  flags.push('--build-arg', `RUNTIME_IMAGE=${RUNTIME_BASE}`, '--build-arg', `BUILDER_IMAGE=${RUNTIME_BASE}`, '--build-arg', `EIC_BUILD_IMAGE=${TOOL_IMAGE}`);
  return flags;
}

interface ScanFinding {
  matchesPublicKey: boolean;
}

test.serial('[integration] the rendered runtime step verifies the OCI buildcache with the real eic-build, then installs only the verified copy', async (t) => {
  t.timeout(3 * 60_000);
  t.is(project.mirrors.length, 1);
  t.is(project.mirrors[0]!.url, `oci+http://${registry.host}/${REPOSITORY}`);
  t.regex(project.files.dockerfile, /eic-build buildcache verify 'oci\+http:\/\/127\.0\.0\.1:\d+\/eic\/verified-install\/spack-cache' --public-key \S+ --spack-lock \/opt\/spack-environment\/spack\.lock --copy-to \/var\/tmp\/eic-build-verified\/mirrors\/buildcache/);

  const tag = `eic-build-test/verified-install:${run}`;
  images.push(tag);
  const build = await dockerBuild(buildFlags(tag));
  const log = String(build.all);
  t.is(build.exitCode, 0, log);

  // eic-build's report, printed inside the step: every lock spec verified against the pinned key, and the copy written.
  for (const spec of Object.values(specs)) t.regex(log, new RegExp(`verified\\s+${escape(idOf(spec))}\\s`), `${idOf(spec)} verified by eic-build`);
  t.regex(log, /3 entries: 3 verified/);
  t.regex(log, new RegExp(`trusted keys: ${key.fingerprint}`));
  t.regex(log, /copy: wrote 3 verified entries \(\d+ files, \d+ bytes\) to \/var\/tmp\/eic-build-verified\/mirrors\/buildcache as a layout-v3 mirror; unsigned/);

  // The stand-in spack read only the scope's mirrors:: (the copy) and installed every lock spec from it.
  t.regex(log, /==> Mirrors read from \/var\/tmp\/eic-build-verified\/scope\/mirrors\.yaml: file:\/\/\/var\/tmp\/eic-build-verified\/mirrors\/buildcache\n/);
  for (const spec of Object.values(specs)) {
    t.regex(log, new RegExp(`==> Installed ${escape(idOf(spec))} from file:///var/tmp/eic-build-verified/mirrors/buildcache`));
  }
  const installed = await execa(DOCKER, ['run', '--rm', tag, 'cat', `/opt/software/${idOf(specs.app)}/bin/app`], { reject: false });
  t.is(installed.stdout, '#!/bin/sh\necho app', 'the verified tarball is what got installed');

  // Nothing of the verification reached the image: no copies, no eic-build.
  const copies = await execa(DOCKER, ['run', '--rm', tag, 'test', '-e', '/var/tmp/eic-build-verified'], { reject: false });
  t.not(copies.exitCode, 0, 'the verified copies are not in the image');
  const tool = await execa(DOCKER, ['run', '--rm', tag, 'bash', '-c', 'test -e /opt/eic-build/usr/local/bin/eic-build || test -e /opt/eic-build/opt/eic-build/dist/cli.js || command -v eic-build'], { reject: false });
  t.not(tool.exitCode, 0, 'the mounted eic-build is not in the image');

  // eic-build scan: no key material matching the signing key in any layer.
  const scan = await runCli(['scan', `docker-daemon:${tag}`, '--format', 'json', '--public-key', join(contextDir, '.eic-build', project.fileNames.publicKeyFile)]);
  t.true(scan.exitCode === 0 || scan.exitCode === 1, String(scan.stderr));
  const findings = (JSON.parse(String(scan.stdout)) as { findings: ScanFinding[] }).findings;
  t.deepEqual(findings.filter((finding) => finding.matchesPublicKey), [], 'eic-build scan found the signing key in the image');
});

test.serial('[integration] an environment with mirrors of its own fails the step before install (they would override -C before Spack 1.0)', async (t) => {
  t.timeout(3 * 60_000);
  const spackYaml = join(contextDir, 'spack-environment', 'spack.yaml');
  await writeFile(spackYaml, `spack:\n  specs: [app]\n  mirrors:\n    upstream:\n      url: oci+http://${registry.host}/${REPOSITORY}\n`);
  t.teardown(() => writeFile(spackYaml, 'spack:\n  specs: [app]\n'));
  const tag = `eic-build-test/verified-install-env-mirrors:${run}`;
  images.push(tag);
  const build = await dockerBuild(buildFlags(tag));
  const log = String(build.all);
  t.not(build.exitCode, 0, log);
  t.regex(log, /eic-build: Spack would also read the mirror URLs above, which were not verified/);
  t.regex(log, new RegExp(`url: oci\\+http://${escape(registry.host)}/`), 'the unverified mirror is named');
  t.notRegex(log, /==> Installed /, 'spack install never ran');
});

test.serial('[integration] a tag moved to an unsigned manifest fails the rendered step before spack installs anything', async (t) => {
  t.timeout(3 * 60_000);
  // Same tag, different bytes, no signature: what an attacker with push access (or a mistaken push) leaves.
  const signedDigest = (await client.getManifest(REPOSITORY, `${idOf(specs.hdf5)}.spack`)).digest;
  const moved = await pushOciEntryWithDeps(client, REPOSITORY, specs.hdf5, [], await specTarball(specs.hdf5));
  t.not(moved.digest, signedDigest);

  const tag = `eic-build-test/verified-install-tampered:${run}`;
  images.push(tag);
  const build = await dockerBuild(['--no-cache', ...buildFlags(tag)]);
  const log = String(build.all);
  t.not(build.exitCode, 0, log);
  t.regex(log, new RegExp(`unsigned\\s+${escape(idOf(specs.hdf5))}\\s`), 'eic-build names the moved entry as unsigned');
  t.regex(log, /copy: nothing written to \/var\/tmp\/eic-build-verified\/mirrors\/buildcache/);
  t.notRegex(log, /==> Installed /, 'spack install never ran');
  t.notRegex(log, /==> Mirrors read from /, 'spack install never ran');
  const image = await execa(DOCKER, ['image', 'inspect', tag], { reject: false });
  t.not(image.exitCode, 0, 'no image was tagged');
});
