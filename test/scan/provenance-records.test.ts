// The record parsers and the layer collector of provenance triage, on small inputs in the formats
// dpkg, Python's installers and Spack write (the real tools' output: test/scan-integration/provenance-*).
import test from 'ava';
import { createHash } from 'node:crypto';
import { parseDpkgMd5sums, parseDpkgStatus, parseMd5sumsName } from '../../src/scan/provenance/dpkg.js';
import { LayerProvenanceCollector, RECORD_LIMIT, REREADABLE_RETAIN_LIMIT, RETAIN_LIMIT, type KeyFinding } from '../../src/scan/provenance/layer-collector.js';
import { parseDistInfoName, parsePythonRecord, splitCsvLine } from '../../src/scan/provenance/python-record.js';
import { recordFileKind } from '../../src/scan/provenance/record-paths.js';
import { parseSpackVersion, spackTestKeyAt } from '../../src/scan/provenance/spack-tree.js';
import { describeProvenance, keyWord } from '../../src/scan/provenance/triage.js';

test('record paths: only dpkg info md5sums, the status file, dist-info RECORDs and Spack version files', (t) => {
  t.is(recordFileKind('var/lib/dpkg/info/libc6:amd64.md5sums'), 'dpkg-md5sums');
  t.is(recordFileKind('var/lib/dpkg/info/sub/x.md5sums'), null);
  t.is(recordFileKind('usr/share/x.md5sums'), null);
  t.is(recordFileKind('var/lib/dpkg/status'), 'dpkg-status');
  t.is(recordFileKind('var/lib/dpkg/status-old'), null);
  t.is(recordFileKind('usr/lib/python3/dist-packages/a-1.dist-info/RECORD'), 'python-record');
  t.is(recordFileKind('opt/spack/lib/spack/spack/__init__.py'), 'spack-version');
  t.is(recordFileKind('usr/bin/ls'), null);
});

test('dpkg md5sums names and lines', (t) => {
  t.deepEqual(parseMd5sumsName('var/lib/dpkg/info/libmbedcrypto7:amd64.md5sums'), { name: 'libmbedcrypto7', architecture: 'amd64' });
  t.deepEqual(parseMd5sumsName('var/lib/dpkg/info/python3-twisted.md5sums'), { name: 'python3-twisted', architecture: null });
  t.is(parseMd5sumsName('var/lib/dpkg/info/:amd64.md5sums'), null);
  const md5 = 'd41d8cd98f00b204e9800998ecf8427e';
  t.deepEqual(parseDpkgMd5sums(`${md5}  usr/share/a b.txt\nnot a line\n${md5}  ./usr/x\n\n`), [
    { path: 'usr/share/a b.txt', md5 },
    { path: 'usr/x', md5 },
  ]);
});

test('dpkg status: installed packages, versions, architectures and conffiles (obsolete ones left out)', (t) => {
  const status = [
    'Package: openssh-server',
    'Status: install ok installed',
    'Architecture: amd64',
    'Version: 1:9.2p1-2+deb12u3',
    'Conffiles:',
    ' /etc/ssh/moduli 3f5a0c2e8ecd2c0d5e4b2b5b8e4ad2a1',
    ' /etc/old.conf 0123456789abcdef0123456789abcdef obsolete',
    'Description: secure shell',
    ' more text',
    '',
    'Package: gone',
    'Status: deinstall ok config-files',
    'Version: 1',
    '',
  ].join('\n');
  t.deepEqual(parseDpkgStatus(status), [
    { name: 'openssh-server', architecture: 'amd64', version: '1:9.2p1-2+deb12u3', conffiles: [{ path: 'etc/ssh/moduli', md5: '3f5a0c2e8ecd2c0d5e4b2b5b8e4ad2a1' }] },
  ]);
});

test('Python RECORD: CSV quoting, urlsafe base64 sha256, paths relative to the site directory', (t) => {
  t.deepEqual(splitCsvLine('"a,""b"".py",sha256=x,3'), ['a,"b".py', 'sha256=x', '3']);
  t.deepEqual(parseDistInfoName('x/site-packages/Twisted-22.4.0.dist-info/RECORD'), { name: 'Twisted', version: '22.4.0' });
  const digest = createHash('sha256').update('k').digest();
  const record = [
    `twisted/test/server.pem,sha256=${digest.toString('base64url')},1`,
    `../../../bin/twistd,sha256=${digest.toString('base64url')},1`,
    'twisted/x.py,md5=abc,1',
    'Twisted-22.4.0.dist-info/RECORD,,',
    `../../../../../../../../etc/x,sha256=${digest.toString('base64url')},1`,
  ].join('\r\n');
  t.deepEqual(parsePythonRecord('usr/local/lib/python3.11/site-packages/Twisted-22.4.0.dist-info/RECORD', record), [
    { path: 'usr/local/lib/python3.11/site-packages/twisted/test/server.pem', sha256: digest.toString('hex') },
    { path: 'usr/local/bin/twistd', sha256: digest.toString('hex') },
  ]);
});

test('Spack: test-key files by path inside any tree, version from lib/spack/spack/__init__.py', (t) => {
  t.like(spackTestKeyAt('opt/spack/var/spack/gpg.mock/keys/package-signing-key'), { root: 'opt/spack' });
  t.is(spackTestKeyAt('opt/spack/var/spack/gpg.mock/keys/other'), null);
  t.is(parseSpackVersion('#: comment\n__version__ = "1.1.0"\nspack_version = __version__\n'), '1.1.0');
  t.is(parseSpackVersion('nothing'), null);
});

test('words: test key, example key, or key; the manager named for Python', (t) => {
  t.is(keyWord('usr/lib/python3/dist-packages/twisted/test/server.pem'), 'test key');
  t.is(keyWord('usr/share/doc/libxmlsec1-dev/examples/rsakey.pem'), 'example key');
  t.is(keyWord('usr/lib/x86_64-linux-gnu/libmbedtls.so.14'), 'key');
  t.is(describeProvenance({ manager: 'python', package: 'demo', version: '1.0', recordedDigest: 'sha256:00' }, 'a/tests/k.pem'), 'published test key of Python package demo 1.0');
});

/** Feed `bytes` through a tapped sink in pieces; `finding` says whether the inner sink "found" something. */
async function collect(
  collector: LayerProvenanceCollector,
  findings: KeyFinding[],
  path: string,
  bytes: Buffer,
  finding: boolean | KeyFinding,
  size = bytes.length,
  dataOffset: number | null = null,
) {
  const sink = collector.tap(
    path,
    size,
    {
      write: () => undefined,
      end: () =>
        Promise.resolve().then(() => {
          if (finding) findings.push(finding === true ? { fingerprints: ['SHA256:x'], keygrips: [], offset: 0, nestedPath: null } : finding);
        }),
    },
    dataOffset,
  );
  for (let at = 0; at < bytes.length; at += 7000) await sink.write(bytes.subarray(at, at + 7000));
  await sink.end();
}

test('the collector hashes exactly the files with findings (kept chunks, or streamed past the retain limit) and keeps records', async (t) => {
  const counter: KeyFinding[] = [];
  const collector = new LayerProvenanceCollector(counter);
  const small = Buffer.from('small file with a key\n'.repeat(1000));
  const big = Buffer.alloc(RETAIN_LIMIT + 12345, 7);
  await collect(collector, counter, 'a/clean', Buffer.from('nothing'), false);
  await collect(collector, counter, 'a/small', small, true);
  await collect(collector, counter, 'a/big', big, true);
  await collect(collector, counter, 'var/lib/dpkg/status', Buffer.from('Package: a\n'), false);
  await collect(collector, counter, 'var/lib/dpkg/info/huge.md5sums', Buffer.from('x'), false, RECORD_LIMIT + 1);
  collector.addHardLinks([{ path: 'a/link', target: 'a/small' }]);
  const result = collector.result();
  const digest = (b: Buffer) => ({ md5: createHash('md5').update(b).digest('hex'), sha256: createHash('sha256').update(b).digest('hex') });
  t.deepEqual(result.digests, [
    { path: 'a/small', size: small.length, ...digest(small) },
    { path: 'a/big', size: big.length, ...digest(big) },
    { path: 'a/link', size: small.length, ...digest(small) },
  ]);
  t.deepEqual(result.records, [{ path: 'var/lib/dpkg/status', kind: 'dpkg-status', text: 'Package: a\n' }]);
  t.deepEqual(result.skippedRecords, ['var/lib/dpkg/info/huge.md5sums']);
});

test('with a layer that can be read again, a file over 1 MiB with a finding is left for the second read (with its the offsets of its anonymous findings); smaller and clean ones are not', async (t) => {
  const counter: KeyFinding[] = [];
  const collector = new LayerProvenanceCollector(counter, true);
  const big = Buffer.alloc(RETAIN_LIMIT + 12345, 7);
  const mid = Buffer.alloc(REREADABLE_RETAIN_LIMIT + 1, 7);
  await collect(collector, counter, 'a/big', big, true, undefined, 4096);
  await collect(collector, counter, 'a/big-clean', big, false, undefined, 9000);
  await collect(collector, counter, 'a/mid', mid, { fingerprints: [], keygrips: [], offset: 5, nestedPath: null }, undefined, 20000);
  await collect(collector, counter, 'a/small', Buffer.alloc(REREADABLE_RETAIN_LIMIT, 1), true, undefined, 512);
  collector.addHardLinks([
    { path: 'a/mid-link', target: 'a/mid' },
    { path: 'a/small-link', target: 'a/small' },
  ]);
  t.deepEqual(collector.result().deferred, [
    { path: 'a/big', size: big.length, offset: 4096, blockOffsets: [], links: [] },
    { path: 'a/mid', size: mid.length, offset: 20000, blockOffsets: [5], links: ['a/mid-link'] },
  ]);
  t.deepEqual(
    collector.result().digests.map((d) => d.path),
    ['a/small', 'a/small-link'],
  );
});
