import test from 'ava';
import { execa } from 'execa';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RegistryClient, MediaTypes } from '../../src/registry/client.js';
import { signatureTag, parseSignatureManifest, SIGNATURE_ARTIFACT_TYPE } from '../../src/buildcache/simple-signing.js';
import { signOciMirror } from '../../src/buildcache/sign/sign-oci.js';
import { verifyOciMirror } from '../../src/buildcache/verify/verify-oci.js';
import { loadSigningKey } from '../../src/buildcache/sign/signing-key.js';
import { readTrustedKeys } from '../../src/buildcache/trust.js';
import { runCli } from '../helpers/cli.js';
import { startRegistry } from '../helpers/registry.js';
import { flipLastByte, startFront } from '../helpers/http-fronts.js';
import { fakeHash, pushOciEntry, pushOciIndex, specTarball, startSigningWorld, tempDir, type FixtureSpec, type GpgKey, type SigningWorld } from './fixtures.js';

// Made in a before hook, not at import: `npm run test:unit` loads this file and must not start gpg.
let registry!: SigningWorld['registry'],
  client!: SigningWorld['client'],
  work!: SigningWorld['work'],
  alice!: SigningWorld['alice'],
  mallory!: SigningWorld['mallory'],
  stop!: SigningWorld['stop'];
test.before(async () => ({ registry, client, work, alice, mallory, stop } = await startSigningWorld()));
test.after.always(() => stop?.());

interface Report {
  entries: { kind: string; id: string; detail: string; manifestDigest?: string; reference?: string }[];
}

async function seed(repo: string, count: number): Promise<{ specs: FixtureSpec[]; pushed: Awaited<ReturnType<typeof pushOciEntry>>[] }> {
  const specs = Array.from({ length: count }, (_, i) => ({ name: `pkg${i}`, version: '1.0', hash: fakeHash() }));
  const pushed = [];
  for (const spec of specs) pushed.push(await pushOciEntry(client, repo, spec));
  await pushOciIndex(client, repo, specs);
  return { specs, pushed };
}

async function verify(repo: string, keys: GpgKey[], extra: string[] = [], host = registry.host) {
  const result = await runCli(['buildcache', 'verify', `oci+http://${host}/${repo}`, ...keys.flatMap((k) => ['--public-key', k.publicFile]), '--format', 'json', ...extra]);
  return { ...result, report: result.exitCode === 2 ? undefined : (JSON.parse(String(result.stdout)) as Report) };
}

const byId = (report: Report) => Object.fromEntries(report.entries.map((e) => [e.id, e]));

test('[integration] sign an OCI buildcache, verify it, pin digests; re-sign is a no-op; the key never shows', async (t) => {
  const repo = 'eic/cache-basic';
  const { pushed } = await seed(repo, 3);
  const unsigned = await verify(repo, [alice]);
  t.is(unsigned.exitCode, 1);
  t.deepEqual(
    unsigned.report!.entries.map((e) => e.kind),
    ['unsigned', 'unsigned', 'unsigned'],
  );

  const signed = await runCli(['buildcache', 'sign', `oci+http://${registry.host}/${repo}`, '--all'], { env: { SPACK_SIGNING_KEY: alice.secretArmored } });
  t.is(signed.exitCode, 0, String(signed.stderr));
  t.regex(String(signed.stdout), /3 signed, 0 skipped, 0 failed/);

  const verified = await verify(repo, [alice]);
  t.is(verified.exitCode, 0, String(verified.stdout));
  for (const entry of pushed) {
    const found = verified.report!.entries.find((e) => `${e.id}.spack` === entry.tag)!;
    t.is(found.kind, 'verified');
    t.is(found.manifestDigest, entry.digest);
    t.is(found.reference, `${registry.host}/${repo}@${entry.digest}`);
  }
  // the fallback referrers index (distribution 2.8 has no referrers API) lists the signature artifact
  const referrers = await client.getReferrers(repo, pushed[0]!.digest, SIGNATURE_ARTIFACT_TYPE);
  t.is(referrers.kind, 'tag-scheme');
  t.is(referrers.manifests.length, 1);

  const again = await runCli(['buildcache', 'sign', `oci+http://${registry.host}/${repo}`, '--signing-key', alice.secretFile]);
  t.regex(String(again.stdout), /0 signed, 3 skipped/);
  const forced = await runCli([
    'buildcache',
    'sign',
    `oci+http://${registry.host}/${repo}`,
    '--signing-key',
    alice.secretFile,
    '--force',
    '--spec',
    pushed[0]!.tag.replace(/\.spack$/, ''),
  ]);
  t.regex(String(forced.stdout), /1 signed, 0 skipped/);
  const sigManifest = await client.getManifest(repo, signatureTag(pushed[0]!.digest, alice.fingerprint));
  t.is(parseSignatureManifest(sigManifest.bytes).layers.length, 1, '--force replaces, does not pile up');

  for (const result of [signed, again, forced, verified]) {
    const output = `${String(result.stdout)}${String(result.stderr)}`;
    for (const line of alice.secretArmored.split('\n').filter((l) => l.length > 20)) t.false(output.includes(line));
  }
});

test('[integration] skopeo standalone-verify accepts our signatures', async (t) => {
  const repo = 'eic/cache-skopeo';
  const { pushed } = await seed(repo, 1);
  const signingKey = await loadSigningKey({ file: alice.secretFile, env: {} });
  const outcomes = await signOciMirror(client, { repository: repo, signingKey });
  t.is(outcomes[0]!.kind, 'signed');
  const entry = pushed[0]!;
  const manifest = await client.getManifest(repo, entry.tag);
  const layer = parseSignatureManifest((await client.getManifest(repo, signatureTag(entry.digest, alice.fingerprint))).bytes).layers[0]!;
  const signature = await client.getBlobBytes(repo, layer.digest);
  const manifestFile = join(work, 'skopeo-manifest.json');
  const signatureFile = join(work, 'skopeo-signature');
  await writeFile(manifestFile, manifest.bytes);
  await writeFile(signatureFile, signature);
  const { dir: home, cleanup: cleanHome } = await tempDir('eic-build-skopeo-');
  t.teardown(async () => {
    await execa('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { reject: false });
    await cleanHome();
  });
  await chmod(home, 0o700);
  await execa('gpg', ['--homedir', home, '--batch', '--import', alice.publicFile]);
  const reference = `${registry.host}/${repo}:${entry.tag}`;
  const ok = await execa('skopeo', ['standalone-verify', manifestFile, reference, alice.fingerprint, signatureFile], { env: { GNUPGHOME: home }, reject: false });
  t.is(ok.exitCode, 0, ok.stderr);
  t.regex(ok.stdout, new RegExp(`Signature verified.*${entry.digest}`));
  // and skopeo rejects it for another tag or another key: it really checks what we signed
  const otherTag = await execa('skopeo', ['standalone-verify', manifestFile, `${registry.host}/${repo}:other.spack`, alice.fingerprint, signatureFile], {
    env: { GNUPGHOME: home },
    reject: false,
  });
  t.not(otherTag.exitCode, 0);
  const otherKey = await execa('skopeo', ['standalone-verify', manifestFile, reference, mallory.fingerprint, signatureFile], { env: { GNUPGHOME: home }, reject: false });
  t.not(otherKey.exitCode, 0);
});

test('[integration] tampering: changed tag target, swapped tags, wrong key, stripped signature, missing blob', async (t) => {
  const repo = 'eic/cache-tamper';
  const { specs, pushed } = await seed(repo, 5);
  const signingKey = await loadSigningKey({ file: alice.secretFile, env: {} });
  t.true((await signOciMirror(client, { repository: repo, signingKey })).every((o) => o.kind === 'signed'));
  const id = (i: number) => `${specs[i]!.name}-${specs[i]!.version}-${specs[i]!.hash}`;

  // 0: tag moved to a new, unsigned manifest (e.g. a rebuilt tarball pushed without signing)
  await pushOciEntry(client, repo, specs[0]!, Buffer.concat([await specTarball(specs[0]!), Buffer.from('trojan')]));
  // 1: tag moved to entry 2's signed manifest: the signature names another tag
  const manifest2 = await client.getManifest(repo, pushed[2]!.digest);
  await client.putManifest(repo, pushed[1]!.tag, manifest2.bytes, MediaTypes.ociManifest);
  // 3: signature stripped
  await client.deleteManifest(repo, (await client.getManifest(repo, signatureTag(pushed[3]!.digest, alice.fingerprint))).digest);
  // 4: a layer blob lost
  await client.deleteBlob(repo, pushed[4]!.layerDigest);

  const result = await verify(repo, [alice]);
  t.is(result.exitCode, 1);
  const entries = byId(result.report!);
  t.is(entries[id(0)]!.kind, 'unsigned');
  t.is(entries[id(1)]!.kind, 'bad-signature');
  t.regex(entries[id(1)]!.detail, new RegExp(`names .*${pushed[2]!.tag}`));
  t.is(entries[id(2)]!.kind, 'verified');
  t.is(entries[id(3)]!.kind, 'unsigned');
  t.is(entries[id(4)]!.kind, 'missing-blob');

  const wrongKey = await verify(repo, [mallory], ['--spec', id(2)]);
  t.is(wrongKey.exitCode, 1);
  t.is(wrongKey.report!.entries[0]!.kind, 'untrusted-signer');
  t.true(wrongKey.report!.entries[0]!.detail.includes(alice.fingerprint));
  t.true(wrongKey.report!.entries[0]!.detail.includes(`trusted: ${mallory.fingerprint}`));

  const only = await verify(repo, [alice], ['--spec', id(2)]);
  t.is(only.exitCode, 0);
  t.is(only.report!.entries.length, 1);
});

test('[integration] --deep catches a registry serving changed blob bytes', async (t) => {
  const repo = 'eic/cache-deep';
  const { pushed } = await seed(repo, 1);
  const signingKey = await loadSigningKey({ file: alice.secretFile, env: {} });
  await signOciMirror(client, { repository: repo, signingKey });
  // A loopback front flips bytes of one layer blob: a registry cannot be made to serve wrong bytes otherwise (mock).
  const front = await startFront(registry.url, { rewrite: (req, body) => (req.method === 'GET' && req.url?.endsWith(pushed[0]!.layerDigest) ? flipLastByte(body) : body) });
  t.teardown(front.close);
  const { host } = front;
  // Through another host name the identity still matches (repository and tag; mirrors get copied
  // between registries), and without --deep only existence and size of blobs are checked.
  const shallow = await verify(repo, [alice], [], host);
  t.is(shallow.report!.entries[0]!.kind, 'verified');
  const deep = await verify(repo, [alice], ['--deep'], host);
  t.is(deep.exitCode, 1);
  t.is(deep.report!.entries[0]!.kind, 'checksum-mismatch');
  t.regex(deep.report!.entries[0]!.detail, /hashes to/);
});

test('[integration] concurrent signers with two keys keep both signatures', async (t) => {
  const repo = 'eic/cache-race';
  await seed(repo, 4);
  const [a, m] = await Promise.all([loadSigningKey({ file: alice.secretFile, env: {} }), loadSigningKey({ file: mallory.secretFile, env: {} })]);
  const runs = await Promise.all([
    signOciMirror(new RegistryClient({ registry: registry.host }), { repository: repo, signingKey: a }),
    signOciMirror(new RegistryClient({ registry: registry.host }), { repository: repo, signingKey: m }),
    signOciMirror(new RegistryClient({ registry: registry.host }), { repository: repo, signingKey: a }),
  ]);
  t.deepEqual(
    runs.flat().filter((o) => o.kind === 'failed'),
    [],
  );
  for (const key of [alice, mallory]) {
    const report = await verifyOciMirror(client, { mirror: repo, repository: repo, trusted: await readTrustedKeys([key.publicFile]) });
    t.deepEqual(
      report.entries.map((e) => e.kind),
      ['verified', 'verified', 'verified', 'verified'],
      key.fingerprint,
    );
  }
});

test('[integration] basic-auth registry with Spack access_pair variables; unreadable mirror exits 2', async (t) => {
  const { stdout } = await execa('htpasswd', ['-nbB', 'robot', 'cache-pass-456']);
  const secured = await startRegistry({ htpasswd: `${stdout.trim()}\n` });
  t.teardown(() => secured.stop());
  const authed = new RegistryClient({ registry: secured.host, credentials: { username: 'robot', password: 'cache-pass-456' } });
  const spec = { name: 'zlib', version: '1.3.1', hash: fakeHash() };
  await pushOciEntry(authed, 'eic/private', spec);
  const env = { SPACK_SIGNING_KEY: alice.secretArmored, OCI_USER: 'robot', OCI_TOKEN: 'cache-pass-456' };
  const url = `oci+http://${secured.host}/eic/private`;
  const signed = await runCli(['buildcache', 'sign', url, '--id-variable', 'OCI_USER', '--secret-variable', 'OCI_TOKEN'], { env });
  t.is(signed.exitCode, 0, String(signed.stderr));
  const verified = await runCli(['buildcache', 'verify', url, '--public-key', alice.publicFile, '--id-variable', 'OCI_USER', '--secret-variable', 'OCI_TOKEN'], { env });
  t.is(verified.exitCode, 0, String(verified.stderr));
  const dockerConfig = join(work, 'docker-config');
  await mkdir(dockerConfig, { recursive: true });
  await writeFile(join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [secured.host]: { auth: Buffer.from('robot:cache-pass-456').toString('base64') } } }));
  const viaDockerConfig = await runCli(['buildcache', 'verify', url, '--public-key', alice.publicFile], { env: { DOCKER_CONFIG: dockerConfig } });
  t.is(viaDockerConfig.exitCode, 0, String(viaDockerConfig.stderr));
  const anonymous = await runCli(['buildcache', 'verify', url, '--public-key', alice.publicFile], { env: { HOME: work, DOCKER_CONFIG: join(work, 'none') } });
  t.is(anonymous.exitCode, 2);
  t.regex(String(anonymous.stderr), /user name and password/);
  const unset = await runCli(['buildcache', 'verify', url, '--public-key', alice.publicFile, '--id-variable', 'NOPE_USER', '--secret-variable', 'OCI_TOKEN'], { env });
  t.is(unset.exitCode, 2);
  t.regex(String(unset.stderr), /id_variable NOPE_USER not set in environment/);
  for (const result of [signed, verified, viaDockerConfig, anonymous, unset]) t.false(`${String(result.stdout)}${String(result.stderr)}`.includes('cache-pass-456'));
});

test('[integration] named specs skip the tag listing; absent specs are not-found, a wrong repository exits 2', async (t) => {
  const repo = 'eic/cache-named';
  const { specs } = await seed(repo, 2);
  await signOciMirror(client, { repository: repo, signingKey: await loadSigningKey({ file: alice.secretFile, env: {} }) });
  const id = `${specs[1]!.name}-${specs[1]!.version}-${specs[1]!.hash}`;
  const absent = `nothere-1.0-${fakeHash()}`;
  const result = await verify(repo, [alice], ['--spec', id, '--spec', absent]);
  t.is(result.exitCode, 1);
  t.deepEqual(
    result.report!.entries.map((e) => [e.id, e.kind]),
    [
      [id, 'verified'],
      [absent, 'not-found'],
    ],
  );
  const wrongRepo = await verify('eic/no-such-repo', [alice], ['--spec', id]);
  t.is(wrongRepo.exitCode, 2);
});

test('[integration] a registry with the OCI referrers API is asked through it', async (t) => {
  // Distribution 2.8 has no referrers API: a loopback front answers /referrers/ from the real registry's
  // signature tag (a mock of the API only; manifests and blobs come from the real registry).
  const repo = 'eic/cache-referrers';
  const { pushed } = await seed(repo, 1);
  await signOciMirror(client, { repository: repo, signingKey: await loadSigningKey({ file: alice.secretFile, env: {} }) });
  const signature = await client.getManifest(repo, signatureTag(pushed[0]!.digest, alice.fingerprint));
  const asked: string[] = [];
  const front = await startFront(registry.url, {
    intercept: (req, res) => {
      if (req.url?.includes('/referrers/')) {
        asked.push(req.url);
        const body = JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaTypes.ociIndex,
          manifests: [{ mediaType: MediaTypes.ociManifest, digest: signature.digest, size: signature.bytes.length, artifactType: SIGNATURE_ARTIFACT_TYPE }],
        });
        res.writeHead(200, { 'content-type': MediaTypes.ociIndex }).end(body);
        return true;
      }
      // hide the signature tags, as a copy that kept only referrers would: the API is the only way to the signature
      if (req.url?.includes('.sig')) {
        res.writeHead(404).end();
        return true;
      }
      return false;
    },
    rewrite: (req, body) => {
      if (!req.url?.includes('/tags/list')) return body;
      const list = JSON.parse(body.toString()) as { name: string; tags: string[] };
      return Buffer.from(JSON.stringify({ ...list, tags: list.tags.filter((tag) => !tag.endsWith('.sig')) }));
    },
  });
  t.teardown(front.close);
  const { host } = front;
  const result = await verify(repo, [alice], [], host);
  t.is(result.exitCode, 0, String(result.stdout));
  t.true(asked.length > 0);
});
