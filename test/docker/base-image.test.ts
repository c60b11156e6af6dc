import test from 'ava';
import { parseMountPoints, splitReference } from '../../src/docker/base-image.js';
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
