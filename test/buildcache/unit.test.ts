import test from 'ava';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../../src/errors.js';
import { clearRegisteredSecrets, redact } from '../../src/redact.js';
import { parseMirrorUrl } from '../../src/mirror-url.js';
import { formatSimpleSigningPayload, isSignatureTagOf, parseSimpleSigningPayload, signatureTag, splitDockerReference } from '../../src/buildcache/simple-signing.js';
import { idFromTag, isEntryTag, spackTag } from '../../src/buildcache/oci-entries.js';
import { formatVerifyText, matchesSpec, selectEntries, verifyExitCode, type VerifyReport } from '../../src/buildcache/report.js';
import { idFromManifestPath, parseV3Manifest, v2TarballPath, v3BlobPath } from '../../src/buildcache/file-layout.js';
import { verifyClearsigned, verifySignedMessage } from '../../src/buildcache/pgp-verify.js';
import { describeKey, parseTrustedKeys } from '../../src/buildcache/trust.js';
import { loadSigningKey } from '../../src/buildcache/sign/signing-key.js';
import { signSimpleSigningPayload } from '../../src/buildcache/sign/sign-oci.js';
import { clearsignText } from '../../src/buildcache/sign/sign-file.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

test('parseMirrorUrl: the URL forms Spack accepts', (t) => {
  t.like(parseMirrorUrl('oci://ghcr.example/eic/spack-cache'), { kind: 'oci', registry: 'ghcr.example', repository: 'eic/spack-cache', insecure: false });
  t.like(parseMirrorUrl('oci+http://127.0.0.1:5000/eic/cache/'), { kind: 'oci', registry: '127.0.0.1:5000', repository: 'eic/cache', insecure: true });
  t.like(parseMirrorUrl('oci://cachehost/eic/cache'), { kind: 'oci', registry: 'cachehost', repository: 'eic/cache' });
  t.like(parseMirrorUrl('file:///srv/mirror'), { kind: 'file', root: '/srv/mirror' });
  t.like(parseMirrorUrl('/srv/mirror'), { kind: 'file', root: '/srv/mirror' });
  t.like(parseMirrorUrl('https://cache.example/spack'), { kind: 'http', base: 'https://cache.example/spack/' });
  for (const bad of ['s3://bucket/x', 'oci://hostonly', 'oci://h.example/r:tag', '']) {
    t.is(t.throws(() => parseMirrorUrl(bad), { instanceOf: EicBuildError })?.code, 'usage', bad);
  }
});

test('simple-signing payload round-trips and has the containers/image shape', (t) => {
  const bytes = formatSimpleSigningPayload('reg.example/eic/cache:zlib-1.3-abc.spack', DIGEST, { creator: 'eic-build' });
  const payload = parseSimpleSigningPayload(bytes);
  t.deepEqual(payload.critical, {
    identity: { 'docker-reference': 'reg.example/eic/cache:zlib-1.3-abc.spack' },
    image: { 'docker-manifest-digest': DIGEST },
    type: 'atomic container signature',
  });
  t.throws(() => parseSimpleSigningPayload(Buffer.from('{"critical":{"type":"other"}}')), { instanceOf: EicBuildError });
  t.throws(() => parseSimpleSigningPayload(Buffer.from('not json')), { instanceOf: EicBuildError });
  t.deepEqual(splitDockerReference('127.0.0.1:5000/eic/cache:t.spack'), { host: '127.0.0.1:5000', path: 'eic/cache', tag: 't.spack' });
});

test('signature tags: per key, recognised only for their digest', (t) => {
  const tag = signatureTag(DIGEST, '130156C4D55520802D04D3D4CC641F3BEF0CEE71');
  t.is(tag, `sha256-${'ab'.repeat(32)}.CC641F3BEF0CEE71.sig`);
  t.true(tag.length <= 128);
  t.true(isSignatureTagOf(tag, DIGEST));
  t.false(isSignatureTagOf(tag, `sha256-${'cd'.repeat(32)}`));
  t.false(isSignatureTagOf(`sha256-${'ab'.repeat(32)}.sig`, DIGEST));
});

test('Spack OCI tags: sanitised, long ones cut to 64+64, index and signatures are not entries', (t) => {
  t.is(spackTag('zlib-1.3.1-abc'), 'zlib-1.3.1-abc.spack');
  t.is(spackTag('py+x-1.0-abc'), 'py_x-1.0-abc.spack');
  const long = spackTag(`${'n'.repeat(120)}-1.0-${'h'.repeat(32)}`);
  t.is(long.length, 128);
  t.true(long.endsWith('.spack'));
  t.true(isEntryTag('zlib-1.3.1-abc.spack'));
  t.false(isEntryTag('index.spack'));
  t.false(isEntryTag(signatureTag(DIGEST, 'A'.repeat(40))));
  t.is(idFromTag('zlib-1.3.1-abc.spack'), 'zlib-1.3.1-abc');
});

test('--spec selectors: full id, hash, /hash-prefix', (t) => {
  const id = 'zlib-1.3.1-p6rjdomocw4krnmuwavwdbae56jxt3vo';
  t.true(matchesSpec(id, id));
  t.true(matchesSpec(id, 'p6rjdomocw4krnmuwavwdbae56jxt3vo'));
  t.true(matchesSpec(id, '/p6rjdomo'));
  t.false(matchesSpec(id, '/p6r'));
  t.false(matchesSpec(id, 'zlib'));
  t.deepEqual(selectEntries([{ id }], [id, 'other-1-x']), { picked: [{ id }], missing: ['other-1-x'] });
});

test('layout helpers', (t) => {
  t.is(v3BlobPath({ checksumAlgorithm: 'sha256', checksum: 'ff64ac' }), 'blobs/sha256/ff/ff64ac');
  t.is(idFromManifestPath('v3/manifests/spec/zlib/zlib-1.3-abc.spec.manifest.json'), 'zlib-1.3-abc');
  t.is(
    v2TarballPath({
      name: 'zlib',
      version: '1.3',
      hash: 'abc',
      arch: { platform: 'linux', platform_os: 'debian12', target: { name: 'x86_64' } },
      compiler: { name: 'gcc', version: '12.2.0' },
    }),
    'build_cache/linux-debian12-x86_64/gcc-12.2.0/zlib-1.3/linux-debian12-x86_64-gcc-12.2.0-zlib-1.3-abc.spack',
  );
  t.throws(() => parseV3Manifest('{"version":2}', 'x'), { instanceOf: EicBuildError });
});

test('text report: untrusted signer names its key and the trusted ones; no entries is not success', (t) => {
  const report: VerifyReport = {
    mirror: 'file:///m',
    layout: 'v3',
    trusted: [{ fingerprint: 'A'.repeat(40), userIds: ['Pinned'], source: 'k.asc' }],
    mirrorKeys: [{ fingerprint: 'B'.repeat(40), userIds: ['Other'], trusted: false }],
    entries: [{ kind: 'untrusted-signer', id: 'zlib-1-abc', location: 'x', detail: `signed by key ${'B'.repeat(16)}; trusted: ${'A'.repeat(40)}` }],
  };
  const text = formatVerifyText(report);
  t.regex(text, /\(information only\): B{40} "Other" \[not pinned\]/);
  t.regex(text, /untrusted-signer {2}zlib-1-abc/);
  t.is(verifyExitCode(report), 1);
  t.is(verifyExitCode({ ...report, entries: [] }), 1);
  t.is(verifyExitCode({ ...report, entries: [{ ...report.entries[0]!, kind: 'verified' }] }), 0);
});

test('OpenPGP checks with keys made in memory: verified, untrusted, bad, unsigned', async (t) => {
  const make = (name: string) => openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name }], format: 'object' });
  const [a, b] = await Promise.all([make('a'), make('b')]);
  const trustA = [describeKey(a.publicKey, 'a')];
  const payload = formatSimpleSigningPayload('h/r:t', DIGEST);
  const signed = await signSimpleSigningPayload(payload, a.privateKey);
  const ok = await verifySignedMessage(signed, trustA);
  t.is(ok.kind, 'verified');
  if (ok.kind === 'verified') t.deepEqual(Buffer.from(ok.text), payload);
  const byB = await verifySignedMessage(await signSimpleSigningPayload(payload, b.privateKey), trustA);
  t.is(byB.kind, 'untrusted-signer');
  if (byB.kind === 'untrusted-signer') t.is(byB.signers[0]!.fingerprint, b.privateKey.getFingerprint().toUpperCase());
  const tampered = Buffer.from(signed);
  const at = tampered.indexOf(Buffer.from(DIGEST.slice(10, 20)));
  tampered[at] = tampered[at]! ^ 1;
  t.is((await verifySignedMessage(tampered, trustA)).kind, 'bad-signature');
  const plain = (await openpgp.createMessage({ binary: payload })).write() as Uint8Array;
  t.is((await verifySignedMessage(plain, trustA)).kind, 'unsigned');
  t.is((await verifyClearsigned('{"version":3}', trustA)).kind, 'unsigned');
  const clear = await clearsignText('{"version":3,"data":[]}', a.privateKey);
  t.is((await verifyClearsigned(clear, trustA)).kind, 'verified');
  t.is((await verifyClearsigned(clear.replace('"data"', '"dato"'), trustA)).kind, 'bad-signature');
});

test('loadSigningKey (through the key layer): env (armored or base64), and clear errors for public, protected and missing keys; the key is registered as secret', async (t) => {
  t.teardown(clearRegisteredSecrets);
  const { privateKey, publicKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'k' }], format: 'armored' });
  const loaded = await loadSigningKey({ env: { SPACK_SIGNING_KEY: privateKey } });
  t.is(loaded.fingerprint.length, 40);
  const body = privateKey.split('\n').find((l) => l.length > 40)!;
  t.false(redact(`leak ${body}`).includes(body));
  t.is((await loadSigningKey({ env: { SPACK_SIGNING_KEY: Buffer.from(privateKey).toString('base64') } })).fingerprint, loaded.fingerprint);
  t.is((await t.throwsAsync(loadSigningKey({ env: { SPACK_SIGNING_KEY: publicKey } }), { instanceOf: EicBuildError }))?.code, 'key-public-only');
  const protectedKey = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'p' }], passphrase: 'correct horse', format: 'armored' });
  t.is((await t.throwsAsync(loadSigningKey({ env: { SPACK_SIGNING_KEY: protectedKey.privateKey } }), { instanceOf: EicBuildError }))?.code, 'key-protected');
  const unlocked = await loadSigningKey({ env: { SPACK_SIGNING_KEY: protectedKey.privateKey, SPACK_SIGNING_KEY_PASSPHRASE: 'correct horse' } });
  t.true(unlocked.key.isDecrypted());
  t.is((await t.throwsAsync(loadSigningKey({ env: {} }), { instanceOf: EicBuildError }))?.code, 'config');
  t.is((await t.throwsAsync(loadSigningKey({ env: { SPACK_SIGNING_KEY: 'garbage-garbage' } }), { instanceOf: EicBuildError }))?.code, 'key-invalid');
  t.is((await t.throwsAsync(parseTrustedKeys(Buffer.from(privateKey), 'k.asc'), { instanceOf: EicBuildError }))?.code, 'key-invalid');
});

test('buildcache CLI: --help, and usage errors name the flag', async (t) => {
  const { buildcacheCommand } = await import('../../src/commands/buildcache.js');
  const { memoryIo } = await import('../../src/cli-io.js');
  const io = memoryIo();
  t.is(await buildcacheCommand(['--help'], io), 0);
  t.regex(io.stdout, /buildcache verify MIRROR/);
  const verifyHelp = memoryIo();
  t.is(await buildcacheCommand(['verify', '--help'], verifyHelp), 0);
  t.regex(verifyHelp.stdout, /untrusted-signer/);
  t.regex(verifyHelp.stdout, /--concurrency N/);
  const cases: [string[], RegExp][] = [
    [['frobnicate'], /unknown subcommand 'frobnicate'/],
    [['verify'], /exactly one MIRROR/],
    [['verify', '/m', '--all', '--spec', 'x'], /--all and --spec/],
    [['verify', '/m', '--format', 'yaml'], /--format must be text or json/],
    [['verify', '/m', '--signing-key', 'k'], /belong to buildcache sign/],
    [['sign', '/m', '--public-key', 'k'], /belong to buildcache verify/],
    [['verify', 's3://bucket/x'], /not supported/],
    [['verify', '/m', '--bogus'], /bogus/],
    [['verify', '/m', '--concurrency', '0'], /--concurrency must be an integer from 1 to 256, not '0'/],
  ];
  for (const [argv, message] of cases) {
    const error = await t.throwsAsync(buildcacheCommand(argv, memoryIo()), { instanceOf: EicBuildError }, argv.join(' '));
    t.regex(error!.message, message);
    t.truthy(error!.hint);
  }
});
