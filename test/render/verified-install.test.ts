// End to end: a rendered runtime stage verifies before it installs. Real parts: the Docker engine's
// BuildKit (docker 20.10 `docker build`), eic-build's own image (Dockerfile.frontend) bind-mounted
// into the RUN step and running the real `eic-build buildcache verify --copy-to`, a real registry on
// loopback holding a Spack-format OCI buildcache signed by `eic-build buildcache sign` code with a
// key made now, real gpg. `spack` is a stand-in (fixtures/verified-install/spack) for the one fault
// real Spack 1.x cannot produce on cue: an environment whose own mirrors: override the -C scope of
// the verified copies (Spack before 1.0). The verified install itself, moved tags and the rest run
// with real Spack in test/spack/real-spack.test.ts.
// The RUN step reaches the registry on 127.0.0.1 through `docker build --network host` (BuildKit in
// docker 20.10 grants the network.host entitlement for it); the registry listens on loopback only.
import test from 'ava';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { signOciMirror } from '../../src/buildcache/sign/sign-oci.js';
import { loadSigningKey } from '../../src/buildcache/sign/signing-key.js';
import { RegistryClient } from '../../src/registry/client.js';
import { parsePublicKey, renderProject, writeRenderedProject, type RenderedProject } from '../../src/render/index.js';
import {
  fakeHash,
  formatSpackLock,
  killAgent,
  makeGpgKey,
  pushOciEntry,
  pushOciEntryWithDeps,
  pushOciIndex,
  specTarball,
  tempDir,
  type FixtureSpec,
  type GpgKey,
} from '../buildcache/fixtures.js';
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
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function dockerBuild(args: string[]) {
  return execa(DOCKER, ['build', '--progress=plain', ...args, contextDir], { env: { DOCKER_BUILDKIT: '1' }, reject: false, all: true });
}

test.before(async () => {
  ({ dir: work, cleanup } = await tempDir('eic-build-verified-install-'));
  await chmod(work, 0o700);
  const [base, , started, gpgKey] = await Promise.all([
    ensureDebianGnupgImage(),
    ensureFrontendImage(TOOL_IMAGE, ['buildcache/copy/copy-mirror.js']),
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
      {
        spec: specs.app,
        deps: [
          { spec: specs.hdf5, types: ['build', 'link'] },
          { spec: specs.zlib, types: ['build', 'link'] },
        ],
      },
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

/** The flags the rendered project asks for (secrets, build-args), as build.test.ts derives them. */
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
