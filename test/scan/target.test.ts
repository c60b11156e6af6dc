import test from 'ava';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type EicBuildError } from '../../src/errors.js';
import { formatTarget, looksLikeImageReference, parseTarget, resolveTarget } from '../../src/scan/target.js';
import { makeFixtureDir } from '../helpers/image-fixture.js';

const table: [string, ReturnType<typeof parseTarget>][] = [
  ['docker-archive:/x/img.tar', { forced: 'docker-archive', value: '/x/img.tar' }],
  ['oci-archive:img.tar', { forced: 'oci-archive', value: 'img.tar' }],
  ['oci:/layout', { forced: 'oci', value: '/layout' }],
  ['docker-daemon:name:tag', { forced: 'docker-daemon', value: 'name:tag' }],
  ['name:tag', { forced: null, value: 'name:tag' }],
  ['./img.tar', { forced: null, value: './img.tar' }],
];

for (const [text, parsed] of table) {
  test(`parseTarget('${text}') round-trips`, (t) => {
    t.deepEqual(parseTarget(text), parsed);
    t.is(formatTarget(parsed), text);
  });
}

test('image references are told apart from paths', (t) => {
  t.true(looksLikeImageReference('eic-build-test/busybox:1'));
  t.true(looksLikeImageReference('localhost:5000/ns/name:tag'));
  t.true(looksLikeImageReference(`name@sha256:${'a'.repeat(64)}`));
  t.false(looksLikeImageReference('./img.tar'));
  t.false(looksLikeImageReference('/abs/img.tar'));
});

test('resolveTarget: directory → OCI layout, file → archive, unknown ref → daemon, missing path → input-not-found', async (t) => {
  const { dir, cleanup } = await makeFixtureDir();
  t.teardown(cleanup);
  await mkdir(join(dir, 'layout'));
  await writeFile(join(dir, 'layout', 'oci-layout'), '{}');
  await writeFile(join(dir, 'img.tar'), '');
  await mkdir(join(dir, 'plain'));
  t.deepEqual(await resolveTarget(join(dir, 'layout')), { kind: 'oci', path: join(dir, 'layout') });
  t.deepEqual(await resolveTarget(`oci:${join(dir, 'layout')}:latest`), { kind: 'oci', path: join(dir, 'layout') });
  t.deepEqual(await resolveTarget(join(dir, 'img.tar')), { kind: 'tar-archive', path: join(dir, 'img.tar'), forced: null });
  t.deepEqual(await resolveTarget(`oci-archive:${join(dir, 'img.tar')}`), { kind: 'tar-archive', path: join(dir, 'img.tar'), forced: 'oci-archive' });
  t.deepEqual(await resolveTarget('some/image:tag'), { kind: 'docker-daemon', reference: 'some/image:tag' });
  const missing = await t.throwsAsync(resolveTarget(join(dir, 'nope.tar')));
  t.is((missing as EicBuildError).code, 'input-not-found');
  t.regex(missing!.message, /nope\.tar/);
  const plain = await t.throwsAsync(resolveTarget(join(dir, 'plain')));
  t.is((plain as EicBuildError).code, 'input-corrupt');
  const forced = await t.throwsAsync(resolveTarget(`docker-archive:${join(dir, 'missing.tar')}`));
  t.is((forced as EicBuildError).code, 'input-not-found');
});
