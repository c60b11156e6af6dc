import test from 'ava';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EicBuildError } from '../../src/errors.js';
import { acquireLock, parseMountPoints, splitReference } from '../../src/docker/base-image.js';
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
