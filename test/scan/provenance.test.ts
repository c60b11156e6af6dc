// Provenance triage end to end through scanTarget: fixture images whose package databases are
// written in dpkg's and Python's formats (the real tools' output is exercised by the
// [integration] tests in test/scan-integration/provenance-*.test.ts), keys generated now.
import test from 'ava';
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { formatReport, scanTarget } from '../../src/scan/index.js';
import { runCli } from '../helpers/cli.js';
import { makeFixtureDir, writeFixture, type ImageSpec } from '../helpers/image-fixture.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';

let dir = '';
let cleanup = async () => {};
let pem = '';
let otherPem = '';
let armored = '';
let armoredPublic = '';
let sshKey = '';

test.before(async () => {
  ({ dir, cleanup } = await makeFixtureDir('eic-provenance'));
  // Only the [integration] tests of this file use what follows; a unit-only run selects none of them.
  if (UNIT_ONLY_RUN) return;
  await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'a.pem')]);
  await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'b.pem')]);
  pem = await readFile(join(dir, 'a.pem'), 'utf8');
  otherPem = await readFile(join(dir, 'b.pem'), 'utf8');
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'root@buildkitsandbox', '-f', join(dir, 'host')]);
  sshKey = await readFile(join(dir, 'host'), 'utf8');
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Triage', email: 't@example.org' }], format: 'armored' });
  armored = key.privateKey;
  armoredPublic = key.publicKey;
  await writeFile(join(dir, 'public.asc'), armoredPublic);
});
test.after.always(() => cleanup());

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const b64sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

const STATUS = [
  'Package: libdemo-dev',
  'Status: install ok installed',
  'Architecture: amd64',
  'Version: 1.2.37-2',
  '',
  'Package: libdemo1',
  'Status: install ok installed',
  'Architecture: amd64',
  'Multi-Arch: same',
  'Version: 1.2.37-2',
  '',
].join('\n');

const EXAMPLE = 'usr/share/doc/libdemo-dev/examples/key.pem';

function dpkgLayer(files: Record<string, string>): ImageSpec['layers'][number] {
  return {
    files: {
      ...files,
      'var/lib/dpkg/status': STATUS,
      'var/lib/dpkg/info/libdemo-dev.md5sums': `${md5(pem)}  ${EXAMPLE}\n${md5('x')}  usr/share/doc/libdemo-dev/copyright\n`,
      'var/lib/dpkg/info/libdemo1:amd64.md5sums': `${md5(sshKey)}  usr/lib/x86_64-linux-gnu/libdemo.so.1\n`,
    },
  };
}

let n = 0;
async function scan(spec: ImageSpec, options: { provenance?: boolean; publicKey?: boolean } = {}) {
  const path = join(dir, `img-${n++}.tar`);
  await writeFixture(spec, 'docker-oci', path);
  return scanTarget(path, {
    provenance: options.provenance,
    publicKeys: options.publicKey ? [(await import('../../src/pgp/key-identity.js')).deriveKeyIdentity(Buffer.from(armoredPublic))] : [],
  });
}

test('[integration] a key in a file dpkg recorded byte for byte is a note naming package and version, not a finding', async (t) => {
  const report = await scan({ layers: [dpkgLayer({ [EXAMPLE]: pem })] });
  t.false(report.leaked);
  t.deepEqual(report.findings, []);
  const note = report.notes.find((x) => x.kind === 'published-key');
  t.truthy(note);
  t.is(note!.path, EXAMPLE);
  t.deepEqual(note!.provenance, { manager: 'dpkg', package: 'libdemo-dev', version: '1.2.37-2', recordedDigest: `md5:${md5(pem)}` });
  t.regex(note!.message, /^published example key of libdemo-dev 1\.2\.37-2 \(dpkg records this file byte for byte\)/);
  t.regex(formatReport(report, 'text'), /no private key material found \(1 published package key\(s\) listed as notes\)[\s\S]*published example key of libdemo-dev 1\.2\.37-2/);
});

test('[integration] a large file (over 1 MiB) is read again for its digests only when a record names it: recorded, a note; unrecorded, a finding and no second read', async (t) => {
  const BIG = 'usr/share/doc/libdemo-dev/examples/big-key.pem';
  const big = `${'#'.repeat(2 << 20)}\n${pem}`;
  const base = dpkgLayer({ [BIG]: big, 'opt/app/big-mine.pem': `${'#'.repeat(2 << 20)}\n${otherPem}` });
  const md5sums = 'var/lib/dpkg/info/libdemo-dev.md5sums';
  const recorded = await scan({ layers: [{ files: { ...base.files, [md5sums]: `${base.files![md5sums] as string}${md5(big)}  ${BIG}\n` } }] });
  t.deepEqual(
    recorded.findings.map((f) => f.path),
    ['opt/app/big-mine.pem'],
  );
  t.like(
    recorded.notes.find((x) => x.path === BIG),
    { kind: 'published-key', provenance: { package: 'libdemo-dev', recordedDigest: `md5:${md5(big)}` } },
  );
  t.is(recorded.stats.layersReadTwice, 1);
  // No record names either big file: their digests could not change a verdict, so the layer is read once.
  const unrecorded = await scan({ layers: [base] });
  t.deepEqual(unrecorded.findings.map((f) => f.path).sort(), ['opt/app/big-mine.pem', BIG]);
  t.is(unrecorded.stats.layersReadTwice, 0);
});

test('[integration] the :arch md5sums name finds the version in status', async (t) => {
  const report = await scan({ layers: [dpkgLayer({ 'usr/lib/x86_64-linux-gnu/libdemo.so.1': sshKey })] });
  t.false(report.leaked);
  t.like(report.notes.find((x) => x.kind === 'published-key')?.provenance, { package: 'libdemo1', version: '1.2.37-2' });
});

test('[integration] a recorded path whose bytes differ (a key appended, or replaced) stays a finding that says so', async (t) => {
  const appended = await scan({ layers: [dpkgLayer({ [EXAMPLE]: `${pem}${otherPem}` })] });
  t.true(appended.leaked);
  t.is(appended.findings.length, 2);
  for (const finding of appended.findings) {
    t.is(finding.provenance, null);
    t.regex(finding.message, /bytes differ from what dpkg recorded for libdemo-dev 1\.2\.37-2/);
  }
  // Overwritten in a later layer: the lower, recorded copy is published; the new bytes are not.
  const replaced = await scan({ layers: [dpkgLayer({ [EXAMPLE]: pem }), { files: { [EXAMPLE]: otherPem } }] });
  t.is(replaced.findings.length, 1);
  t.is(replaced.findings[0]!.layer!.index, 1);
  t.is(replaced.notes.filter((x) => x.kind === 'published-key').length, 1);
});

test('[integration] a file no record names stays a finding; the same published key elsewhere is a note (identity)', async (t) => {
  const report = await scan({
    layers: [
      dpkgLayer({ [EXAMPLE]: pem }),
      // e.g. a .pyc compiled from a recorded .py: other bytes, same key.
      { files: { 'usr/lib/python3/dist-packages/demo/__pycache__/keys.cpython-311.pyc': `\x00\x01pyc\n${pem}\n\x02`, 'opt/app/mine.pem': otherPem } },
    ],
  });
  t.is(report.findings.length, 1);
  t.is(report.findings[0]!.path, 'opt/app/mine.pem');
  const identity = report.notes.find((x) => x.path?.endsWith('.pyc'));
  t.is(identity?.kind, 'published-key');
  t.regex(identity!.message, new RegExp(`the same key as /${EXAMPLE}, which dpkg records byte for byte`));
});

test('[integration] records are read as the layer of the key and the final image see them: whiteouts hide them, upgrades keep both', async (t) => {
  // The layer that adds the key also deletes the package's record: nothing vouches for it.
  const hidden = await scan({ layers: [dpkgLayer({}), { files: { [EXAMPLE]: pem }, whiteouts: ['var/lib/dpkg/info/libdemo-dev.md5sums'] }] });
  t.true(hidden.leaked);
  t.is(hidden.findings[0]!.path, EXAMPLE);
  // An upgrade in a later layer: the old copy matched the record of its day, the new one the new record.
  const upgraded = await scan({
    layers: [dpkgLayer({ [EXAMPLE]: pem }), { files: { [EXAMPLE]: otherPem, 'var/lib/dpkg/info/libdemo-dev.md5sums': `${md5(otherPem)}  ${EXAMPLE}\n` } }],
  });
  t.false(upgraded.leaked);
  t.deepEqual(
    upgraded.notes.filter((x) => x.kind === 'published-key').map((x) => x.layer!.index),
    [0, 1],
  );
});

test('[integration] the secret half of a --public-key is a leak even in a recorded file', async (t) => {
  const layer = dpkgLayer({ [EXAMPLE]: armored });
  (layer.files as Record<string, string>)['var/lib/dpkg/info/libdemo-dev.md5sums'] = `${md5(armored)}  ${EXAMPLE}\n`;
  t.false((await scan({ layers: [layer] })).leaked);
  const report = await scan({ layers: [layer] }, { publicKey: true });
  t.true(report.leaked);
  t.true(report.findings[0]!.matchesPublicKey);
});

test('[integration] Python RECORD (sha256, urlsafe base64) vouches for files relative to its site directory', async (t) => {
  const site = 'usr/local/lib/python3.11/dist-packages';
  const record = `demo/tests/server.pem,sha256=${b64sha256(pem)},${pem.length}\n"demo/a,b.py",sha256=${b64sha256('x')},1\ndemo-1.0.dist-info/RECORD,,\n`;
  const report = await scan({
    layers: [{ files: { [`${site}/demo/tests/server.pem`]: pem, [`${site}/demo-1.0.dist-info/RECORD`]: record, [`${site}/demo/other.pem`]: otherPem } }],
  });
  t.is(report.findings.length, 1);
  t.is(report.findings[0]!.path, `${site}/demo/other.pem`);
  const note = report.notes.find((x) => x.kind === 'published-key');
  t.deepEqual(note?.provenance, { manager: 'python', package: 'demo', version: '1.0', recordedDigest: `sha256:${createHash('sha256').update(pem).digest('hex')}` });
  t.regex(note!.message, /^published test key of Python package demo 1\.0/);
});

test('[integration] --no-provenance (provenance: false): every key is a finding', async (t) => {
  const report = await scan({ layers: [dpkgLayer({ [EXAMPLE]: pem })] }, { provenance: false });
  t.true(report.leaked);
  t.is(report.findings[0]!.provenance, null);
  t.false(report.notes.some((x) => x.kind === 'published-key'));
});

test('[integration] SSH host keys stay findings whose fix says to remove them in the same step and generate them at start', async (t) => {
  const report = await scan({ layers: [dpkgLayer({ 'etc/ssh/ssh_host_ed25519_key': sshKey })] });
  t.true(report.leaked);
  t.regex(report.findings[0]!.message, /SSH host key generated when openssh-server was installed/);
  const text = formatReport(report, 'text');
  t.regex(text, /fix: +Remove the host keys in the same RUN step/);
  t.regex(text, /ssh-keygen -A/);
  t.notRegex(text, /revoke it, rotate/);
});

test('[integration] JSON carries provenance on findings and notes; SARIF marks published keys as suppressed results', async (t) => {
  const report = await scan({ layers: [dpkgLayer({ [EXAMPLE]: pem, 'opt/mine.pem': otherPem })] });
  const json = JSON.parse(formatReport(report, 'json')) as { findings: { provenance: unknown }[]; notes: { kind: string; provenance: unknown }[] };
  t.is(json.findings.length, 1);
  t.is(json.findings[0]!.provenance, null);
  t.like(json.notes.find((x) => x.kind === 'published-key')?.provenance, { manager: 'dpkg', package: 'libdemo-dev' });
  const sarif = JSON.parse(formatReport(report, 'sarif')) as {
    runs: { results: { suppressions?: { kind: string; justification: string }[]; locations: { physicalLocation: { artifactLocation: { uri: string } } }[] }[] }[];
  };
  const results = sarif.runs[0]!.results;
  t.is(results.length, 2);
  const suppressed = results.filter((r) => r.suppressions);
  t.is(suppressed.length, 1);
  t.is(suppressed[0]!.suppressions![0]!.kind, 'external');
  t.regex(suppressed[0]!.suppressions![0]!.justification, /published example key of libdemo-dev 1\.2\.37-2/);
  t.regex(suppressed[0]!.locations[0]!.physicalLocation.artifactLocation.uri, /examples\/key\.pem$/);
});

test('[integration] CLI: scan exits 0 on published keys, 1 with --no-provenance', async (t) => {
  const path = join(dir, 'cli.tar');
  await writeFixture({ layers: [dpkgLayer({ [EXAMPLE]: pem })] }, 'docker-oci', path);
  t.is((await runCli(['scan', path])).exitCode, 0);
  const off = await runCli(['scan', '--no-provenance', path]);
  t.is(off.exitCode, 1);
});

test('build: --no-provenance turns triage off for the scan gate; --provenance (attestations) is unrelated', async (t) => {
  const { parseBuildOptions } = await import('../../src/commands/build.js');
  t.true(parseBuildOptions([]).keyProvenance);
  t.false(parseBuildOptions(['--no-provenance']).keyProvenance);
  t.like(parseBuildOptions(['--no-provenance', '--provenance', 'false']), { keyProvenance: false, provenance: { kind: 'off' } });
});

test('[integration] a key without a public identity (encrypted) is published elsewhere only by a recorded occurrence of the same block', async (t) => {
  await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:x', '-out', join(dir, 'enc1.pem')]);
  await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-aes256', '-pass', 'pass:x', '-out', join(dir, 'enc2.pem')]);
  const enc1 = await readFile(join(dir, 'enc1.pem'), 'utf8');
  const enc2 = await readFile(join(dir, 'enc2.pem'), 'utf8');
  const layer = dpkgLayer({ [EXAMPLE]: enc1, 'opt/compiled.pyc': `\x00\xe3marshal${enc1}\x00`, 'opt/other.pyc': `\x00${enc2}\x00` });
  (layer.files as Record<string, string>)['var/lib/dpkg/info/libdemo-dev.md5sums'] = `${md5(enc1)}  ${EXAMPLE}\n`;
  const report = await scan({ layers: [layer] });
  t.deepEqual(
    report.findings.map((f) => f.path),
    ['opt/other.pyc'],
  );
  t.deepEqual(report.findings[0]!.fingerprints, []);
  t.regex(report.notes.find((x) => x.path === 'opt/compiled.pyc')!.message, /the same key as \/usr\/share\/doc\/libdemo-dev\/examples\/key\.pem/);
});
