import test from 'ava';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey } from '../../src/keys/generate-key.js';
import { runCli, repoRoot } from '../helpers/cli.js';
import { ensureFrontendBaseImage } from '../helpers/frontend-image.js';
import { ensureBusyboxImage, ensureDebianGnupgImage, BUSYBOX_IMAGE } from '../helpers/images.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';

// The real pipeline against the real engine (docker 20.10's built-in BuildKit here), a real
// registry on loopback, and a key generated now. Nothing is mocked.

const DOCKER = '/usr/bin/docker';
// The example declares this base image (eic-build.yaml); the suite's shared image has the same
// packages, so tagging it spares CI a second debootstrap. A fresh machine gets it from the example config.
const EXAMPLE_BASE = 'eic-build/bookworm-gnupg:1';

let registry: TestRegistry;
let work: string;
let keyFile: string;
let keyLines: string[];
// The CLI runs of this file get their own TMPDIR: other test files build and scan at the same
// time, and their eic-build-run-/secret- directories in the shared one are not this file's leftovers.
let childTmp: string;

test.before(async () => {
  // Only the [integration] tests of this file use what follows; a unit-only run selects none of them.
  if (UNIT_ONLY_RUN) return;
  const shared = await ensureDebianGnupgImage();
  if ((await execa(DOCKER, ['image', 'inspect', EXAMPLE_BASE], { reject: false })).exitCode !== 0) {
    await execa(DOCKER, ['tag', shared, EXAMPLE_BASE]);
  }
  await ensureBusyboxImage();
  registry = await startRegistry();
  work = await mkdtemp(join(tmpdir(), 'eic-build-build-test-'));
  const key = await generateKey({ name: 'eic-build build test key' });
  keyFile = join(work, 'signing-key.asc');
  childTmp = join(work, 'tmp');
  await mkdir(childTmp);
  await writeFile(keyFile, key.armoredSecretKey, { mode: 0o600 });
  // Any of these in a log, argv or file means the key escaped.
  keyLines = key.armoredSecretKey
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !l.startsWith('-----'));
});

test.after.always(async () => {
  await registry?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** What the CLI runs left in their TMPDIR, less tsx's compile cache (the test loader's, not eic-build's). */
async function leftInChildTmp(): Promise<string[]> {
  return (await readdir(childTmp)).filter((name) => !/^tsx-\d+$/.test(name));
}

/**
 * The private scan tags a run named (BuildKit's log and the scan report print them) that the
 * engine still holds. Read from the run's own log: other test files build at the same time, and
 * their scan tags are not this run's.
 */
async function scanTagsLeft(log: string): Promise<{ named: string[]; left: string[] }> {
  const named = [...new Set([...log.matchAll(/eic-build-scan\/[0-9a-f]+:\d+/g)].map((m) => m[0]))];
  const left: string[] = [];
  for (const tag of named) if ((await execa(DOCKER, ['image', 'inspect', tag], { reject: false })).exitCode === 0) left.push(tag);
  return { named, left };
}

function containsKey(text: string): boolean {
  return keyLines.some((line) => text.includes(line));
}

/** Sample the process list while `run` is in flight. */
async function sampleProcessList<T>(run: Promise<T>): Promise<{ result: T; samples: string[] }> {
  const samples: string[] = [];
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const ps = await execa('ps', ['-eo', 'args'], { reject: false });
      samples.push(String(ps.stdout));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const result = await run;
  done = true;
  await sampler;
  return { result, samples };
}

/**
 * Files in temp entries that appeared during the build (bounded), to check none holds the key.
 * Other test files run at the same time; their big trees (root file systems, registries) are skipped.
 */
async function newTempFiles(root: string, before: Set<string>): Promise<string[]> {
  const out: string[] = [];
  let visited = 0;
  const walk = async (path: string, depth: number): Promise<void> => {
    if (depth > 4 || ++visited > 20_000) return;
    const info = await stat(path).catch(() => undefined);
    if (!info) return;
    if (info.isFile()) {
      if (info.size < 256 * 1024) out.push(path);
      return;
    }
    if (!info.isDirectory()) return;
    for (const name of await readdir(path).catch(() => [] as string[])) await walk(join(path, name), depth + 1);
  };
  for (const name of await readdir(root)) {
    if (before.has(name) || /^eic-build-(rootfs|registry|base)-/.test(name)) continue;
    await walk(join(root, name), 0);
  }
  return out;
}

async function catalog(): Promise<string[]> {
  const response = await fetch(`${registry.url}/v2/_catalog`);
  return ((await response.json()) as { repositories: string[] }).repositories;
}

test.serial('[integration] the example builds clean, is pushed, and the registry serves exactly the scanned image', async (t) => {
  const project = join(work, 'signed-artifacts');
  await cp(join(repoRoot, 'examples/signed-artifacts'), project, { recursive: true, filter: (src) => !src.includes('.eic-build') });
  const tag = `${registry.host}/eic-build-example:it`;
  const metadataFile = join(work, 'metadata.json');
  t.timeout(5 * 60_000);
  const tempBefore = new Set(await readdir(tmpdir()));
  const { result, samples } = await sampleProcessList(
    runCli(['build', project, '--signing-key', keyFile, '--push', '--tag', tag, '--metadata-file', metadataFile, '--progress', 'plain'], {
      env: { CI: 'true', TMPDIR: childTmp },
    }),
  );
  const log = `${String(result.stdout)}\n${String(result.stderr)}`;
  t.is(result.exitCode, 0, log);
  t.regex(String(result.stderr), /verdict {2}clean/);
  t.regex(String(result.stderr), /Good signature|verified 2 artifact/);

  // The digests: metadata ↔ registry ↔ scanned image.
  const metadata = JSON.parse(await readFile(metadataFile, 'utf8')) as Record<string, string>;
  const response = await fetch(`${registry.url}/v2/eic-build-example/manifests/it`, {
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' },
  });
  const manifestBytes = Buffer.from(await response.arrayBuffer());
  const servedDigest = `sha256:${createHash('sha256').update(manifestBytes).digest('hex')}`;
  t.is(metadata['containerimage.digest'], servedDigest);
  const servedConfig = (JSON.parse(manifestBytes.toString()) as { config: { digest: string } }).config.digest;
  t.is(metadata['containerimage.config.digest'], servedConfig);
  t.is(metadata['image.name'], tag);
  // The scanned image is the one the engine holds under the tag (its ID is the config digest).
  const imageId = (await execa(DOCKER, ['image', 'inspect', '--format', '{{.Id}}', tag])).stdout.trim();
  t.is(imageId, servedConfig);
  t.true(String(result.stderr).includes(`image    ${servedConfig}`));

  // The runtime stage verifies with the public key alone.
  const run = await execa(DOCKER, ['run', '--rm', tag], { reject: false, all: true });
  t.is(run.exitCode, 0, String(run.all));
  t.regex(String(run.all), /verified 2 artifact\(s\)/);

  // The key never in argv, the log, or any file left in the temp directory.
  t.true(samples.length > 3, 'the process list was sampled during the build');
  t.false(samples.some(containsKey), 'key text in the process list');
  t.false(containsKey(log), 'key text in the build log');
  t.deepEqual(await leftInChildTmp(), [], 'the build left nothing in its TMPDIR');
  for (const file of [...(await newTempFiles(childTmp, new Set())), ...(await newTempFiles(tmpdir(), tempBefore))]) {
    if (file.startsWith(work)) continue; // the test's own key file
    const text = await readFile(file, 'latin1').catch(() => '');
    t.false(containsKey(text), `key text in ${file}`);
  }
  // The scan tag is gone; the user's tag names the image.
  const scanTags = await scanTagsLeft(log);
  t.true(scanTags.named.length > 0, 'the run named a private scan tag');
  t.deepEqual(scanTags.left, []);
  await execa(DOCKER, ['rmi', tag], { reject: false });
});

test.serial('[integration] a leaking Dockerfile is stopped before the push: exit 1, the report, nothing reaches the registry', async (t) => {
  const project = join(work, 'leaky');
  await mkdir(project, { recursive: true });
  // The classic mistake: copying the mounted secret into the image.
  await writeFile(
    join(project, 'Dockerfile'),
    `FROM ${BUSYBOX_IMAGE}\nARG SPACK_SIGNER_FINGERPRINT\nRUN --mount=type=secret,id=spack-signing-key,required=true cp /run/secrets/spack-signing-key /root/signing-key.asc\n`,
  );
  const tag = `${registry.host}/leaky:it`;
  const metadataFile = join(work, 'leaky-metadata.json');
  const result = await runCli(['build', project, '--signing-key', keyFile, '--push', '--tag', tag, '--metadata-file', metadataFile, '--progress', 'plain'], {
    env: { CI: 'true' },
  });
  const log = `${String(result.stdout)}\n${String(result.stderr)}`;
  t.is(result.exitCode, 1, log);
  t.regex(String(result.stdout), /root\/signing-key\.asc/);
  t.regex(String(result.stderr), /LEAK: private key material found; nothing was pushed/);
  // The scanner recognised it as THIS build's key (by the public half eic-build handed it).
  t.regex(String(result.stderr), /root\/signing-key\.asc, THE SIGNING KEY/);
  t.false(containsKey(log), 'the report must not echo key bytes');
  t.false((await catalog()).includes('leaky'));
  t.is((await execa(DOCKER, ['image', 'inspect', tag], { reject: false })).exitCode, 1, 'the leaking image must not carry the user tag');
  t.false(existsSync(metadataFile));
  const scanTags = await scanTagsLeft(log);
  t.true(scanTags.named.length > 0, 'the run named a private scan tag');
  t.deepEqual(scanTags.left, []);
});

test.serial('[integration] a private key already in the base image blocks by default; --allow-key or --allow-inherited-keys let it through', async (t) => {
  t.timeout(3 * 60_000);
  // A base image that carries a (non-well-known) private key in its own layer, made now with a key made now.
  const baseContext = join(work, 'keyed-base');
  await mkdir(baseContext, { recursive: true });
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'base-image-key', '-f', join(baseContext, 'id_ed25519')]);
  await writeFile(join(baseContext, 'Dockerfile'), `FROM ${BUSYBOX_IMAGE}\nCOPY id_ed25519 /etc/demo/id_ed25519\n`);
  const base = 'eic-build-test/keyed-base:it';
  await execa(DOCKER, ['build', '-q', '-t', base, baseContext], { env: { DOCKER_BUILDKIT: '1' } });
  t.teardown(() => execa(DOCKER, ['rmi', base], { reject: false }).then(() => undefined));
  const project = join(work, 'on-keyed-base');
  await mkdir(project, { recursive: true });
  await writeFile(join(project, 'Dockerfile'), `FROM ${base}\nARG SPACK_SIGNER_FINGERPRINT\nRUN echo built > /built\n`);
  const tag = 'eic-build-test/on-keyed-base:it';
  const build = (extra: string[]) => runCli(['build', project, '--signing-key', keyFile, '--tag', tag, ...extra], { env: { CI: 'true' } });
  const present = async () => (await execa(DOCKER, ['image', 'inspect', tag], { reject: false })).exitCode === 0;
  await execa(DOCKER, ['rmi', tag], { reject: false });

  // Default: blocks, as 'eic-build scan' of the image would call it a leak; the message names the base and the opt-outs.
  const blocked = await build(['--progress', 'json']);
  t.is(blocked.exitCode, 1, String(blocked.stderr));
  const json = JSON.parse(String(blocked.stdout)) as {
    verdict: string;
    scans: { blocking: number; blockingFromBase: number; baseImage: string; report: { findings: { path: string; fingerprints: string[]; matchesPublicKey: boolean }[] } }[];
  };
  t.is(json.verdict, 'leak');
  t.like(json.scans[0], { blocking: 1, blockingFromBase: 1, baseImage: base });
  const found = json.scans[0]!.report.findings[0]!;
  t.is(found.path, 'etc/demo/id_ed25519');
  t.false(found.matchesPublicKey);
  t.false(await present(), 'nothing loaded under the tag');
  const told = await build(['--progress', 'plain']);
  t.is(told.exitCode, 1);
  t.regex(String(told.stdout), /etc\/demo\/id_ed25519/, 'the report on stdout');
  t.regex(String(told.stderr), new RegExp(`id_ed25519, from the base image[^]*already in the base image ${base}.*--allow-inherited-keys`));

  // --allow-key with the identity the finding shows: the scanner reports a note, the build is clean.
  t.true(found.fingerprints.length > 0, 'the finding names the key');
  const allowed = await build(['--allow-key', found.fingerprints[0]!, '--progress', 'plain']);
  t.is(allowed.exitCode, 0, String(allowed.stderr));
  t.regex(String(allowed.stderr), /verdict {2}clean/);
  t.true(await present());
  await execa(DOCKER, ['rmi', tag], { reject: false });

  // --allow-inherited-keys: published, with a warning even under --progress quiet, and a verdict that says so.
  const lenient = await build(['--allow-inherited-keys', '--progress', 'quiet']);
  t.is(lenient.exitCode, 0, String(lenient.stderr));
  t.regex(String(lenient.stderr), /warning: --allow-inherited-keys: publishing 1 private key finding\(s\) that were already in the base image/);
  t.regex(String(lenient.stderr), /etc\/demo\/id_ed25519/);
  t.regex(String(lenient.stderr), /verdict {2}allowed-inherited-keys/);
  t.true(await present());
  await execa(DOCKER, ['rmi', tag], { reject: false });
});

test.serial('[integration] where env= is not used the key travels as a 0600 file in a 0700 temp dir, gone after the build', async (t) => {
  const project = join(work, 'file-secret');
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, 'Dockerfile'),
    `FROM ${BUSYBOX_IMAGE}\nARG SPACK_SIGNER_FINGERPRINT\nRUN --mount=type=secret,id=spack-signing-key,required=true test -s /run/secrets/spack-signing-key && sleep 1 && echo secret-mounted\n`,
  );
  const seen = new Map<string, { dirMode: number; fileMode: number }>();
  let done = false;
  const watcher = (async () => {
    while (!done) {
      for (const name of await readdir(childTmp)) {
        if (!name.startsWith('eic-build-secret-') || seen.has(name)) continue;
        const dir = await stat(join(childTmp, name)).catch(() => undefined);
        const file = await stat(join(childTmp, name, 'spack-signing-key')).catch(() => undefined);
        if (dir && file) seen.set(name, { dirMode: dir.mode & 0o777, fileMode: file.mode & 0o777 });
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  const { result, samples } = await sampleProcessList(
    runCli(['build', project, '--signing-key', keyFile, '--no-cache', '--tag', 'eic-build-test/file-secret:it', '--progress', 'plain'], {
      env: { CI: 'true', EIC_BUILD_SECRET_TRANSPORT: 'file', TMPDIR: childTmp },
    }),
  );
  done = true;
  await watcher;
  t.is(result.exitCode, 0, String(result.stderr));
  t.regex(String(result.stderr), /secret-mounted/);
  t.deepEqual([...seen.values()], [{ dirMode: 0o700, fileMode: 0o600 }]);
  // Under this run's own TMPDIR: another test file's build may pass a secret file at the same time.
  t.true(
    samples.some((s) => s.includes(`src=${join(childTmp, 'eic-build-secret-')}`)),
    'the client got a file path',
  );
  t.false(samples.some(containsKey));
  t.deepEqual(await leftInChildTmp(), []);
  await execa(DOCKER, ['rmi', 'eic-build-test/file-secret:it'], { reject: false });
});

test.serial('[integration] SIGTERM during the build stops it and leaves no secret file, work dir or scan tag behind', async (t) => {
  const project = join(work, 'interrupted');
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, 'Dockerfile'),
    `FROM ${BUSYBOX_IMAGE}\nARG SPACK_SIGNER_FINGERPRINT\nRUN --mount=type=secret,id=spack-signing-key,required=true echo step-started && sleep 600\n`,
  );
  await execa(DOCKER, ['rmi', 'eic-build-test/interrupted:it'], { reject: false });
  // A plain spawn (not execa) so stderr can be watched while the build runs.
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repoRoot, 'src/cli.ts'), 'build', project, '--signing-key', keyFile, '--no-cache', '--tag', 'eic-build-test/interrupted:it', '--progress', 'plain'],
    {
      cwd: repoRoot,
      env: { ...process.env, CI: 'true', EIC_BUILD_SECRET_TRANSPORT: 'file', TMPDIR: childTmp },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  const exited = new Promise<{ signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (_code, signal) => resolve({ signal })));
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const deadline = Date.now() + 240_000;
  while (!stderr.includes('step-started') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  t.true(stderr.includes('step-started'), stderr);
  const started = Date.now();
  child.kill('SIGTERM');
  const result = await exited;
  // A 600 s step against a 120 s bound: stopping is told from running on, however loaded the machine.
  t.true(Date.now() - started < 120_000, 'the build stopped instead of running its 600 s step');
  t.is(result.signal, 'SIGTERM');
  t.deepEqual(await leftInChildTmp(), []);
  const images = (await execa(DOCKER, ['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout;
  t.false(images.includes('eic-build-test/interrupted'));
  // Stopped inside a step, the build named no image; any scan tag it did name is gone.
  t.deepEqual((await scanTagsLeft(stderr)).left, []);
});

test.serial('[integration] a new signing key invalidates the cached signing step; the same key reuses it', async (t) => {
  const project = join(work, 'cache-key');
  await mkdir(project, { recursive: true });
  await writeFile(
    join(project, 'Dockerfile'),
    `FROM ${BUSYBOX_IMAGE}\nARG SPACK_SIGNER_FINGERPRINT\nRUN --mount=type=secret,id=spack-signing-key,required=true echo "signing with $SPACK_SIGNER_FINGERPRINT" > /signed-by\n`,
  );
  const otherKey = await generateKey({ name: 'eic-build second key' });
  const otherKeyFile = join(work, 'other-key.asc');
  await writeFile(otherKeyFile, otherKey.armoredSecretKey, { mode: 0o600 });
  const build = (file: string) => runCli(['build', project, '--signing-key', file, '--tag', 'eic-build-test/cache-key:it', '--progress', 'plain'], { env: { CI: 'true' } });
  // The signing step's lines in BuildKit's plain log ("#5 [2/2] RUN …", "#5 CACHED" when cached).
  const signingStepCached = (log: string): boolean => {
    const lines = log.split('\n');
    const header = lines.find((l) => /^#\d+ \[\d+\/\d+\] RUN --mount=type=secret/.test(l));
    if (!header) throw new Error(`no signing step in the log:\n${log}`);
    const step = header.split(' ')[0]!;
    return lines.some((l) => l === `${step} CACHED`);
  };
  const first = await build(keyFile);
  t.is(first.exitCode, 0, String(first.stderr));
  const again = await build(keyFile);
  t.is(again.exitCode, 0, String(again.stderr));
  t.false(signingStepCached(String(first.stderr)));
  t.true(signingStepCached(String(again.stderr)), 'same key: the signing step comes from the cache');
  const rotated = await build(otherKeyFile);
  t.is(rotated.exitCode, 0, String(rotated.stderr));
  t.false(signingStepCached(String(rotated.stderr)), 'new key: the signing step ran again');
  const signedBy = (await execa(DOCKER, ['run', '--rm', 'eic-build-test/cache-key:it', 'cat', '/signed-by'])).stdout;
  t.is(signedBy, `signing with ${otherKey.fingerprint}`);
  await execa(DOCKER, ['rmi', 'eic-build-test/cache-key:it'], { reject: false });
});

test.serial('[integration] Dockerfile.frontend (the eic-build image) builds with eic-build and scans clean', async (t) => {
  t.timeout(5 * 60_000);
  if (!existsSync(join(repoRoot, 'dist/cli.js'))) {
    t.fail('dist/ is missing: run npm ci (its prepare script builds dist/) before the integration tests');
    return;
  }
  // A base with node and a docker client, derived from the shared Debian image (no debootstrap here);
  // made by the helper the other files use, so this file does not re-tag it under their builds.
  const base = await ensureFrontendBaseImage();

  const tag = 'eic-build-test/frontend:it';
  const result = await runCli(
    ['build', '.', '--file', 'Dockerfile.frontend', '--build-arg', `BASE_IMAGE=${base}`, '--ephemeral-key', '--load', '--tag', tag, '--progress', 'json'],
    {
      env: { CI: 'true' },
    },
  );
  t.is(result.exitCode, 0, `${String(result.stdout).slice(-4000)}\n${String(result.stderr).slice(-4000)}`);
  const summary = JSON.parse(String(result.stdout)) as { verdict: string; stats: { layers: number }; scans: { leaked: boolean }[] };
  t.is(summary.verdict, 'clean');
  t.true(summary.stats.layers > 0);
  const version = await execa(DOCKER, ['run', '--rm', tag, '--version'], { reject: false, all: true });
  t.is(version.exitCode, 0, String(version.all));
  t.regex(String(version.stdout), /^\d+\.\d+\.\d+/);
});

test('[integration] doctor reports the usable client and its capabilities as JSON', async (t) => {
  const result = await runCli(['doctor', '--format', 'json']);
  t.is(result.exitCode, 0, String(result.stderr));
  const json = JSON.parse(String(result.stdout)) as { usable: boolean; client: { kind: string }; capabilities: { secretEnv: boolean } };
  t.true(json.usable);
  t.truthy(json.client.kind);
  t.is(typeof json.capabilities.secretEnv, 'boolean');
});

test('build --help and usage errors exit as documented', async (t) => {
  const help = await runCli(['build', '--help']);
  t.is(help.exitCode, 0);
  t.regex(String(help.stdout), /--ephemeral-key/);
  t.regex(String(help.stdout), /--allow-inherited-keys/);
  t.regex(String(help.stdout), /--allow-key IDENTITY/);
  t.notRegex(String(help.stdout), /--strict-scan/);
  const badKey = await runCli(['build', '--allow-key', 'not-an-identity']);
  t.is(badKey.exitCode, 2);
  t.regex(String(badKey.stderr), /--allow-key: allowed key "not-an-identity"/);
  const strictScan = await runCli(['build', '--strict-scan']);
  t.is(strictScan.exitCode, 2);
  t.regex(String(strictScan.stderr), /--strict-scan is gone/);
  const bad = await runCli(['build', '--push', '--load']);
  t.is(bad.exitCode, 2);
  t.regex(String(bad.stderr), /mutually exclusive/);
  const max = await runCli(['build', '--provenance', 'mode=max']);
  t.is(max.exitCode, 2);
  t.regex(String(max.stderr), /build-arg/);
});

test('[integration] asking for what the client cannot do exits 2 naming the feature and how to get it', async (t) => {
  const multi = await runCli(['build', 'examples/signed-artifacts', '--platform', 'linux/amd64,linux/arm64', '--ephemeral-key']);
  t.is(multi.exitCode, 2, String(multi.stderr));
  t.regex(String(multi.stderr), /multi-platform/);
  t.regex(String(multi.stderr), /hint: .*buildx/);
});
