// The v3 files a verified copy writes, checked byte for byte against what Spack v1.1 wrote in the real
// fixture mirror (fixtures/spack-v1.1-signed-mirror), and the mirrors.yaml scope.
import test from 'ava';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { parse } from 'yaml';
import {
  findEntryNode,
  formatIndexDatabase,
  formatSpecDocument,
  formatV3Manifest,
  parseOciSpecConfig,
  V3_LAYOUT_JSON,
  type SpecNodeRecord,
} from '../../src/buildcache/copy/copy-format.js';
import { formatVerifiedMirrorsScope } from '../../src/buildcache/copy/copy-scope.js';
import { copyTargetPath, UnsafeCopyPathError, writeCopyFile } from '../../src/buildcache/copy/copy-blob.js';
import { parseV3Manifest, politeFilename, v3SpecManifestPath } from '../../src/buildcache/file-layout.js';
import { isEicBuildError } from '../../src/errors.js';
import { SPACK_FIXTURE } from './fixtures.js';

const FIXTURE = SPACK_FIXTURE;
const ID = 'hello-file-1.0-p6rjdomocw4krnmuwavwdbae56jxt3vo';
const blob = (hex: string) => readFile(`${FIXTURE}/blobs/sha256/${hex.slice(0, 2)}/${hex}`);

async function fixtureSpec(): Promise<{ spec: unknown; buildcache_layout_version: number }> {
  return JSON.parse(gunzipSync(await blob('81133f45bf7cec0d4c5030123285b0435cc6f05716d0102c7ccf5354bac7ba73')).toString('utf8')) as {
    spec: unknown;
    buildcache_layout_version: number;
  };
}

test('formatV3Manifest writes the signed text of a Spack v1.1 spec manifest byte for byte', async (t) => {
  const signed = await readFile(`${FIXTURE}/v3/manifests/spec/hello-file/${ID}.spec.manifest.json`, 'utf8');
  const text = (await openpgp.readCleartextMessage({ cleartextMessage: signed })).getText();
  t.is(formatV3Manifest(parseV3Manifest(text, 'fixture')), text);
  const index = await readFile(`${FIXTURE}/v3/manifests/index/index.manifest.json`, 'utf8');
  t.is(formatV3Manifest(parseV3Manifest(index, 'index')), index);
  t.is(V3_LAYOUT_JSON, await readFile(`${FIXTURE}/v3/layout.json`, 'utf8'));
});

test('formatSpecDocument and formatIndexDatabase reproduce the fixture spec blob and index blob', async (t) => {
  const document = await fixtureSpec();
  const specText = gunzipSync(await blob('81133f45bf7cec0d4c5030123285b0435cc6f05716d0102c7ccf5354bac7ba73')).toString('utf8');
  t.is(formatSpecDocument(document.spec, document.buildcache_layout_version), specText);
  const found = findEntryNode(document, ID);
  if (found.kind !== 'ok') return t.fail(found.detail);
  const index = await blob('63ee3d3c2d05f193cab58128b93c657e3fef2c53cefed5fc6506fb61bc93f61f');
  t.is(formatIndexDatabase([found.node]), index.toString('utf8'));
});

test('formatIndexDatabase lists every node by hash, in a stable order', (t) => {
  const nodes: SpecNodeRecord[] = [
    { name: 'b', version: '2', hash: 'bbbb' },
    { name: 'a', version: '1', hash: 'aaaa' },
  ];
  const db = JSON.parse(formatIndexDatabase(nodes)) as {
    database: { version: string; installs: Record<string, { spec: SpecNodeRecord; ref_count: number; in_buildcache: boolean }> };
  };
  t.is(db.database.version, '8');
  t.deepEqual(Object.keys(db.database.installs), ['aaaa', 'bbbb']);
  t.deepEqual(db.database.installs.bbbb, { spec: nodes[0]!, ref_count: 0, in_buildcache: true });
  t.is(formatIndexDatabase(nodes), formatIndexDatabase([...nodes].reverse()));
});

test('parseOciSpecConfig takes the spec beside OCI config fields, keeps a missing layout version missing, and checks the node against the tag', async (t) => {
  const { spec } = await fixtureSpec();
  const config = Buffer.from(JSON.stringify({ spec, architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const parsed = parseOciSpecConfig(config, ID);
  if (parsed.kind !== 'ok') return t.fail(parsed.detail);
  t.is(parsed.layoutVersion, undefined);
  // Spack reads a missing version as 0: the copy's spec blob must not claim 2.
  t.is(formatSpecDocument(parsed.spec, parsed.layoutVersion), JSON.stringify({ spec }));
  t.deepEqual(parsed.spec, spec);
  t.is(parsed.node.name, 'hello-file');
  // Another package's hash, or the right hash under another name, is refused.
  t.like(parseOciSpecConfig(config, 'hello-file-1.0-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), { kind: 'invalid' });
  const renamed = parseOciSpecConfig(config, 'evil-1.0-p6rjdomocw4krnmuwavwdbae56jxt3vo');
  t.is(renamed.kind, 'invalid');
  t.regex(renamed.kind === 'invalid' ? renamed.detail : '', /signed spec is hello-file-1\.0-p6rj\w+, not evil/);
  t.like(parseOciSpecConfig(Buffer.from('{"architecture":"amd64"}'), ID), { kind: 'invalid' });
  t.like(parseOciSpecConfig(Buffer.from('not json'), ID), { kind: 'invalid' });
  t.like(parseOciSpecConfig(Buffer.from(JSON.stringify({ spec, buildcache_layout_version: 3 })), ID), { kind: 'ok', layoutVersion: 3 });
});

test('formatVerifiedMirrorsScope: mirrors:: overrides every other mirror; each copy is a binary-only file:// mirror', (t) => {
  const text = formatVerifiedMirrorsScope([
    { name: 'verified-oci', dir: '/tmp/verified oci', signed: false },
    { name: 'verified-file', dir: '/var/cache/verified', signed: true },
  ]);
  t.regex(text, /^mirrors::$/m);
  const parsed = parse(text) as Record<string, unknown>;
  // YAML reads `mirrors::` as the key `mirrors:`, which Spack takes as "replace, do not merge".
  t.deepEqual(Object.keys(parsed), ['mirrors:']);
  t.deepEqual(parsed['mirrors:'], {
    'verified-oci': { url: 'file:///tmp/verified%20oci', signed: false, binary: true, source: false },
    'verified-file': { url: 'file:///var/cache/verified', signed: true, binary: true, source: false },
  });
});

test('formatVerifiedMirrorsScope refuses what would not make a valid scope', (t) => {
  const usage = (f: () => unknown) => {
    const error = t.throws(f);
    t.true(isEicBuildError(error) && error.code === 'usage');
  };
  usage(() => formatVerifiedMirrorsScope([]));
  usage(() => formatVerifiedMirrorsScope([{ name: 'a b', dir: '/x', signed: true }]));
  usage(() => formatVerifiedMirrorsScope([{ name: 'a', dir: 'relative/dir', signed: true }]));
  usage(() =>
    formatVerifiedMirrorsScope([
      { name: 'a', dir: '/x', signed: true },
      { name: 'a', dir: '/y', signed: true },
    ]),
  );
});

test('copyTargetPath keeps every copy file inside the staging directory', async (t) => {
  const staging = '/work/copy/.staging';
  t.is(copyTargetPath(staging, 'v3/manifests/spec/zlib/zlib-1.3-abc.spec.manifest.json'), '/work/copy/.staging/v3/manifests/spec/zlib/zlib-1.3-abc.spec.manifest.json');
  t.is(copyTargetPath(staging, 'blobs/sha256/ab/ab..cd'), '/work/copy/.staging/blobs/sha256/ab/ab..cd', 'dots inside a name are fine');
  for (const bad of ['', '.', '..', '../x', 'v3/../../x', 'v3/./x', 'v3//x', '/etc/passwd', 'v3/x/', 'v3/manifests/spec/x/../../../../../tmp/pwn', 'a\\..\\b', 'a\0b']) {
    t.throws(() => copyTargetPath(staging, bad), { instanceOf: UnsafeCopyPathError }, JSON.stringify(bad));
  }
  // The writers go through it: nothing is created, not even a directory.
  const dir = await mkdtemp(join(tmpdir(), 'eic-build-contain-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const inner = join(dir, 'staging');
  await t.throwsAsync(writeCopyFile(inner, 'v3/../../escaped', 'x'), { instanceOf: UnsafeCopyPathError });
  t.deepEqual(await readdir(dir), []);
});

test("v3 spec manifest paths are made as Spack's format_path makes them (a '/' or '=' in a version becomes '_')", (t) => {
  t.is(politeFilename('1.0/../../x=y'), '1.0_.._.._x_y');
  t.is(v3SpecManifestPath('zlib', 'zlib-git.abc=1.3/x-hash'), 'v3/manifests/spec/zlib/zlib-git.abc_1.3_x-hash.spec.manifest.json');
  t.is(v3SpecManifestPath('hello-file', ID), `v3/manifests/spec/hello-file/${ID}.spec.manifest.json`);
});

test('findEntryNode accepts only the root node, and only a Spack package name', (t) => {
  const node = (name: string, hash: string) => ({ name, version: '1', hash });
  const doc = { spec: { nodes: [node('app', 'a'.repeat(32)), node('zlib', 'z'.repeat(32))] } };
  t.like(findEntryNode(doc, `app-1-${'a'.repeat(32)}`), { kind: 'ok' });
  t.like(findEntryNode(doc, `zlib-1-${'z'.repeat(32)}`), { kind: 'mismatch', detail: `the signed spec is app-1-${'a'.repeat(32)}, not zlib-1-${'z'.repeat(32)}` });
  const evil = { spec: { nodes: [node('x/../../pwn', 'a'.repeat(32))] } };
  t.like(
    findEntryNode(evil, `x_.._.._pwn-1-${'a'.repeat(32)}`, () => true),
    { kind: 'mismatch' },
  );
});
