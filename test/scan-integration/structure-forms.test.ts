/**
 * Leak forms that live in the image structure rather than in file contents, each through a real OCI
 * layout (skopeo copy of the busybox base image) and the CLI as a child process:
 * - PAX extended-header values: an xattr written by real GNU tar (`--xattrs`, `SCHILY.xattr.user.*`)
 *   holding an armored key or its base64, and records written by Python's tarfile (`pax_headers`): a
 *   bsdtar-style base64 xattr (`LIBARCHIVE.xattr.*`) of a binary key after a 300 KB record;
 * - OCI annotations: an armored key on the manifest, the base64 of it on index.json;
 * - and the file forms of issue 10 in an added layer: UTF-16 (PowerShell), .ppk, OpenPGP v6.
 * Keys come from real gpg at run time; the public key in the same places is the negative control.
 */
import test from 'ava';
import { execa } from 'execa';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBusyboxImage } from '../helpers/images.js';
import { DOCKER, generateGpgKey, makeTempDir, runsOf, armorBody, scanJson, stopAgent, type GpgKey, type JsonReport } from './harness.js';
import { editLayout } from './oci-layout-edit.js';

let dir = '';
let cleanup: () => Promise<void> = async () => undefined;
let key: GpgKey;
let baseArchive = '';

test.before(async () => {
  ({ dir, cleanup } = await makeTempDir('structure-forms'));
  key = await generateGpgKey(dir, 'pax');
  const busybox = await ensureBusyboxImage();
  baseArchive = join(dir, 'busybox.tar');
  await execa(DOCKER, ['save', '-o', baseArchive, busybox]);
});
test.after.always(async () => {
  if (key) await stopAgent(key);
  await cleanup();
});

/** A fresh OCI layout of the base image, written by skopeo. */
async function baseLayout(name: string): Promise<string> {
  const layout = join(dir, name);
  await execa('skopeo', ['copy', '-q', `docker-archive:${baseArchive}`, `oci:${layout}:scan`]);
  return layout;
}

/**
 * A layer tar with the key material (`secret` or public) in PAX values: two files whose xattrs GNU
 * tar stores, then Python tarfile records appended as a second archive member list.
 */
async function paxLayer(name: string, armored: string, binary: Buffer): Promise<Buffer> {
  const root = join(dir, `${name}-root`);
  await mkdir(join(root, 'etc'), { recursive: true });
  await writeFile(join(dir, `${name}-armored`), armored);
  await writeFile(join(dir, `${name}-binary`), binary);
  await writeFile(join(root, 'etc', 'app.conf'), 'listen 8080\n');
  await writeFile(join(root, 'etc', 'b64.conf'), 'mode quiet\n');
  // Values come from files, never argv. ext4 takes an xattr of a few KiB: an ed25519 key fits.
  await execa('python3', [
    '-c',
    [
      'import base64, os, sys',
      'd, n = sys.argv[1], sys.argv[2]',
      'armored = open(f"{d}/{n}-armored", "rb").read()',
      'os.setxattr(f"{d}/{n}-root/etc/app.conf", "user.key", armored)',
      'os.setxattr(f"{d}/{n}-root/etc/b64.conf", "user.b64", base64.b64encode(armored))',
    ].join('\n'),
    dir,
    name,
  ]);
  const gnuTar = join(dir, `${name}-gnu.tar`);
  await execa('tar', ['--xattrs', '--xattrs-include=user.*', '--format=pax', '--owner=0', '--group=0', '-cf', gnuTar, '-C', root, 'etc/app.conf', 'etc/b64.conf']);
  const pyTar = join(dir, `${name}-py.tar`);
  await execa('python3', [
    '-c',
    [
      'import base64, io, sys, tarfile',
      'd, n, out = sys.argv[1], sys.argv[2], sys.argv[3]',
      'binary = open(f"{d}/{n}-binary", "rb").read()',
      'with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:',
      '    info = tarfile.TarInfo("opt/tool.bin")',
      '    data = b"\\x7fELF" + bytes(60)',
      '    info.size = len(data)',
      '    info.pax_headers = {"EICBUILD.padding": "x" * 300000, "LIBARCHIVE.xattr.user.gpg": base64.b64encode(binary).decode()}',
      '    t.addfile(info, io.BytesIO(data))',
    ].join('\n'),
    dir,
    name,
    pyTar,
  ]);
  // One layer: GNU tar's members, then Python's (each without its end-of-archive blocks but the last).
  const gnu = await readFile(gnuTar);
  const py = await readFile(pyTar);
  const withoutEnd = (tar: Buffer): Buffer => {
    let end = tar.length;
    while (end >= 512 && tar.subarray(end - 512, end).every((b) => b === 0)) end -= 512;
    return tar.subarray(0, end);
  };
  return Buffer.concat([withoutEnd(gnu), py]);
}

function noKeyBytes(t: import('ava').ExecutionContext, report: JsonReport, stderr: string): void {
  const text = JSON.stringify(report) + stderr;
  const leaked = runsOf(armorBody(key.armoredSecret), 24).filter((run) => text.includes(run));
  t.deepEqual(leaked, [], 'no piece of the key in the report');
}

test('[integration] keys in PAX extended-header values (GNU tar xattrs, Python tarfile records, raw/base64/large) are findings naming the entry and the record', async (t) => {
  const layout = await baseLayout('pax-secret');
  await editLayout(layout, { addLayer: { tar: await paxLayer('secret', key.armoredSecret, key.binarySecret), createdBy: 'COPY etc opt /' } });
  const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc]);
  t.is(exitCode, 1, stderr);
  const where = report.findings.map((f) => `${f.path} | ${f.nestedPath} | ${f.kind}`).sort();
  t.true(where.includes('etc/app.conf | PAX header record SCHILY.xattr.user.key | armored'), where.join('\n'));
  t.true(where.includes('etc/b64.conf | PAX header record SCHILY.xattr.user.b64 | base64-armored'), where.join('\n'));
  t.true(
    where.some((w) => w.startsWith('opt/tool.bin | PAX header record LIBARCHIVE.xattr.user.gpg | base64-secret')),
    where.join('\n'),
  );
  for (const finding of report.findings) {
    t.true(finding.matchesPublicKey, `${finding.path} ${finding.kind}`);
    t.true(finding.fingerprints.every((f) => key.fingerprints.includes(f.toUpperCase())));
    t.is(finding.source, 'layer');
  }
  noKeyBytes(t, report, stderr);
});

test('[integration] a tar inside a layer file: the keys in its PAX values are findings at that file, naming the inner entry and record', async (t) => {
  const layout = await baseLayout('pax-nested');
  const inner = await paxLayer('nested', key.armoredSecret, key.binarySecret);
  const root = join(dir, 'pax-nested-root');
  await mkdir(join(root, 'var/backups'), { recursive: true });
  await writeFile(join(root, 'var/backups/etc.tar'), inner);
  const outer = join(dir, 'pax-nested-layer.tar');
  await execa('tar', ['--format=pax', '--owner=0', '--group=0', '-cf', outer, '-C', root, 'var']);
  await editLayout(layout, { addLayer: { tar: await readFile(outer), createdBy: 'COPY etc.tar /var/backups/' } });
  const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc]);
  t.is(exitCode, 1, stderr);
  const where = report.findings.map((f) => `${f.path} | ${f.nestedPath} | ${f.kind}`).sort();
  t.true(where.includes('var/backups/etc.tar | etc/app.conf (PAX header record SCHILY.xattr.user.key) | armored'), where.join('\n'));
  t.true(report.findings.every((f) => f.matchesPublicKey));
  noKeyBytes(t, report, stderr);
});

test('[integration] the public key in the same PAX values is no finding (negative control)', async (t) => {
  const layout = await baseLayout('pax-public');
  const publicBinary = Buffer.from((await execa('gpg', ['--homedir', key.homedir, '--batch', '--export', key.fingerprints[0]!], { encoding: 'buffer' })).stdout);
  await editLayout(layout, { addLayer: { tar: await paxLayer('public', key.armoredPublic, publicBinary), createdBy: 'COPY etc opt /' } });
  const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc]);
  t.is(exitCode, 0, stderr);
  t.deepEqual(report.findings, []);
});

test('[integration] keys in OCI annotations: armored on the manifest, base64 on index.json; each a config finding naming its field', async (t) => {
  const layout = await baseLayout('annotations-secret');
  await editLayout(layout, {
    manifestAnnotations: { 'org.example.signing-key': key.armoredSecret },
    indexAnnotations: { 'org.example.key-b64': Buffer.from(key.armoredSecret).toString('base64') },
  });
  const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc]);
  t.is(exitCode, 1, stderr);
  const fields = report.findings.map((f) => `${f.source} ${f.field} ${f.kind}`).sort();
  t.deepEqual(fields, ['config index.json.annotations["org.example.key-b64"] base64-armored', 'config manifest.annotations["org.example.signing-key"] armored']);
  t.true(report.findings.every((f) => f.matchesPublicKey && f.fingerprints.map((x) => x.toUpperCase()).join() === key.fingerprints.join()));
  noKeyBytes(t, report, stderr);
});

for (const position of ['after', 'before'] as const) {
  test(`[integration] a key in the annotations of a nested index listing an image already seen is found (index ${position} the manifest)`, async (t) => {
    const layout = await baseLayout(`nested-index-${position}`);
    await editLayout(layout, { nestedIndex: { annotations: { 'org.example.nested-key': key.armoredSecret }, position } });
    const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc]);
    t.is(exitCode, 1, stderr);
    t.deepEqual(
      report.findings.map((f) => `${f.source} ${f.kind} ${f.field?.endsWith('.annotations["org.example.nested-key"]')}`),
      ['config armored true'],
    );
    noKeyBytes(t, report, stderr);
  });
}

test('[integration] the public key in manifest and index annotations is no finding (negative control)', async (t) => {
  const layout = await baseLayout('annotations-public');
  await editLayout(layout, {
    manifestAnnotations: { 'org.example.signing-key': key.armoredPublic },
    indexAnnotations: { 'org.example.key-b64': Buffer.from(key.armoredPublic).toString('base64') },
  });
  const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc]);
  t.is(exitCode, 0, stderr);
  t.deepEqual(report.findings, []);
});

/**
 * The file forms of issue 10 in one added layer (GNU tar): the gpg key as PowerShell writes it
 * (`iconv -t UTF-16LE` plus a BOM), a PuTTY key (`puttygen`), an OpenPGP v6 binary key (OpenPGP.js).
 * Public counterparts in the same places are the negative control.
 */
async function fileFormsLayer(name: string, secret: boolean): Promise<{ tar: Buffer; ppkSha256: string; v6PublicFile: string; v6Fingerprints: string[] }> {
  const root = join(dir, `${name}-files`);
  await mkdir(join(root, 'home', 'user'), { recursive: true });
  const armored = secret ? key.armoredSecret : key.armoredPublic;
  const utf16 = Buffer.from((await execa('iconv', ['-f', 'UTF-8', '-t', 'UTF-16LE'], { input: armored.replace(/\n/g, '\r\n'), encoding: 'buffer' })).stdout);
  await writeFile(join(root, 'home', 'user', 'signing.asc'), Buffer.concat([Buffer.from([0xff, 0xfe]), utf16]));
  const ppk = join(dir, `${name}.ppk`);
  await writeFile(join(dir, 'empty-passphrase'), '');
  await execa('puttygen', ['-t', 'ed25519', '-q', '-o', ppk, '--new-passphrase', join(dir, 'empty-passphrase')]);
  await writeFile(join(root, 'home', 'user', 'deploy.ppk'), secret ? await readFile(ppk) : (await execa('puttygen', [ppk, '-O', 'public'])).stdout);
  await writeFile(join(dir, `${name}-ppk.pub`), (await execa('puttygen', [ppk, '-O', 'public-openssh'])).stdout);
  const ppkSha256 = (await execa('ssh-keygen', ['-lf', join(dir, `${name}-ppk.pub`)])).stdout.split(' ')[1]!;
  const openpgp = await import('openpgp');
  const v6 = await openpgp.generateKey({ type: 'curve25519', userIDs: [{ name: 'v6' }], format: 'object', config: { v6Keys: true } });
  await writeFile(join(root, 'home', 'user', 'v6.gpg'), secret ? v6.privateKey.write() : v6.publicKey.write());
  const v6PublicFile = join(dir, `${name}-v6.asc`);
  await writeFile(v6PublicFile, v6.publicKey.armor());
  const v6Fingerprints = [v6.privateKey, ...v6.privateKey.getSubkeys()].map((k) => k.getFingerprint().toUpperCase());
  const tarFile = join(dir, `${name}-files.tar`);
  await execa('tar', ['--format=pax', '--owner=0', '--group=0', '-cf', tarFile, '-C', root, 'home']);
  return { tar: await readFile(tarFile), ppkSha256, v6PublicFile, v6Fingerprints };
}

test('[integration] UTF-16 (PowerShell), .ppk and OpenPGP v6 keys in a layer: exit 1, each matched to its key', async (t) => {
  const layout = await baseLayout('file-forms-secret');
  const layer = await fileFormsLayer('forms-secret', true);
  await editLayout(layout, { addLayer: { tar: layer.tar, createdBy: 'COPY home /home' } });
  const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc, '--public-key', layer.v6PublicFile]);
  t.is(exitCode, 1, stderr);
  const byPath = new Map(report.findings.map((f) => [`${f.path} ${f.kind}`, f]));
  const utf16 = byPath.get('home/user/signing.asc utf16-armored-crlf');
  t.truthy(utf16, [...byPath.keys()].join('\n'));
  t.deepEqual(
    utf16?.fingerprints.map((f) => f.toUpperCase()),
    key.fingerprints,
  );
  t.true(utf16?.matchesPublicKey);
  t.deepEqual(byPath.get('home/user/deploy.ppk ppk-v3')?.fingerprints, [layer.ppkSha256]);
  const v6 = report.findings.filter((f) => f.path === 'home/user/v6.gpg');
  t.deepEqual(
    v6.map((f) => f.fingerprints[0]!.toUpperCase()),
    layer.v6Fingerprints,
  );
  t.true(v6.every((f) => f.matchesPublicKey));
  noKeyBytes(t, report, stderr);
});

test('[integration] the public counterparts (UTF-16 public export, puttygen -O public, v6 public key) give exit 0 (negative control)', async (t) => {
  const layout = await baseLayout('file-forms-public');
  const layer = await fileFormsLayer('forms-public', false);
  await editLayout(layout, { addLayer: { tar: layer.tar, createdBy: 'COPY home /home' } });
  const { exitCode, report, stderr } = await scanJson(`oci:${layout}`, ['--public-key', key.files.publicAsc, '--public-key', layer.v6PublicFile]);
  t.is(exitCode, 0, stderr);
  t.deepEqual(report.findings, []);
});
