// `eic-build build` through a real buildx (Debian 13's docker-buildx 0.13.1 plugin, installed by
// .ci/setup-system.sh) on this machine's engine, with Debian's docker 20.10 client and with the
// docker 28 client: --metadata-file, --secret env=, --builder, --progress, --push to a loopback
// registry (the docker driver pushes plain HTTP to 127.0.0.1), and the scan gate before the push.
import test from 'ava';
import { execa } from 'execa';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../src/keys/generate-key.js';
import { runCli } from '../helpers/cli.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const CLIENTS = [
  { name: '20.10', docker: '/usr/bin/docker' },
  { name: '28', docker: '/usr/local/bin/docker' },
] as const;

let registry: TestRegistry;
let work: string;
let keyFile: string;
let keyLines: string[];
const EXTRA_SECRET = `ci-fit-extra-${createHash('sha256').update(String(process.pid)).digest('hex').slice(0, 24)}`;

test.before(async () => {
  for (const { docker } of CLIENTS) {
    const version = await execa(docker, ['buildx', 'version'], { reject: false, all: true });
    if (version.exitCode !== 0)
      throw new Error(`${docker} has no buildx plugin (${String(version.all).split('\n')[0]}): run .ci/setup-system.sh (it installs Debian 13's docker-buildx plugin)`);
  }
  await ensureBusyboxImage();
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'eic-build-buildx-test-'));
  const key = await generateKey({ name: 'eic-build buildx test key' });
  keyFile = join(work, 'signing-key.asc');
  await writeFile(keyFile, key.armoredSecretKey, { mode: 0o600 });
  keyLines = key.armoredSecretKey
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));
});

test.after.always(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** A project whose build reads the extra secret (its length lands in the image, never its value) and the signing key. */
async function project(name: string, leak: boolean): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir, { recursive: true });
  const steps = [
    `FROM ${BUSYBOX_IMAGE}`,
    'RUN --mount=type=secret,id=extra,required=true wc -c < /run/secrets/extra > /extra-length',
    leak
      ? 'RUN --mount=type=secret,id=spack-signing-key,required=true cp /run/secrets/spack-signing-key /root/leaked.asc'
      : 'RUN --mount=type=secret,id=spack-signing-key,required=true grep -c "BEGIN PGP PRIVATE KEY BLOCK" /run/secrets/spack-signing-key > /key-seen',
  ];
  await writeFile(join(dir, 'Dockerfile'), `${steps.join('\n')}\n`);
  return dir;
}

async function manifestOf(repository: string, tag: string): Promise<{ status: number; digest: string; config: string | undefined }> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  const bytes = Buffer.from(await response.arrayBuffer());
  const config = response.status === 200 ? (JSON.parse(bytes.toString()) as { config?: { digest?: string } }).config?.digest : undefined;
  return { status: response.status, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, config };
}

for (const client of CLIENTS) {
  test.serial(
    `[integration] buildx with the docker ${client.name} client: --builder default, --secret env=, --push, --metadata-file; the registry serves the scanned image`,
    async (t) => {
      t.timeout(6 * 60_000);
      const dir = await project(`clean-${client.name}`, false);
      const repository = `ci-fit-buildx-${client.name.replace('.', '')}`;
      const tag = `${registry.host}/${repository}:it`;
      const metadataFile = join(work, `metadata-${client.name}.json`);
      const run = await runCli(
        [
          'build',
          dir,
          '--docker',
          client.docker,
          '--builder',
          'default',
          '--signing-key',
          keyFile,
          '--secret',
          'id=extra,env=CI_FIT_EXTRA',
          '--push',
          '--tag',
          tag,
          '--metadata-file',
          metadataFile,
          '--progress',
          'plain',
        ],
        { env: { CI: 'true', CI_FIT_EXTRA: EXTRA_SECRET } },
      );
      const log = `${String(run.stdout)}\n${String(run.stderr)}`;
      t.is(run.exitCode, 0, log);
      // The route: buildx's docker driver, not the built-in builder.
      t.regex(String(run.stderr), /eic-build: builder: buildx 0\.\d+\.\d+, builder 'default' \(docker\)/);
      // --progress plain reaches BuildKit: its numbered step log is streamed.
      t.regex(String(run.stderr), /^#\d+ \[\d\/\d\] RUN --mount=type=secret,id=extra/m);
      t.false(log.includes(EXTRA_SECRET), 'the extra secret is not in the log');
      t.false(
        keyLines.some((line) => log.includes(line)),
        'the key is not in the log',
      );

      const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, unknown>;
      const served = await manifestOf(repository, 'it');
      t.is(served.status, 200);
      t.is(metadata['containerimage.digest'], served.digest);
      t.is(metadata['containerimage.config.digest'], served.config);
      t.is(metadata['image.name'], tag);
      t.like(metadata['eic-build.scan'] as object, { verdict: 'clean', pushed: true, imagesScanned: 1 });

      // The secret reached the build (its length is in the image), its value did not.
      const length = await execa(client.docker, ['run', '--rm', tag, 'cat', '/extra-length']);
      t.is(length.stdout.trim(), String(EXTRA_SECRET.length));
      const seen = await execa(client.docker, ['run', '--rm', tag, 'cat', '/key-seen']);
      t.is(seen.stdout.trim(), '1', 'the signing key was mounted as a secret');
      await execa(client.docker, ['rmi', tag], { reject: false });
    },
  );
}

test.serial('[integration] buildx: a leaky Dockerfile is stopped by the scan before the push: exit 1, nothing pushed, nothing tagged', async (t) => {
  t.timeout(6 * 60_000);
  const dir = await project('leaky', true);
  const tag = `${registry.host}/ci-fit-buildx-leaky:it`;
  const metadataFile = join(work, 'metadata-leaky.json');
  const run = await runCli(
    [
      'build',
      dir,
      '--docker',
      CLIENTS[1].docker,
      '--signing-key',
      keyFile,
      '--secret',
      'id=extra,env=CI_FIT_EXTRA',
      '--push',
      '--tag',
      tag,
      '--metadata-file',
      metadataFile,
      '--progress',
      'quiet',
    ],
    {
      env: { CI: 'true', CI_FIT_EXTRA: EXTRA_SECRET },
    },
  );
  t.is(run.exitCode, 1, `${String(run.stdout)}\n${String(run.stderr)}`);
  t.regex(String(run.stdout), /root\/leaked\.asc/);
  t.false(String(run.stderr).includes('#1 '), '--progress quiet: no BuildKit log streamed');
  t.is((await manifestOf('ci-fit-buildx-leaky', 'it')).status, 404, 'nothing reached the registry');
  const catalog = (await (await fetch(`${registry.url}/v2/_catalog`)).json()) as { repositories: string[] };
  t.false(catalog.repositories.includes('ci-fit-buildx-leaky'));
  const images = (await execa(CLIENTS[1].docker, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout;
  t.false(images.includes('ci-fit-buildx-leaky'), 'the leaking image got no tag');
  await t.throwsAsync(readFile(metadataFile), undefined, 'no metadata for a build that was stopped');
  const printed = `${String(run.stdout)}\n${String(run.stderr)}`;
  t.false(
    keyLines.some((line) => printed.includes(line)),
    'the report censors the key',
  );
});

test.serial('[integration] buildx: --builder naming no builder exits 2 naming it, before any build', async (t) => {
  const dir = await project('no-builder', false);
  const run = await runCli(
    [
      'build',
      dir,
      '--docker',
      CLIENTS[1].docker,
      '--builder',
      'ci-fit-no-such-builder',
      '--signing-key',
      keyFile,
      '--secret',
      'id=extra,env=CI_FIT_EXTRA',
      '--tag',
      'eic-build-test/ci-fit-nobuilder:it',
    ],
    {
      env: { CI: 'true', CI_FIT_EXTRA: EXTRA_SECRET },
    },
  );
  t.is(run.exitCode, 2, String(run.stderr));
  t.regex(String(run.stderr), /ci-fit-no-such-builder/);
  t.regex(String(run.stderr), /hint: /);
});

test.serial("[integration] buildx docker driver on this engine's BuildKit 0.8: --build-context is refused up front (exit 2), not half-way in BuildKit", async (t) => {
  const dir = await project('named-context', false);
  const extra = join(work, 'extra-context');
  await mkdir(extra, { recursive: true });
  const run = await runCli(
    [
      'build',
      dir,
      '--docker',
      CLIENTS[1].docker,
      '--build-context',
      `extra=${extra}`,
      '--signing-key',
      keyFile,
      '--secret',
      'id=extra,env=CI_FIT_EXTRA',
      '--tag',
      'eic-build-test/ci-fit-context:it',
      '--progress',
      'plain',
    ],
    {
      env: { CI: 'true', CI_FIT_EXTRA: EXTRA_SECRET },
    },
  );
  t.is(run.exitCode, 2, String(run.stderr));
  t.regex(String(run.stderr), /named build contexts \(--build-context\)/);
  t.regex(String(run.stderr), /BuildKit 0\.8\S* is older than 0\.10/);
  t.false(String(run.stderr).includes('#1 '), 'no build was started');
});
