import test from 'ava';
import Docker from 'dockerode';
import { execa } from 'execa';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { acquireLock, ensureBaseImage, imageExists, importRootfs, parseMountPoints, splitReference } from '../../src/docker/base-image.js';
import { parseAptMirror } from '../../src/docker/apt-mirror.js';

test('mount points are read from /proc/self/mounts text, escapes decoded', (t) => {
  const text = 'proc /tmp/root/proc proc rw 0 0\nsysfs /tmp/my\\040root/sys sysfs rw 0 0\n';
  t.deepEqual(parseMountPoints(text), ['/tmp/root/proc', '/tmp/my root/sys']);
});

test('an image reference splits into repository and tag; a registry port is not a tag', (t) => {
  t.deepEqual(splitReference('eic-build/base:1'), ['eic-build/base', '1']);
  t.deepEqual(splitReference('127.0.0.1:5000/base'), ['127.0.0.1:5000/base', 'latest']);
  t.deepEqual(splitReference('127.0.0.1:5000/base:2'), ['127.0.0.1:5000/base', '2']);
});

test('the apt mirror is the first main-archive source, one-line or deb822', (t) => {
  t.is(parseAptMirror('deb http://mirror.example/debian bookworm main\ndeb http://security.example/debian-security bookworm-security main'), 'http://mirror.example/debian');
  t.is(parseAptMirror('Types: deb\nURIs: http://deb.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://deb.example/debian-security\n'), 'http://deb.example/debian');
  t.is(parseAptMirror('# nothing here\n'), undefined);
});

test('the base-image lock: taken when free; a held one is waited on, then a build failure naming it; an uncreatable one fails at once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-lock-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  let waits = 0;
  const lock = join(dir, 'image.lock');
  await acquireLock(lock, () => waits++, 1000);
  t.true((await stat(lock)).isDirectory());
  t.is(waits, 0);

  // Held (by the call above): told once, then given up on with the lock named.
  const held = await t.throwsAsync(
    acquireLock(lock, () => waits++, 300),
    { instanceOf: EicBuildError },
  );
  t.is(held?.code, 'build-failed');
  t.true(held?.hint?.includes(lock));
  t.is(waits, 1);

  // A TMPDIR that does not exist is no reason to wait 15 minutes.
  const started = Date.now();
  const missing = await t.throwsAsync(
    acquireLock(join(dir, 'no-such-dir', 'image.lock'), () => waits++),
    { instanceOf: EicBuildError },
  );
  t.is(missing?.code, 'output-unwritable');
  t.regex(missing?.message ?? '', /no-such-dir.*ENOENT/);
  t.true(Date.now() - started < 60_000, 'not waited on');
  t.is(waits, 1);
});

/** A Docker client for an engine that is not there. */
function absentEngine(dir: string): Docker {
  return new Docker({ socketPath: join(dir, 'no-engine.sock') });
}

/** tar processes still reading `root` (pgrep exits 1 when none). */
async function tarsReading(root: string): Promise<string> {
  return (await execa('pgrep', ['-af', `tar -C ${root}`], { reject: false })).stdout.trim();
}

test('an engine that cannot be asked is docker-unavailable before any root file system is made, not an absent image', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-base-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const docker = absentEngine(dir);
  const error = await t.throwsAsync(imageExists(docker, 'eic-build/none:1'), { instanceOf: EicBuildError });
  t.is(error?.code, 'docker-unavailable');
  t.regex(error!.message, /cannot ask the Docker engine whether base image eic-build\/none:1 exists/);
  const ensured = await t.throwsAsync(ensureBaseImage({ kind: 'busybox', name: 'eic-build/none:1' }, docker), { instanceOf: EicBuildError });
  t.is(ensured?.code, 'docker-unavailable');
});

test('an import the engine refuses ends its tar (no process left blocked on the pipe) and fails naming the image', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-base-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  await mkdir(root);
  // More than a pipe holds: tar blocks until someone reads or kills it.
  await writeFile(join(root, 'big'), Buffer.alloc(4 << 20, 1));
  const error = await t.throwsAsync(importRootfs(absentEngine(dir), root, 'eic-build/none:1'), { instanceOf: EicBuildError });
  t.is(error?.code, 'build-failed');
  t.regex(error!.message, /importing the root file system .* as eic-build\/none:1 failed/);
  t.is(await tarsReading(root), '');
});

test('[integration] a tar that fails after the engine took its stream: the partial image is removed and the failure names tar', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-base-test-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const root = join(dir, 'root');
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(root, 'etc/hello'), 'hello\n');
  // A tar that writes a whole archive, then reports a read error (as a file vanishing mid-run does).
  const bin = join(dir, 'bin');
  await mkdir(bin);
  const realTar = (await execa('sh', ['-c', 'command -v tar'])).stdout.trim();
  await writeFile(join(bin, 'tar'), `#!/bin/sh\n${realTar} "$@"\necho 'tar: ./etc/gone: Cannot open: No such file or directory' >&2\nexit 2\n`);
  await chmod(join(bin, 'tar'), 0o755);
  const name = `eic-build-test/partial-${process.pid}:1`;
  const docker = new Docker();
  const path = process.env.PATH;
  process.env.PATH = `${bin}:${path}`;
  let error: EicBuildError | undefined;
  try {
    error = await t.throwsAsync(importRootfs(docker, root, name), { instanceOf: EicBuildError });
  } finally {
    process.env.PATH = path;
  }
  t.is(error?.code, 'build-failed');
  t.regex(error!.message, /tar of the root file system .* failed \(exit 2: tar: \.\/etc\/gone: Cannot open/);
  t.false(await imageExists(docker, name));
});
