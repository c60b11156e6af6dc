// Real Spack end to end. Real parts: Spack v1.1.0 from the spack-kit (its image, package repo and
// concretizer), `eic-build build` as a user runs it (render, BuildKit through docker 20.10, scan,
// publish), eic-build's own image (Dockerfile.frontend) in the build steps, a real docker-registry
// on loopback as the OCI buildcache, real gpg. The project is examples/spack-environment, built
// with the bundled templates. Without the kit the tests are skipped with the reason (CI fails).
//
// Stand-ins are kept elsewhere only for faults real Spack cannot produce on cue:
// test/render/verified-install.test.ts (an environment whose own mirrors would override
// -C scopes: Spack before 1.0 only) and test/render/build.test.ts (the generated shell
// alone). Order matters here: the first test builds the builder once; later ones reuse its
// registry entries and run the runtime alone (--target runtime).
import test from 'ava';
import { execa } from 'execa';
import { randomBytes } from 'node:crypto';
import { chmod, cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryClient } from '../../src/registry/client.js';
import { killAgent, makeGpgKey, tempDir, type GpgKey } from '../buildcache/fixtures.js';
import { repoRoot, runCli } from '../helpers/cli.js';
import { ensureFrontendImage } from '../helpers/frontend-image.js';
import { ensureDebianGnupgImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { ensureSpackKitImage, findSpackKit, spackKitTest } from '../helpers/spack-kit.js';

const DOCKER = '/usr/bin/docker';
const kit = findSpackKit();
const kitTest = spackKitTest(test, kit);
const run = randomBytes(4).toString('hex');
const TOOL_IMAGE = 'eic-build-test/spack-e2e-frontend:1';
const BASE_IMAGE = 'eic-build-test/spack-e2e-environment:1';
const PROJECT_PATH = 'eic/spack-e2e';
const REPOSITORY = `${PROJECT_PATH}/spack-cache`;
const started = Date.now();
const images: string[] = [];

let registry: TestRegistry;
let client: RegistryClient;
let work: string;
let cleanup: () => Promise<void>;
let key: GpgKey;
let context: string;
/** name-version-hash of every spec in the environment's lockfile. */
let lockSpecs: { name: string; id: string; buildOnly: boolean }[] = [];

test.before(async (t) => {
  if (!kit.found) return;
  const t0 = Date.now();
  ({ dir: work, cleanup } = await tempDir('eic-build-spack-e2e-'));
  await chmod(work, 0o700);
  const [kitImage, , reg, gpgKey] = await Promise.all([
    ensureSpackKitImage(kit.dir),
    ensureFrontendImage(TOOL_IMAGE),
    startRegistry(),
    makeGpgKey(work, 'Spack E2E Signer'),
    ensureDebianGnupgImage(),
  ]);
  registry = reg;
  key = gpgKey;
  client = new RegistryClient({ registry: registry.host, insecure: true });
  // The example's base image: the kit with the example's environment concretized (README.md there).
  const example = join(repoRoot, 'examples/spack-environment');
  const base = await execa(DOCKER, ['build', '-q', '-f', join(example, 'base.Dockerfile'), '--build-arg', `SPACK_IMAGE=${kitImage}`, '-t', BASE_IMAGE, example], {
    env: { DOCKER_BUILDKIT: '1' },
    reject: false,
    all: true,
  });
  if (base.exitCode !== 0) throw new Error(`building ${BASE_IMAGE} failed:\n${String(base.all)}`);
  context = join(work, 'spack-environment');
  await cp(example, context, { recursive: true, filter: (src) => !src.includes('.eic-build') });
  const lock = JSON.parse((await execa(DOCKER, ['run', '--rm', BASE_IMAGE, 'cat', '/opt/spack-environment/spack.lock'])).stdout) as {
    roots: { hash: string }[];
    concrete_specs: Record<string, { name: string; version: string; dependencies?: { hash: string; parameters?: { deptypes?: string[] } }[] }>;
  };
  // Build-only dependencies (kittool) are pushed by the builder but never needed by the runtime.
  const linkRun = new Set<string>();
  const visit = (hash: string) => {
    if (linkRun.has(hash)) return;
    linkRun.add(hash);
    for (const dep of lock.concrete_specs[hash]?.dependencies ?? []) if (dep.parameters?.deptypes?.some((type) => type === 'link' || type === 'run')) visit(dep.hash);
  };
  for (const root of lock.roots) visit(root.hash);
  lockSpecs = Object.entries(lock.concrete_specs).map(([hash, spec]) => ({ name: spec.name, id: `${spec.name}-${spec.version}-${hash}`, buildOnly: !linkRun.has(hash) }));
  t.log(`setup (kit image ${kitImage}, eic-build image, registry, key, environment): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test.after.always(async (t) => {
  if (!kit.found) return;
  for (const image of images) await execa(DOCKER, ['rmi', '-f', image], { reject: false });
  if (key) await killAgent(key);
  await registry?.stop();
  await cleanup?.();
  t.log(`real-Spack tests: ${((Date.now() - started) / 1000).toFixed(1)} s wall time`);
});

/** `eic-build build` on the example, as a user runs it against a loopback registry. */
async function build(args: string[], options: { registryHost?: string; env?: Record<string, string> } = {}) {
  const t0 = Date.now();
  const result = await runCli(
    [
      'build',
      context,
      '--docker',
      DOCKER,
      '--progress',
      'plain',
      '--signing-key',
      key.secretFile,
      '--build-arg',
      `BUILDER_IMAGE=${BASE_IMAGE}`,
      '--build-arg',
      `RUNTIME_IMAGE=${BASE_IMAGE}`,
      '--var',
      `EIC_BUILD_IMAGE=${TOOL_IMAGE}`,
      ...args,
    ],
    { env: { CI_REGISTRY: options.registryHost ?? registry.host, CI_PROJECT_PATH: PROJECT_PATH, ...options.env } },
  );
  return { ...result, log: `${String(result.stdout)}\n${String(result.stderr)}`, seconds: (Date.now() - t0) / 1000 };
}

async function imageExists(image: string): Promise<boolean> {
  return (await execa(DOCKER, ['image', 'inspect', image], { reject: false })).exitCode === 0;
}

async function tagsOf(repository: string): Promise<string[]> {
  return client.listTags(repository).catch(() => []);
}

/** Spack's messages when it installs a package. */
const SPACK_INSTALLED = /==> (?:Installing|Extracting) kit\w+-/;

kitTest('[integration] one eic-build build runs the builder (real spack install, autopush, sign) and then the runtime (verify, install from the copy)', async (t) => {
  t.timeout(8 * 60_000);
  const tag = `eic-build-test/spack-e2e-runtime:${run}`;
  images.push(tag);
  const result = await build(['--network', 'host', '--tag', tag]);
  t.log(`eic-build build (builder + runtime + scan): ${result.seconds.toFixed(1)} s`);
  t.is(result.exitCode, 0, result.log.slice(-6000));

  // The builder ran, in this build, before the runtime step: the runtime printed its stamp.
  t.regex(result.log, /eic-build: builder stamp: # eic-build: builder stage complete: spack install, autopush and signing succeeded/);
  t.regex(result.log, new RegExp(`eic-build: builder stamp: mirror: oci\\+http://${registry.host.replace(/\./g, '\\.')}/${REPOSITORY}`));

  // Autopush wrote every entry of the lockfile (build-only kittool too), and eic-build signed each.
  const tags = await tagsOf(REPOSITORY);
  for (const spec of lockSpecs) {
    const entry = `${spec.id}.spack`;
    t.true(tags.includes(entry), `autopush wrote ${entry} (tags: ${tags.join(' ')})`);
    const digest = (await client.getManifest(REPOSITORY, entry)).digest;
    const signatures = tags.filter((name) => name.startsWith(`${digest.replace(':', '-')}.`) && name.endsWith('.sig'));
    t.is(signatures.length, 1, `eic-build signed ${entry} (${digest})`);
    t.regex(result.log, new RegExp(`builder stamp: signed\\s+${spec.id}`), `the stamp lists ${spec.id}`);
  }

  // The runtime verified exactly the lockfile's link/run entries against the pinned key, then
  // Spack installed from the verified copy.
  for (const spec of lockSpecs.filter((s) => !s.buildOnly)) t.regex(result.log, new RegExp(`verified\\s+${spec.id}\\s`), `${spec.id} verified`);
  t.regex(result.log, /copy: wrote \d+ verified entries .* to \/var\/tmp\/eic-build-verified\/mirrors\/buildcache as a layout-v3 mirror/);
  t.regex(result.log, SPACK_INSTALLED);

  // The image: the root package installed and runnable; no copy, no eic-build, no private key.
  const installed = await execa(DOCKER, ['run', '--rm', tag, 'bash', '-c', 'spack find --format "{name}-{version}-{hash}"; "$(spack location -i kitapp)/bin/kitapp"'], {
    reject: false,
    all: true,
  });
  t.is(installed.exitCode, 0, String(installed.all));
  for (const spec of lockSpecs.filter((s) => !s.buildOnly)) t.true(String(installed.stdout).includes(spec.id), `${spec.id} installed`);
  t.false(
    lockSpecs.filter((s) => s.buildOnly).some((spec) => String(installed.stdout).includes(spec.id)),
    'build-only dependencies are not installed',
  );
  const leftovers = await execa(
    DOCKER,
    [
      'run',
      '--rm',
      tag,
      'bash',
      '-c',
      'ls -d /var/tmp/eic-build-verified /opt/eic-build/usr/local/bin/eic-build /var/lib/eic-build 2>/dev/null; find /run/eic-build -type f -size +0c; command -v eic-build; gpg --homedir /opt/spack/opt/spack/gpg --batch --with-colons --list-secret-keys 2>/dev/null | grep ^sec; true',
    ],
    { all: true },
  );
  t.is(String(leftovers.stdout).trim(), '', 'no verified copy, no eic-build, no stamp (only empty mount points), no secret key in the runtime image');

  // Both images scan clean with the Spack tree in them: eic-build build scanned the runtime (the
  // gate that exits 1 on any finding) and, below, the builder.
  t.regex(result.log, /verdict {2}clean/);
  const builderTag = `eic-build-test/spack-e2e-builder:${run}`;
  images.push(builderTag);
  // The builder alone, as a split pipeline builds it: every step cached from the build above, then scanned.
  const builder = await build(['--network', 'host', '--target', 'builder', '--tag', builderTag]);
  t.log(`eic-build build --target builder (cached, scan): ${builder.seconds.toFixed(1)} s`);
  t.is(builder.exitCode, 0, builder.log.slice(-4000));
  t.regex(builder.log, /verdict {2}clean/);
  t.notRegex(builder.log, /builder-skipped/, '--target builder builds the builder');
});

/** Move `tag` to `bytes` for the duration of `body`, then put the original back. */
async function withMovedTag(tag: string, bytes: Buffer, mediaType: string, body: () => Promise<void>): Promise<void> {
  const original = await client.getManifest(REPOSITORY, tag);
  await client.putManifest(REPOSITORY, tag, bytes, mediaType);
  try {
    await body();
  } finally {
    await client.putManifest(REPOSITORY, tag, original.bytes, original.mediaType);
  }
}

for (const variant of ['unsigned', 'another-signed'] as const) {
  const what = variant === 'unsigned' ? 'a tag moved to an unsigned manifest' : 'a tag moved to another signed entry';
  kitTest(`[integration] ${what} fails the runtime (--target runtime) before anything is installed`, async (t) => {
    t.timeout(4 * 60_000);
    const hdf = lockSpecs.find((spec) => spec.name === 'kithdf')!;
    const zlib = lockSpecs.find((spec) => spec.name === 'kitzlib')!;
    const moved = await client.getManifest(REPOSITORY, `${hdf.id}.spack`);
    const bytes =
      variant === 'unsigned'
        ? // Same entry, other bytes (one annotation more): a new digest nobody signed.
          Buffer.from(JSON.stringify({ ...JSON.parse(moved.bytes.toString('utf8')), annotations: { 'org.example.moved': run } }))
        : (await client.getManifest(REPOSITORY, `${zlib.id}.spack`)).bytes;
    const tag = `eic-build-test/spack-e2e-moved-${variant}:${run}`;
    await withMovedTag(`${hdf.id}.spack`, bytes, moved.mediaType, async () => {
      const result = await build(['--network', 'host', '--target', 'runtime', '--tag', tag]);
      t.log(`runtime alone, ${variant}: ${result.seconds.toFixed(1)} s`);
      t.is(result.exitCode, 3, result.log.slice(-4000));
      t.regex(result.log, /builder stamp: # eic-build: builder stage not run in this build/, 'the builder was skipped');
      t.regex(result.log, new RegExp(`(?:unsigned|bad-signature|untrusted-signer|checksum-mismatch|mismatch)\\S*\\s+${hdf.id}`), `eic-build names ${hdf.id}`);
      t.notRegex(result.log, SPACK_INSTALLED, 'Spack installed nothing');
      t.false(await imageExists(tag), 'no image');
    });
  });
}

kitTest('[integration] a leaky variant (spack gpg trust of the secret in a plain RUN, GnuPG home on disk) exits 1 with nothing pushed', async (t) => {
  t.timeout(4 * 60_000);
  const dir = join(work, 'leaky');
  await mkdir(dir);
  await writeFile(
    join(dir, 'Dockerfile'),
    `FROM ${BASE_IMAGE} AS builder\n# The mistake: Spack's default GnuPG home is $SPACK_ROOT/opt/spack/gpg, in the image.\nRUN --mount=type=secret,id=spack-signing-key,required=true set -eu; spack gpg trust /run/secrets/spack-signing-key\n`,
  );
  const target = `${registry.host}/${PROJECT_PATH}/leaky`;
  const t0 = Date.now();
  const result = await runCli(['build', dir, '--docker', DOCKER, '--progress', 'plain', '--signing-key', key.secretFile, '--push', '--tag', `${target}:${run}`]);
  const log = `${String(result.stdout)}\n${String(result.stderr)}`;
  t.log(`leaky variant: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  t.is(result.exitCode, 1, log.slice(-4000));
  t.regex(log, /opt\/spack\/gpg\/private-keys-v1\.d\//, 'the report names the key file in the GnuPG home');
  t.true(log.includes(key.fingerprint) || /signing key/i.test(log), 'the finding is the signing key');
  t.deepEqual(await tagsOf(`${PROJECT_PATH}/leaky`), [], 'nothing was pushed');
});

kitTest(
  '[integration] file-mirror route: Spack signs a file:// buildcache with the key from the secret (tmpfs SPACK_GNUPGHOME); the runtime verifies and installs from it',
  async (t) => {
    t.timeout(8 * 60_000);
    const tag = `eic-build-test/spack-e2e-file-route:${run}`;
    images.push(tag);
    // The registry is not used: --network stays default (and no loopback mirror is refused).
    const result = await build(['--config', join(repoRoot, 'test/spack/fixtures/file-mirror/eic-build.yaml'), '--tag', tag]);
    t.log(`file-mirror route (builder + runtime + scan): ${result.seconds.toFixed(1)} s`);
    t.is(result.exitCode, 0, result.log.slice(-6000));
    t.regex(result.log, /builder stamp: no OCI autopush mirror to sign \(Spack signs what it pushes to file mirrors\)/);
    // eic-build checked Spack's own clearsigned manifests against the pinned key.
    for (const spec of lockSpecs.filter((s) => !s.buildOnly)) t.regex(result.log, new RegExp(`verified\\s+${spec.id}\\s`), `${spec.id} verified`);
    t.regex(result.log, new RegExp(`trusted keys: ${key.fingerprint}`));
    t.regex(result.log, SPACK_INSTALLED);
    const installed = await execa(
      DOCKER,
      ['run', '--rm', tag, 'bash', '-c', '"$(spack location -i kitapp)/bin/kitapp" && ! ls -d /var/tmp/eic-build-verified /var/cache/eic-build-mirror 2>/dev/null'],
      { reject: false, all: true },
    );
    t.is(installed.exitCode, 0, String(installed.all));
  },
);

// Bad input: each a clear error naming the fix, exit 2 or 3, nothing pushed.
const badInputs = [
  {
    why: 'a runtime stage without spack.lock',
    args: ['--network', 'host', '--target', 'runtime', '--var', 'SPACK_ENV=/opt/no-such-environment'],
    exitCode: 3,
    message: /the runtime stage has no \/opt\/no-such-environment\/spack\.lock/,
    hint: /concretize the environment/,
  },
  {
    why: 'a mirror on loopback without --network host (refused before the build)',
    args: ['--target', 'runtime'],
    exitCode: 2,
    message: /mirror buildcache \(oci\+http:\/\/127\.0\.0\.1:\d+\/eic\/spack-e2e\/spack-cache\) is on loopback/,
    hint: /add --network host/,
  },
  {
    why: 'a mirror the build cannot reach',
    args: ['--network', 'host', '--target', 'runtime'],
    registryHost: 'eic-build-unreachable.invalid:5000',
    exitCode: 3,
    message: /could not reach mirror buildcache \(oci\+http:\/\/eic-build-unreachable\.invalid:5000\/eic\/spack-e2e\/spack-cache\)/,
    hint: /check that the registry runs/,
  },
  {
    why: 'a fingerprint build-arg that is not the key',
    args: ['--network', 'host', '--build-arg', 'SPACK_SIGNER_FINGERPRINT=0123456789ABCDEF0123456789ABCDEF01234567'],
    exitCode: 2,
    message: /does not match the signing key/,
    hint: /drop --build-arg SPACK_SIGNER_FINGERPRINT/,
  },
  {
    why: 'a base image without Spack',
    args: ['--network', 'host', '--target', 'runtime', '--build-arg', 'RUNTIME_IMAGE=eic-build-test/bookworm-gnupg:1'],
    exitCode: 3,
    message: /no Spack on PATH/,
    hint: /BUILDER_IMAGE and RUNTIME_IMAGE/,
  },
] as const;

for (const [index, row] of badInputs.entries()) {
  kitTest(`[integration] bad input: ${row.why} is exit ${row.exitCode} with the fix named, nothing pushed`, async (t) => {
    t.timeout(4 * 60_000);
    const repository = `${PROJECT_PATH}/bad-${index}`;
    const result = await build([...row.args, '--push', '--tag', `${registry.host}/${repository}:${run}`], { ...('registryHost' in row ? { registryHost: row.registryHost } : {}) });
    t.log(`${row.why}: ${result.seconds.toFixed(1)} s`);
    t.is(result.exitCode, row.exitCode, result.log.slice(-4000));
    t.regex(String(result.stderr), row.message);
    t.regex(String(result.stderr), new RegExp(`hint: .*${row.hint.source}`));
    t.deepEqual(await tagsOf(repository), [], 'nothing was pushed');
  });
}
