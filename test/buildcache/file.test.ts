import test from 'ava';
import { execa } from 'execa';
import { cp, readFile, rm, writeFile, chmod, readdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import {
  fakeHash,
  SPACK_FIXTURE,
  SPACK_FIXTURE_KEY,
  startKeyWorld,
  tempDir,
  v2Prefix,
  v2TarballRelPath,
  writeV2Mirror,
  writeV3Mirror,
  type FixtureSpec,
  type KeyWorld,
} from './fixtures.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';

const FIXTURE = SPACK_FIXTURE;
const FIXTURE_KEY = SPACK_FIXTURE_KEY;
const FIXTURE_FPR = '130156C4D55520802D04D3D4CC641F3BEF0CEE71';
const FIXTURE_ID = 'hello-file-1.0-p6rjdomocw4krnmuwavwdbae56jxt3vo';
const FIXTURE_MANIFEST = `v3/manifests/spec/hello-file/${FIXTURE_ID}.spec.manifest.json`;
const FIXTURE_TARBALL = 'blobs/sha256/ff/ff64ac68af157756bdb6b8b4ef3950d64ad920bc8290853f94637f6369ddb52b';

// Made in a before hook, not at import: `npm run test:unit` loads this file and must not start gpg.
let work!: KeyWorld['work'], alice!: KeyWorld['alice'], mallory!: KeyWorld['mallory'], stop!: KeyWorld['stop'];
test.before(async () => {
  // Only the [integration] tests of this file use the gpg keys: a unit-only run needs only the work directory.
  if (UNIT_ONLY_RUN) {
    ({ dir: work, cleanup: stop } = await tempDir());
    return;
  }
  ({ work, alice, mallory, stop } = await startKeyWorld());
});
test.after.always(() => stop?.());

async function copyFixture(name: string): Promise<string> {
  const dir = join(work, name);
  await cp(FIXTURE, dir, { recursive: true });
  // the committed fixture stays untouched (it may be read-only); the copy must be writable to tamper with it
  await execa('chmod', ['-R', 'u+w', dir]);
  return dir;
}

async function verifyJson(args: string[], env: Record<string, string> = {}) {
  const result = await runCli(['buildcache', 'verify', ...args, '--format', 'json'], { env });
  return {
    ...result,
    report:
      result.exitCode === 2
        ? undefined
        : (JSON.parse(String(result.stdout)) as {
            entries: { kind: string; id: string; detail: string; manifestDigest?: string; signer?: { fingerprint?: string } }[];
            mirrorKeys: { fingerprint: string; trusted: boolean }[];
          }),
  };
}

test('the real Spack v1.1 mirror verifies against its pinned key; JSON names the manifest digest', async (t) => {
  const { exitCode, report } = await verifyJson([`file://${FIXTURE}`, '--public-key', FIXTURE_KEY]);
  t.is(exitCode, 0);
  t.is(report!.entries.length, 1);
  t.like(report!.entries[0], { kind: 'verified', id: FIXTURE_ID, signer: { fingerprint: FIXTURE_FPR } });
  t.regex(report!.entries[0]!.manifestDigest!, /^sha256:[0-9a-f]{64}$/);
  t.deepEqual(report!.mirrorKeys, [{ fingerprint: FIXTURE_FPR, userIds: ['Test Signer (GPG created for Spack) <test@example.com>'], trusted: true }] as never);
});

test('[integration] a key published in the mirror is never trusted: untrusted-signer names signer and trusted keys', async (t) => {
  const none = await runCli(['buildcache', 'verify', FIXTURE]);
  t.is(none.exitCode, 1);
  t.regex(String(none.stdout), /untrusted-signer .*CC641F3BEF0CEE71 \(fingerprint 130156C4D55520802D04D3D4CC641F3BEF0CEE71\).*publishes but you have not pinned; trusted: none/);
  const wrong = await runCli(['buildcache', 'verify', FIXTURE, '--public-key', alice.publicFile]);
  t.is(wrong.exitCode, 1);
  t.true(String(wrong.stdout).includes(`trusted: ${alice.fingerprint}`));
  t.true(String(wrong.stdout).includes(FIXTURE_FPR));
});

test('tampering: changed blob, missing blob, edited manifest, stripped signature', async (t) => {
  const changed = await copyFixture('changed');
  const tarball = await readFile(join(changed, FIXTURE_TARBALL));
  tarball[100] = tarball[100]! ^ 0xff;
  await writeFile(join(changed, FIXTURE_TARBALL), tarball);
  t.like((await verifyJson([changed, '--public-key', FIXTURE_KEY])).report!.entries[0], { kind: 'checksum-mismatch' });

  const missing = await copyFixture('missing');
  await rm(join(missing, FIXTURE_TARBALL));
  const missingResult = await verifyJson([missing, '--public-key', FIXTURE_KEY]);
  t.is(missingResult.exitCode, 1);
  t.like(missingResult.report!.entries[0], { kind: 'missing-blob' });

  const edited = await copyFixture('edited');
  const text = await readFile(join(edited, FIXTURE_MANIFEST), 'utf8');
  await writeFile(join(edited, FIXTURE_MANIFEST), text.replace('ff64ac68af', 'ee64ac68af'));
  const editedResult = await verifyJson([edited, '--public-key', FIXTURE_KEY]);
  t.like(editedResult.report!.entries[0], { kind: 'bad-signature' });

  const stripped = await copyFixture('stripped');
  const body = /\n\n([\s\S]*?)\n-----BEGIN PGP SIGNATURE-----/.exec(text)![1]!;
  await writeFile(join(stripped, FIXTURE_MANIFEST), body);
  t.like((await verifyJson([stripped, '--public-key', FIXTURE_KEY])).report!.entries[0], { kind: 'unsigned' });
});

test('[integration] --spec selects entries; an unknown spec is not-found (exit 1); an unreadable mirror exits 2', async (t) => {
  const bySpec = await verifyJson([FIXTURE, '--public-key', FIXTURE_KEY, '--spec', FIXTURE_ID]);
  t.is(bySpec.exitCode, 0);
  const byHash = await verifyJson([FIXTURE, '--public-key', FIXTURE_KEY, '--spec', 'p6rjdomocw4krnmuwavwdbae56jxt3vo', '--spec', 'zlib-1.3-aaaa']);
  t.is(byHash.exitCode, 1);
  t.deepEqual(
    byHash.report!.entries.map((e) => e.kind),
    ['verified', 'not-found'],
  );
  const unreadable = await runCli(['buildcache', 'verify', join(work, 'nope'), '--public-key', FIXTURE_KEY]);
  t.is(unreadable.exitCode, 2);
  t.regex(String(unreadable.stderr), /not a Spack buildcache/);
  const badKey = await runCli(['buildcache', 'verify', FIXTURE, '--public-key', alice.secretFile]);
  t.is(badKey.exitCode, 2);
  t.regex(String(badKey.stderr), /holds a private key/);
  t.false(String(badKey.stderr).includes(alice.secretArmored.split('\n')[3]!));
});

test('an http mirror in file layout is verified through its index', async (t) => {
  let servedRoot = FIXTURE;
  const server = createServer(async (req, res) => {
    try {
      res.end(await readFile(join(servedRoot, decodeURIComponent(new URL(req.url!, 'http://x').pathname).replace(/^\/cache\//, ''))));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cache`;
  const { exitCode, report } = await verifyJson([url, '--public-key', FIXTURE_KEY]);
  t.is(exitCode, 0);
  t.like(report!.entries[0], { kind: 'verified', id: FIXTURE_ID });
  t.is(report!.mirrorKeys[0]!.fingerprint, FIXTURE_FPR);
  // without an index (autopush does not update it), a named spec is still found by its path
  const noIndexDir = await copyFixture('no-index');
  await rm(join(noIndexDir, 'v3/manifests/index'), { recursive: true });
  servedRoot = noIndexDir;
  const named = await verifyJson([url, '--public-key', FIXTURE_KEY, '--spec', FIXTURE_ID]);
  t.is(named.exitCode, 0, String(named.stdout));
  t.like(named.report!.entries[0], { kind: 'verified', id: FIXTURE_ID });
});

test('[integration] layout v3 and v2 trees clearsigned by real gpg verify; v2 tarball tampering and a missing .sig are caught', async (t) => {
  const specs: FixtureSpec[] = [
    { name: 'zlib', version: '1.3.1', hash: fakeHash() },
    { name: 'hello-world', version: '2.12', hash: fakeHash() },
  ];
  const v3 = join(work, 'gen-v3');
  await writeV3Mirror(v3, specs, alice);
  const v3Result = await verifyJson([v3, '--public-key', alice.publicFile, '--public-key', FIXTURE_KEY]);
  t.is(v3Result.exitCode, 0);
  t.deepEqual(
    v3Result.report!.entries.map((e) => e.kind),
    ['verified', 'verified'],
  );

  const v2 = join(work, 'gen-v2');
  await writeV2Mirror(v2, specs, alice);
  const v2Result = await verifyJson([v2, '--public-key', alice.publicFile]);
  t.is(v2Result.exitCode, 0, String(v2Result.stdout));
  t.deepEqual(
    v2Result.report!.entries.map((e) => e.kind),
    ['verified', 'verified'],
  );
  const wrong = await verifyJson([v2, '--public-key', mallory.publicFile]);
  t.deepEqual(
    wrong.report!.entries.map((e) => e.kind),
    ['untrusted-signer', 'untrusted-signer'],
  );
  t.true(wrong.report!.mirrorKeys.some((k) => k.fingerprint === alice.fingerprint && !k.trusted));

  const tarball = join(v2, v2TarballRelPath(specs[0]!));
  await writeFile(tarball, Buffer.concat([await readFile(tarball), Buffer.from('x')]));
  const sig = join(v2, `build_cache/${v2Prefix(specs[1]!)}.spec.json.sig`);
  const signed = await readFile(sig, 'utf8');
  await rm(sig);
  await writeFile(sig.replace(/\.sig$/, ''), /\n\n([\s\S]*?)\n-----BEGIN PGP SIGNATURE-----/.exec(signed)![1]!);
  const tampered = await verifyJson([v2, '--public-key', alice.publicFile]);
  t.is(tampered.exitCode, 1);
  const byId = Object.fromEntries(tampered.report!.entries.map((e) => [e.id, e.kind]));
  t.is(byId[`zlib-1.3.1-${specs[0]!.hash}`], 'checksum-mismatch');
  t.is(byId[`hello-world-2.12-${specs[1]!.hash}`], 'unsigned');
});

test('[integration] sign a v3 mirror in place: gpg accepts the result, re-sign is a no-op, --force re-signs, the key never shows', async (t) => {
  const specs: FixtureSpec[] = [
    { name: 'zlib', version: '1.3.1', hash: fakeHash() },
    { name: 'cmake', version: '3.30.0', hash: fakeHash() },
  ];
  const mirror = join(work, 'to-sign');
  await writeV3Mirror(mirror, specs, undefined);
  t.is((await runCli(['buildcache', 'verify', mirror, '--public-key', alice.publicFile])).exitCode, 1);

  const first = await runCli(['buildcache', 'sign', `file://${mirror}`, '--signing-key', alice.secretFile, '--spec', `zlib-1.3.1-${specs[0]!.hash}`]);
  t.is(first.exitCode, 0, String(first.stderr));
  t.regex(String(first.stdout), /1 signed, 0 skipped/);
  const all = await runCli(['buildcache', 'sign', mirror, '--unsigned-only'], { env: { SPACK_SIGNING_KEY: alice.secretArmored } });
  t.is(all.exitCode, 0, String(all.stderr));
  t.regex(String(all.stdout), /1 signed, 1 skipped/);
  const verified = await verifyJson([mirror, '--public-key', alice.publicFile]);
  t.is(verified.exitCode, 0);

  // gpg, which is what Spack runs, accepts our clearsigned manifest with the public key alone.
  const manifest = join(mirror, `v3/manifests/spec/zlib/zlib-1.3.1-${specs[0]!.hash}.spec.manifest.json`);
  const { dir: verifyHome, cleanup: cleanHome } = await tempDir('eic-build-gpgv-');
  t.teardown(cleanHome);
  await chmod(verifyHome, 0o700);
  await execa('gpg', ['--homedir', verifyHome, '--batch', '--import', alice.publicFile]);
  const gpgVerify = await execa('gpg', ['--homedir', verifyHome, '--batch', '--verify', manifest], { reject: false });
  t.is(gpgVerify.exitCode, 0, gpgVerify.stderr);
  t.regex(gpgVerify.stderr, /Good signature/);
  await execa('gpgconf', ['--homedir', verifyHome, '--kill', 'gpg-agent'], { reject: false });

  const before = await readFile(manifest, 'utf8');
  const again = await runCli(['buildcache', 'sign', mirror, '--signing-key', alice.secretFile]);
  t.regex(String(again.stdout), /0 signed, 2 skipped/);
  t.is(await readFile(manifest, 'utf8'), before);
  const other = await runCli(['buildcache', 'sign', mirror, '--signing-key', mallory.secretFile]);
  t.regex(String(other.stdout), /0 signed, 2 skipped/);
  const forced = await runCli(['buildcache', 'sign', mirror, '--signing-key', mallory.secretFile, '--force']);
  t.regex(String(forced.stdout), /2 signed/);
  t.like((await verifyJson([mirror, '--public-key', mallory.publicFile])).report!.entries[0], { kind: 'verified' });
  t.deepEqual((await readdir(join(mirror, 'v3/manifests/spec/zlib'))).length, 1, 'no temp file left behind');

  for (const result of [first, all, again, other, forced]) {
    const output = `${String(result.stdout)}${String(result.stderr)}`;
    for (const line of [...alice.secretArmored.split('\n'), ...mallory.secretArmored.split('\n')].filter((l) => l.length > 20)) {
      t.false(output.includes(line));
    }
  }
});

test('[integration] sign refuses a public key, a missing key and corrupt entries', async (t) => {
  const mirror = join(work, 'refuse');
  const spec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  await writeV3Mirror(mirror, [spec], undefined);
  const pub = await runCli(['buildcache', 'sign', mirror, '--signing-key', alice.publicFile]);
  t.is(pub.exitCode, 2);
  t.regex(String(pub.stderr), /only the public key/);
  const none = await runCli(['buildcache', 'sign', mirror], { env: { SPACK_SIGNING_KEY: '' } });
  t.is(none.exitCode, 2);
  t.regex(String(none.stderr), /no signing key/);
  const blobs = await readdir(join(mirror, 'blobs/sha256'), { recursive: true });
  for (const blob of blobs.filter((b) => b.includes('/'))) await writeFile(join(mirror, 'blobs/sha256', blob), 'changed');
  const corrupt = await runCli(['buildcache', 'sign', mirror, '--signing-key', alice.secretFile]);
  t.is(corrupt.exitCode, 1);
  t.regex(String(corrupt.stdout), /refusing to sign/);
});

test('[integration] concurrent signers of one v3 mirror leave every manifest whole and validly signed', async (t) => {
  const { signFileMirror } = await import('../../src/buildcache/sign/sign-file.js');
  const { directoryMirrorFiles } = await import('../../src/buildcache/mirror-files.js');
  const { loadSigningKey } = await import('../../src/buildcache/sign/signing-key.js');
  const specs = Array.from({ length: 6 }, (_, i) => ({ name: `pkg${i}`, version: '1.0', hash: fakeHash() }));
  const mirror = join(work, 'concurrent');
  await writeV3Mirror(mirror, specs, undefined);
  const key = await loadSigningKey({ file: alice.secretFile, env: {} });
  const runs = await Promise.all([1, 2, 3].map(() => signFileMirror(directoryMirrorFiles(mirror), { signingKey: key, force: true })));
  t.false(runs.flat().some((o) => o.kind === 'failed'));
  const result = await verifyJson([mirror, '--public-key', alice.publicFile]);
  t.is(result.exitCode, 0);
  t.is(result.report!.entries.length, 6);
  for (const spec of specs) t.deepEqual(await readdir(join(mirror, `v3/manifests/spec/${spec.name}`)), [`${spec.name}-1.0-${spec.hash}.spec.manifest.json`]);
});
