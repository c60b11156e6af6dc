// Which large files with findings get a second read of their layer: only those whose digests triage
// can use (a record names them, or their block ids may match a published key).
import test from 'ava';
import type { ImageRef } from '../../src/scan/image.js';
import type { LayerScanResult } from '../../src/scan/layer-scan.js';
import { neededDeferredDigests } from '../../src/scan/provenance/deferred-needs.js';
import type { CapturedRecord, DeferredDigest } from '../../src/scan/provenance/types.js';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';

function deferred(path: string, extra: Partial<DeferredDigest> = {}): DeferredDigest {
  return { path, size: 2 << 20, offset: 512, blockOffsets: [], links: [], ...extra };
}

function result(files: string[], records: CapturedRecord[], waiting: DeferredDigest[], whiteouts: string[] = []): LayerScanResult {
  return {
    blobDigest: 'sha256:0',
    diffDigest: null,
    blobBytes: 0,
    bytesScanned: 0,
    compression: 'gzip',
    decoder: 'zlib',
    entries: files.length,
    findings: [],
    notes: [],
    files,
    whiteouts,
    opaqueDirs: [],
    provenance: { records, digests: [], deferred: waiting, skippedRecords: [] },
    readTwice: false,
  };
}

function image(...blobNames: string[]): ImageRef {
  return {
    kind: 'image',
    manifestDigest: null,
    configDigest: 'sha256:c',
    platform: null,
    config: Buffer.from('{}'),
    layers: blobNames.map((blobName) => ({ blobName, digest: `sha256:${blobName}`, mediaType: null, size: null, check: null, format: 'tar' as const })),
  };
}

const md5sums = (path: string, text: string): CapturedRecord => ({ path: `var/lib/dpkg/info/${path}.md5sums`, kind: 'dpkg-md5sums', text });

function paths(needed: Map<string, DeferredDigest[]>): Record<string, string[]> {
  return Object.fromEntries([...needed].map(([name, files]) => [name, files.map((f) => f.path)]));
}

test('a file a record names (in its own layer or a later one) is read again; one nobody names is not, unless it has findings without a public identity', (t) => {
  const results = new Map([
    [
      'a',
      result(['usr/lib/demo.jar', 'opt/big.bin', 'opt/anon.bin'], [], [deferred('usr/lib/demo.jar'), deferred('opt/big.bin'), deferred('opt/anon.bin', { blockOffsets: [7] })]),
    ],
    ['b', result(['var/lib/dpkg/info/demo.md5sums'], [md5sums('demo', `${MD5}  usr/lib/demo.jar\n`)], [])],
  ]);
  t.deepEqual(paths(neededDeferredDigests([image('a', 'b')], results)), { a: ['usr/lib/demo.jar', 'opt/anon.bin'] });
  // Without the record layer nothing names the jar.
  t.deepEqual(paths(neededDeferredDigests([image('a')], results)), { a: ['opt/anon.bin'] });
});

test('a hard link a record names brings its target in; a record hidden by a whiteout does not', (t) => {
  const linked = new Map([['a', result(['opt/x.jar', 'usr/lib/x.jar'], [md5sums('x', `${MD5}  usr/lib/x.jar\n`)], [deferred('opt/x.jar', { links: ['usr/lib/x.jar'] })])]]);
  t.deepEqual(paths(neededDeferredDigests([image('a')], linked)), { a: ['opt/x.jar'] });
  const hidden = new Map([
    ['a', result(['usr/lib/x.jar'], [], [deferred('usr/lib/x.jar')])],
    ['b', result(['var/lib/dpkg/info/x.md5sums'], [md5sums('x', `${MD5}  usr/lib/x.jar\n`)], [])],
    ['c', result([], [], [], ['var/lib/dpkg/info/x.md5sums'])],
  ]);
  t.deepEqual(paths(neededDeferredDigests([image('a', 'b', 'c')], hidden)), {});
});

test('a blob shared by two images is read again when either names the file, once', (t) => {
  const results = new Map([
    ['shared', result(['usr/lib/demo.jar'], [], [deferred('usr/lib/demo.jar')])],
    ['records', result([], [md5sums('demo', `${MD5}  usr/lib/demo.jar\n`)], [])],
  ]);
  const needed = neededDeferredDigests([image('shared'), image('shared', 'records')], results);
  t.deepEqual(paths(needed), { shared: ['usr/lib/demo.jar'] });
});
