// Test fixtures for buildcache tests, built at run time from SPACK-FACTS.md (never committed):
// GnuPG keys in a temporary --homedir, layout v2/v3 trees clearsigned by real gpg, OCI entries
// pushed to a real loopback registry the way Spack lays them out.
import { execa } from 'execa';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import tar from 'tar-stream';
import { loadSigningKey, type UnlockedSigningKey } from '../../src/buildcache/sign/signing-key.js';
import { readTrustedKeys, type TrustedKey } from '../../src/buildcache/trust.js';
import { MediaTypes, RegistryClient } from '../../src/registry/client.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { requireIntegration } from '../helpers/unit-only.js';

/** A GnuPG key made for one test run, in its own homedir. */
/**
 * The real Spack-written signed mirror committed in the repository's fixtures/ (public data only; see
 * fixtures/README.md), with its public key.
 */
export const SPACK_FIXTURE = fileURLToPath(new URL('../../fixtures/spack-v1.1-signed-mirror', import.meta.url));
export const SPACK_FIXTURE_KEY = `${SPACK_FIXTURE}.pub.asc`;

export interface GpgKey {
  home: string;
  fingerprint: string;
  /** Armored public key file. */
  publicFile: string;
  /** Armored private key file (0600 in a temp dir removed at teardown). */
  secretFile: string;
  publicArmored: string;
  secretArmored: string;
}

/** A temp directory removed by the returned cleanup. */
export async function tempDir(prefix = 'eic-build-bc-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Generate an unprotected RSA key with real gpg in a fresh homedir under `dir`. */
export async function makeGpgKey(dir: string, name: string): Promise<GpgKey> {
  requireIntegration('gpg (a signing key)');
  const home = join(dir, `gnupg-${name.replace(/\W/g, '')}`);
  await mkdir(home, { mode: 0o700 });
  await execa('gpg', [
    '--homedir',
    home,
    '--batch',
    '--pinentry-mode',
    'loopback',
    '--passphrase',
    '',
    '--quick-gen-key',
    `${name} <${name.replace(/\W/g, '')}@example.invalid>`,
    'rsa2048',
    'sign',
    'never',
  ]);
  const { stdout } = await execa('gpg', ['--homedir', home, '--batch', '--with-colons', '--list-secret-keys']);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)![1]!;
  const publicArmored = (await execa('gpg', ['--homedir', home, '--batch', '--armor', '--export', fingerprint])).stdout;
  const secretArmored = (await execa('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', '--armor', '--export-secret-keys', fingerprint]))
    .stdout;
  const publicFile = join(dir, `${fingerprint}.pub.asc`);
  const secretFile = join(dir, `${fingerprint}.sec.asc`);
  await writeFile(publicFile, `${publicArmored}\n`);
  await writeFile(secretFile, `${secretArmored}\n`, { mode: 0o600 });
  return { home, fingerprint, publicFile, secretFile, publicArmored, secretArmored };
}

/** Stop the agent a homedir started (so teardown leaves no process). */
export async function killAgent(key: GpgKey): Promise<void> {
  await execa('gpgconf', ['--homedir', key.home, '--kill', 'gpg-agent'], { reject: false });
}

/** A temp dir and two real gpg keys (Alice, trusted in most tests; Mallory, not), for one test file; `stop` removes them. */
export interface KeyWorld {
  work: string;
  alice: GpgKey;
  mallory: GpgKey;
  stop: () => Promise<void>;
}

/** Make a KeyWorld (the keys are made in parallel). */
export async function startKeyWorld(): Promise<KeyWorld> {
  const { dir: work, cleanup } = await tempDir();
  const [alice, mallory] = await Promise.all([makeGpgKey(work, 'Alice Signer'), makeGpgKey(work, 'Mallory Signer')]);
  return {
    work,
    alice,
    mallory,
    stop: async () => {
      await Promise.all([killAgent(alice), killAgent(mallory)]);
      await cleanup();
    },
  };
}

/** A KeyWorld plus a real loopback registry, its client, and Alice loaded for signing and trusting. */
export interface SigningWorld extends KeyWorld {
  registry: TestRegistry;
  client: RegistryClient;
  signingKey: UnlockedSigningKey;
  trusted: TrustedKey[];
}

/** Make a SigningWorld. */
export async function startSigningWorld(): Promise<SigningWorld> {
  const [keys, registry] = await Promise.all([startKeyWorld(), startRegistry()]);
  const signingKey = await loadSigningKey({ file: keys.alice.secretFile, env: {} });
  const trusted = await readTrustedKeys([keys.alice.publicFile]);
  return {
    ...keys,
    registry,
    client: new RegistryClient({ registry: registry.host, insecure: true }),
    signingKey,
    trusted,
    stop: async () => {
      await registry.stop();
      await keys.stop();
    },
  };
}

/** Every file below `dir`, as sorted relative paths. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

/** A fresh directory `name` below `parent`, so "nothing left behind" can be checked by listing it. */
export async function freshDir(parent: string, name: string): Promise<string> {
  const dir = join(parent, name);
  await mkdir(dir);
  return dir;
}

/** Clearsign a text with real gpg, as Spack does. */
export async function gpgClearsign(key: GpgKey, text: string): Promise<string> {
  const { stdout } = await execa(
    'gpg',
    ['--homedir', key.home, '--batch', '--yes', '--pinentry-mode', 'loopback', '--passphrase', '', '--local-user', key.fingerprint, '--clearsign'],
    {
      input: text,
      stripFinalNewline: false,
    },
  );
  return stdout;
}

/** A spec in a fixture mirror. */
export interface FixtureSpec {
  name: string;
  version: string;
  hash: string;
  /** Dependencies listed after the root in the spec's nodes[] (as Spack writes a spec with dependencies). */
  deps?: FixtureSpec[];
}

/** A 32-character Spack-like hash. */
export function fakeHash(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  return Array.from(randomBytes(32), (b) => alphabet[b % 32]).join('');
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The nodes[] of a spec: the root first, then its dependencies. */
function specNodes(spec: FixtureSpec) {
  return [specNode(spec), ...(spec.deps ?? []).map(specNode)];
}

function specNode(spec: FixtureSpec) {
  return {
    name: spec.name,
    version: spec.version,
    arch: { platform: 'linux', platform_os: 'debian12', target: 'x86_64' },
    compiler: { name: 'gcc', version: '12.2.0' },
    namespace: 'builtin',
    hash: spec.hash,
  };
}

/** A small tar+gzip "install tree" tarball for a spec. */
export async function specTarball(spec: FixtureSpec): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: `${spec.name}-${spec.version}-${spec.hash}/bin/${spec.name}` }, `#!/bin/sh\necho ${spec.name}\n`);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

async function put(root: string, path: string, bytes: Buffer | string): Promise<void> {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), bytes);
}

/** Spack's compact JSON (indent=0). */
function spackJson(value: unknown): string {
  return JSON.stringify(value, null, 0);
}

function v3Manifest(blobs: { bytes: Buffer; mediaType: string; compression: string }[]): string {
  const data = blobs.map(
    (b) =>
      `{\n"contentLength":${b.bytes.length},\n"mediaType":"${b.mediaType}",\n"compression":"${b.compression}",\n"checksumAlgorithm":"sha256",\n"checksum":"${sha256(b.bytes)}"\n}`,
  );
  return `{\n"version":3,\n"data":[\n${data.join(',\n')}\n]\n}`;
}

/** Write a layout-v3 mirror (Spack ≥ 1.0) with the given specs, clearsigned by `key` (unsigned when key is undefined). */
export async function writeV3Mirror(root: string, specs: FixtureSpec[], key: GpgKey | undefined): Promise<void> {
  await put(root, 'v3/layout.json', '{"signing": "gpg"}');
  for (const spec of specs) {
    const tarball = await specTarball(spec);
    const specJson = gzipSync(Buffer.from(spackJson({ spec: { _meta: { version: 5 }, nodes: specNodes(spec) }, buildcache_layout_version: 2 })));
    await put(root, `blobs/sha256/${sha256(tarball).slice(0, 2)}/${sha256(tarball)}`, tarball);
    await put(root, `blobs/sha256/${sha256(specJson).slice(0, 2)}/${sha256(specJson)}`, specJson);
    const manifest = v3Manifest([
      { bytes: tarball, mediaType: 'application/vnd.spack.install.v2.tar+gzip', compression: 'gzip' },
      { bytes: specJson, mediaType: 'application/vnd.spack.spec.v5+json', compression: 'gzip' },
    ]);
    await put(root, `v3/manifests/spec/${spec.name}/${spec.name}-${spec.version}-${spec.hash}.spec.manifest.json`, key ? await gpgClearsign(key, manifest) : manifest);
  }
  if (key) {
    const pub = Buffer.from(`${key.publicArmored}\n`);
    await put(root, `blobs/sha256/${sha256(pub).slice(0, 2)}/${sha256(pub)}`, pub);
    await put(root, `v3/manifests/key/${key.fingerprint}.key.manifest.json`, v3Manifest([{ bytes: pub, mediaType: 'application/pgp-keys', compression: 'none' }]));
  }
}

/** Layout v2 prefix of a spec: `<arch>-<compiler>-<name>-<version>-<hash>`. */
export function v2Prefix(spec: FixtureSpec): string {
  return `linux-debian12-x86_64-gcc-12.2.0-${spec.name}-${spec.version}-${spec.hash}`;
}

/** Layout v2 tarball path of a fixture spec. */
export function v2TarballRelPath(spec: FixtureSpec): string {
  return `build_cache/linux-debian12-x86_64/gcc-12.2.0/${spec.name}-${spec.version}/${v2Prefix(spec)}.spack`;
}

/** Write a layout-v2 mirror (Spack ≤ 0.23): `.spec.json.sig` with binary_cache_checksum + `.spack` tarballs + `_pgp`. */
export async function writeV2Mirror(root: string, specs: FixtureSpec[], key: GpgKey): Promise<void> {
  for (const spec of specs) {
    const tarball = await specTarball(spec);
    await put(root, v2TarballRelPath(spec), tarball);
    const specJson = JSON.stringify(
      { spec: { _meta: { version: 4 }, nodes: specNodes(spec) }, buildcache_layout_version: 1, binary_cache_checksum: { hash_algorithm: 'sha256', hash: sha256(tarball) } },
      null,
      2,
    );
    await put(root, `build_cache/${v2Prefix(spec)}.spec.json.sig`, await gpgClearsign(key, specJson));
  }
  await put(root, `build_cache/_pgp/${key.fingerprint}.pub`, `${key.publicArmored}\n`);
}

/** An OCI image manifest as Spack pushes one: an image config blob and tar+gzip layers, given by digest and size. */
export function ociManifest(config: { digest: string; size: number }, layers: ReadonlyArray<{ digest: string; size: number }>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
    }),
  );
}

/** Push one Spack-style OCI buildcache entry: config blob = spec JSON, one tar+gzip layer, tag `<name>-<version>-<hash>.spack`. */
export async function pushOciEntry(client: RegistryClient, repository: string, spec: FixtureSpec, tarball?: Buffer): Promise<{ digest: string; tag: string; layerDigest: string }> {
  const config = Buffer.from(spackJson({ spec: { _meta: { version: 5 }, nodes: specNodes(spec) }, buildcache_layout_version: 2 }));
  const layer = tarball ?? (await specTarball(spec));
  const configDigest = await client.putBlob(repository, config);
  const layerDigest = await client.putBlob(repository, layer);
  const manifest = ociManifest({ digest: configDigest, size: config.length }, [{ digest: layerDigest, size: layer.length }]);
  const tag = `${spec.name}-${spec.version}-${spec.hash}.spack`;
  return { digest: await client.putManifest(repository, tag, manifest, MediaTypes.ociManifest), tag, layerDigest };
}

/** Push the `index.spack` tag (a database JSON as config), as Spack does for OCI mirrors. */
export async function pushOciIndex(client: RegistryClient, repository: string, specs: FixtureSpec[]): Promise<void> {
  const installs = Object.fromEntries(specs.map((s) => [s.hash, { spec: specNode(s), ref_count: 0, in_buildcache: true }]));
  const config = Buffer.from(JSON.stringify({ database: { version: '8', installs } }));
  const configDigest = await client.putBlob(repository, config);
  const manifest = ociManifest({ digest: configDigest, size: config.length }, []);
  await client.putManifest(repository, 'index.spack', manifest, MediaTypes.ociManifest);
}

/** The spec JSON Spack stores for a fixture spec (`{"spec":{"_meta":…,"nodes":[…]},"buildcache_layout_version":2}`). */
export function specDocument(spec: FixtureSpec): { spec: { _meta: { version: number }; nodes: ReturnType<typeof specNode>[] }; buildcache_layout_version: number } {
  return { spec: { _meta: { version: 5 }, nodes: specNodes(spec) }, buildcache_layout_version: 2 };
}

/**
 * Push a Spack-style OCI entry whose layers are its dependencies' tarballs first and its own tarball LAST
 * (Spack reads `manifest["layers"][-1]`), with OCI image config fields beside the spec in the config blob.
 */
export async function pushOciEntryWithDeps(
  client: RegistryClient,
  repository: string,
  spec: FixtureSpec,
  deps: ReadonlyArray<{ digest: string; size: number }>,
  tarball?: Buffer,
): Promise<{ digest: string; tag: string; layerDigest: string; tarball: Buffer }> {
  const config = Buffer.from(spackJson({ ...specDocument(spec), architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const layer = tarball ?? (await specTarball(spec));
  const configDigest = await client.putBlob(repository, config);
  const layerDigest = await client.putBlob(repository, layer);
  const manifest = ociManifest({ digest: configDigest, size: config.length }, [...deps, { digest: layerDigest, size: layer.length }]);
  const tag = `${spec.name}-${spec.version}-${spec.hash}.spack`;
  return { digest: await client.putManifest(repository, tag, manifest, MediaTypes.ociManifest), tag, layerDigest, tarball: layer };
}

// Spack environment lockfiles as Spack 1.x writes them (lockfile v6, specfile v5: `concrete_specs` keyed by
// DAG hash, edges with parameters.deptypes), for `verify --spack-lock`.

/** A node of a test lockfile: its spec, its dependency edges, and whether it is an external. */
export interface LockNode {
  spec: FixtureSpec;
  deps?: { spec: FixtureSpec; types: string[] }[];
  external?: boolean;
}

/** A lockfile's JSON text with these roots and nodes. */
export function formatSpackLock(lock: { roots: FixtureSpec[]; nodes: LockNode[]; version?: number }): string {
  const concrete = Object.fromEntries(
    lock.nodes.map(({ spec, deps, external }) => [
      spec.hash,
      {
        name: spec.name,
        version: spec.version,
        arch: { platform: 'linux', platform_os: 'debian12', target: 'x86_64' },
        namespace: 'builtin',
        parameters: { build_system: 'generic', cflags: [], cppflags: [], cxxflags: [], fflags: [], ldflags: [], ldlibs: [] },
        ...(deps?.length ? { dependencies: deps.map((d) => ({ name: d.spec.name, hash: d.spec.hash, parameters: { deptypes: d.types, virtuals: [] } })) } : {}),
        ...(external ? { external: { path: '/usr', module: null } } : {}),
        package_hash: 'wqhipfa4ispflxkgeqhliasltpb6y7draebggqx5tnw6g6ryomrq====',
        hash: spec.hash,
      },
    ]),
  );
  return JSON.stringify({
    _meta: { 'file-type': 'spack-lockfile', 'lockfile-version': lock.version ?? 6, 'specfile-version': 5 },
    spack: { version: '1.1.0', type: 'release' },
    roots: lock.roots.map((r) => ({ hash: r.hash, spec: r.name })),
    concrete_specs: concrete,
  });
}

/** Write a lockfile (see formatSpackLock) to `path` and return the path. */
export async function spackLockFile(path: string, lock: { roots: FixtureSpec[]; nodes: LockNode[]; version?: number }): Promise<string> {
  await writeFile(path, formatSpackLock(lock));
  return path;
}

/** Push an OCI entry under `tag` with this exact config blob and one layer (for configs that lie about the entry). */
export async function pushOciRawEntry(client: RegistryClient, repository: string, tag: string, config: Buffer, layer: Buffer): Promise<{ digest: string; layerDigest: string }> {
  const configDigest = await client.putBlob(repository, config);
  const layerDigest = await client.putBlob(repository, layer);
  const manifest = ociManifest({ digest: configDigest, size: config.length }, [{ digest: layerDigest, size: layer.length }]);
  return { digest: await client.putManifest(repository, tag, manifest, MediaTypes.ociManifest), layerDigest };
}
