import * as openpgp from 'openpgp';
import { EicBuildError } from '../../errors.js';
import { sha256Digest } from '../../registry/digest.js';
import { mapLimit } from '../../registry/pool.js';
import { idFromManifestPath, parseSpecIdentity, parseV3Manifest, v2TarballPath, v3BlobPath, v3SpecManifestPath } from '../file-layout.js';
import type { MirrorFiles } from '../mirror-files.js';
import { isClearsigned, verifyClearsigned, type SignatureCheck } from '../pgp-verify.js';
import { absentEntry, describeTrusted, lockSelectionInfo, selectEntries, untrustedDetail, type EntryResult, type MirrorKey, type VerifyReport } from '../report.js';
import { selectLockEntries, type LockEntry, type SpackLockSelection } from '../spack-lock.js';
import { describeKey, parseTrustedKeys, type TrustedKey } from '../trust.js';
import { countingEntries, type EntryProgress } from '../entry-progress.js';

/** Which file layout a mirror uses. */
export async function detectFileLayout(files: MirrorFiles): Promise<'v2' | 'v3'> {
  if (await files.read('v3/layout.json')) return 'v3';
  if ((await files.read('build_cache/index.json')) || ((await files.list('build_cache')) ?? []).length > 0) return 'v2';
  throw new EicBuildError('input-unreadable', `${files.describe('')} is not a Spack buildcache (no v3/layout.json, no build_cache/)`, {
    hint: 'pass the mirror root: the directory that holds v3/ (Spack ≥ 1.0) or build_cache/ (Spack ≤ 0.23)',
  });
}

/** A spec manifest (v3) or signed spec file (v2) found in the mirror. */
export interface FileEntry {
  id: string;
  path: string;
}

async function readIndexInstalls(files: MirrorFiles, layout: 'v2' | 'v3'): Promise<Record<string, { spec?: unknown }>> {
  let dbBytes: Buffer | undefined;
  if (layout === 'v3') {
    const manifest = await files.read('v3/manifests/index/index.manifest.json');
    if (!manifest) return {};
    const [blob] = parseV3Manifest(manifest.toString('utf8'), 'index manifest');
    dbBytes = blob ? await files.read(v3BlobPath(blob)) : undefined;
  } else {
    dbBytes = await files.read('build_cache/index.json');
  }
  if (!dbBytes) return {};
  try {
    return (JSON.parse(dbBytes.toString('utf8')) as { database?: { installs?: Record<string, { spec?: unknown }> } }).database?.installs ?? {};
  } catch {
    throw new EicBuildError('input-corrupt', `the index of ${files.describe('')} is not JSON`, { hint: 'rebuild it: spack buildcache update-index MIRROR' });
  }
}

async function v2IdOf(files: MirrorFiles, path: string): Promise<string | undefined> {
  const bytes = await files.read(path);
  if (!bytes) return undefined;
  let text = bytes.toString('utf8');
  try {
    if (isClearsigned(text)) text = (await openpgp.readCleartextMessage({ cleartextMessage: text })).getText();
    const spec = parseSpecIdentity(JSON.parse(text));
    return spec ? `${spec.name}-${spec.version}-${spec.hash}` : undefined;
  } catch {
    return undefined;
  }
}

/** Every signed spec document of the mirror: by listing a directory, else through its index. */
export async function listFileEntries(files: MirrorFiles, layout: 'v2' | 'v3'): Promise<FileEntry[]> {
  return (await findFileEntries(files, layout)).entries;
}

/** listFileEntries, saying whether the list is complete (a directory listing) or only what the index names (HTTP). */
async function findFileEntries(files: MirrorFiles, layout: 'v2' | 'v3'): Promise<{ entries: FileEntry[]; complete: boolean }> {
  const listed = await files.list(layout === 'v3' ? 'v3/manifests/spec' : 'build_cache');
  if (listed) {
    const pattern = layout === 'v3' ? /\.spec\.manifest\.json$/ : /^build_cache\/[^/]+\.spec\.json(\.sig)?$/;
    const paths = listed.filter((p) => pattern.test(p));
    // A v2 mirror may hold both foo.spec.json and foo.spec.json.sig: the signed one counts.
    const unique = new Map<string, string>();
    for (const path of paths) {
      const id = idFromManifestPath(path);
      if (!unique.has(id) || path.endsWith('.sig')) unique.set(id, path);
    }
    const entries = [...unique].map(([id, path]) => ({ id, path }));
    // v2 file names start with arch and compiler: the id (`name-version-hash`) comes from the spec inside.
    if (layout === 'v2') await mapLimit(entries, 8, async (entry) => (entry.id = (await v2IdOf(files, entry.path)) ?? entry.id));
    return { entries, complete: true };
  }
  const installs = await readIndexInstalls(files, layout);
  const entries: FileEntry[] = [];
  for (const record of Object.values(installs)) {
    const spec = parseSpecIdentity(record.spec);
    if (!spec) continue;
    const id = `${spec.name}-${spec.version}-${spec.hash}`;
    if (layout === 'v3') entries.push({ id, path: v3SpecManifestPath(spec.name, id) });
    else {
      const tarball = v2TarballPath(spec.node);
      if (tarball) entries.push({ id, path: `build_cache/${tarball.slice(tarball.lastIndexOf('/') + 1).replace(/\.spack$/, '.spec.json.sig')}` });
    }
  }
  return { entries: entries.sort((a, b) => a.id.localeCompare(b.id)), complete: false };
}

/**
 * Where a lock entry's signed document would be (v3: `v3/manifests/spec/<name>/<id>.spec.manifest.json`;
 * v2: `build_cache/<arch>-<compiler>-<cver>-<name>-<version>-<hash>.spec.json.sig`, when the node has arch and compiler).
 */
function lockEntryPath(entry: LockEntry, layout: 'v2' | 'v3'): string | undefined {
  if (layout === 'v3') return v3SpecManifestPath(entry.name, entry.id);
  const tarball = v2TarballPath(entry.node as Parameters<typeof v2TarballPath>[0]);
  return tarball ? `build_cache/${tarball.slice(tarball.lastIndexOf('/') + 1).replace(/\.spack$/, '.spec.json.sig')}` : undefined;
}

/** The v3 spec manifest of `name-version-hash`, trying each '-' as the end of the name (names and versions may hold '-'). */
export async function findV3Manifest(files: MirrorFiles, id: string): Promise<FileEntry | undefined> {
  const match = /^(.+)-([a-z2-7]{32})$/.exec(id);
  if (!match) return undefined;
  const nameVersion = match[1]!;
  for (let at = nameVersion.indexOf('-'); at > 0; at = nameVersion.indexOf('-', at + 1)) {
    const path = v3SpecManifestPath(nameVersion.slice(0, at), id);
    if (await files.read(path)) return { id, path };
  }
  return undefined;
}

/** Public keys the mirror publishes (v3 key manifests, v2 `_pgp/*.pub`): information only. */
export async function readMirrorKeys(files: MirrorFiles, layout: 'v2' | 'v3'): Promise<TrustedKey[]> {
  const keys: TrustedKey[] = [];
  const add = async (bytes: Buffer | undefined, source: string) => {
    if (!bytes) return;
    try {
      keys.push(...(await parseTrustedKeys(bytes, source)).map((k) => ({ ...describeKey(k.key, 'mirror') })));
    } catch {
      // A broken or private key in the mirror is not our verdict to give: it is never trusted anyway.
    }
  };
  if (layout === 'v3') {
    let paths = (await files.list('v3/manifests/key'))?.filter((p) => p.endsWith('.key.manifest.json') && !p.endsWith('/keys.manifest.json'));
    if (!paths) {
      const index = await files.read('v3/manifests/key/keys.manifest.json');
      const [blob] = index ? parseV3Manifest(index.toString('utf8'), 'key index manifest') : [];
      const keyIndex = blob ? await files.read(v3BlobPath(blob)) : undefined;
      const fprs = keyIndex ? Object.keys((JSON.parse(keyIndex.toString('utf8')) as { keys?: Record<string, unknown> }).keys ?? {}) : [];
      paths = fprs.map((fpr) => `v3/manifests/key/${fpr}.key.manifest.json`);
    }
    for (const path of paths) {
      const manifest = await files.read(path);
      if (!manifest) continue;
      for (const blob of parseV3Manifest(manifest.toString('utf8'), path)) await add(await files.read(v3BlobPath(blob)), path);
    }
  } else {
    let paths = (await files.list('build_cache/_pgp'))?.filter((p) => p.endsWith('.pub'));
    if (!paths) {
      const index = await files.read('build_cache/_pgp/index.json');
      paths = index ? Object.keys((JSON.parse(index.toString('utf8')) as { keys?: Record<string, unknown> }).keys ?? {}).map((f) => `build_cache/_pgp/${f}.pub`) : [];
    }
    for (const path of paths) await add(await files.read(path), path);
  }
  return keys;
}

/**
 * Read an entry's clearsigned document and check its signature: a finished result when it is missing or not
 * signed by a pinned key (`unsignedWhy` replaces the checker's reason), else the signed check to go on with.
 */
async function readSignedEntry(
  files: MirrorFiles,
  entry: FileEntry,
  what: 'spec manifest' | 'spec file',
  unsignedWhy: string | undefined,
  trusted: readonly TrustedKey[],
  mirrorKeys: readonly TrustedKey[],
  mirrorKeyInfo: readonly MirrorKey[],
): Promise<
  { kind: 'failed'; result: EntryResult } | { kind: 'signed'; base: Pick<EntryResult, 'id' | 'location' | 'manifestDigest'>; check: Extract<SignatureCheck, { kind: 'verified' }> }
> {
  const location = files.describe(entry.path);
  const bytes = await files.read(entry.path);
  if (!bytes) return { kind: 'failed', result: { kind: 'missing-blob', id: entry.id, location, detail: `${what} ${entry.path} is missing` } };
  const base = { id: entry.id, location, manifestDigest: sha256Digest(bytes) };
  const check = await verifyClearsigned(bytes.toString('utf8'), trusted, mirrorKeys);
  if (check.kind === 'verified') return { kind: 'signed', base, check };
  if (check.kind === 'unsigned') return { kind: 'failed', result: { ...base, kind: 'unsigned', detail: `${what} is not signed (${unsignedWhy ?? check.detail})` } };
  if (check.kind === 'untrusted-signer')
    return { kind: 'failed', result: { ...base, kind: 'untrusted-signer', signers: check.signers, detail: untrustedDetail(check.signers, trusted, mirrorKeyInfo) } };
  return {
    kind: 'failed',
    result: { ...base, kind: 'bad-signature', ...(check.signer ? { signer: check.signer } : {}), detail: `signature does not match the ${what}: ${check.detail}` },
  };
}

/** Verify one layout-v3 spec manifest: clearsigned by a pinned key, and every blob it lists intact. */
export async function verifyV3Entry(
  files: MirrorFiles,
  entry: FileEntry,
  trusted: readonly TrustedKey[],
  mirrorKeys: readonly TrustedKey[],
  mirrorKeyInfo: readonly MirrorKey[],
): Promise<EntryResult> {
  const signed = await readSignedEntry(files, entry, 'spec manifest', undefined, trusted, mirrorKeys, mirrorKeyInfo);
  if (signed.kind === 'failed') return signed.result;
  const { base, check } = signed;
  // Checksums come from the signed text only: the file's bytes outside the signature prove nothing.
  let blobs;
  try {
    blobs = parseV3Manifest(Buffer.from(check.text).toString('utf8'), entry.path);
  } catch (error) {
    return { ...base, kind: 'checksum-mismatch', signer: check.signer, detail: error instanceof Error ? error.message : String(error) };
  }
  const result: EntryResult = {
    ...base,
    kind: 'verified',
    signer: check.signer,
    detail: `signed by ${check.signer.fingerprint}; ${blobs.length} blobs match their checksums`,
    blobs: blobs.map((b) => ({ digest: `${b.checksumAlgorithm}:${b.checksum}`, size: b.contentLength, mediaType: b.mediaType })),
  };
  for (const blob of blobs) {
    const path = v3BlobPath(blob);
    if (blob.checksumAlgorithm !== 'sha256') return { ...result, kind: 'checksum-mismatch', detail: `${path}: checksum algorithm ${blob.checksumAlgorithm} is not supported` };
    const actual = await files.hash(path, blob.contentLength >= 0 ? blob.contentLength : undefined);
    if (!actual) return { ...result, kind: 'missing-blob', detail: `${blob.mediaType} blob ${path} is missing` };
    if (actual.oversized) return { ...result, kind: 'checksum-mismatch', detail: `${path} is larger than the ${blob.contentLength} bytes the manifest says (download stopped)` };
    if (actual.sha256 !== blob.checksum) return { ...result, kind: 'checksum-mismatch', detail: `${blob.mediaType} blob ${path} hashes to sha256:${actual.sha256}` };
    if (blob.contentLength >= 0 && actual.size !== blob.contentLength)
      return { ...result, kind: 'checksum-mismatch', detail: `${path} is ${actual.size} bytes, the manifest says ${blob.contentLength}` };
  }
  return result;
}

/** Verify one layout-v2 `.spec.json.sig` and the `.spack` tarball its `binary_cache_checksum` names. */
export async function verifyV2Entry(
  files: MirrorFiles,
  entry: FileEntry,
  trusted: readonly TrustedKey[],
  mirrorKeys: readonly TrustedKey[],
  mirrorKeyInfo: readonly MirrorKey[],
): Promise<EntryResult> {
  const signed = await readSignedEntry(files, entry, 'spec file', entry.path.endsWith('.sig') ? undefined : 'no .spec.json.sig', trusted, mirrorKeys, mirrorKeyInfo);
  if (signed.kind === 'failed') return signed.result;
  const { base, check } = signed;
  let spec: { binary_cache_checksum?: { hash_algorithm?: string; hash?: string } };
  try {
    spec = JSON.parse(Buffer.from(check.text).toString('utf8')) as typeof spec;
  } catch {
    return { ...base, kind: 'checksum-mismatch', signer: check.signer, detail: 'the signed spec is not JSON' };
  }
  const identity = parseSpecIdentity(spec);
  const tarball = identity ? v2TarballPath(identity.node) : undefined;
  const sum = spec.binary_cache_checksum;
  if (!tarball || !sum?.hash || (sum.hash_algorithm ?? 'sha256') !== 'sha256') {
    return { ...base, kind: 'checksum-mismatch', signer: check.signer, detail: 'the signed spec has no sha256 binary_cache_checksum or no arch/compiler to locate the tarball' };
  }
  const result: EntryResult = {
    ...base,
    kind: 'verified',
    signer: check.signer,
    detail: `signed by ${check.signer.fingerprint}; tarball matches binary_cache_checksum`,
    blobs: [{ digest: `sha256:${sum.hash}` }],
  };
  const actual = await files.hash(tarball);
  if (!actual) return { ...result, kind: 'missing-blob', detail: `tarball ${tarball} is missing` };
  if (actual.sha256 !== sum.hash)
    return { ...result, kind: 'checksum-mismatch', detail: `tarball ${tarball} hashes to sha256:${actual.sha256}, the signed spec says sha256:${sum.hash}` };
  return { ...result, blobs: [{ digest: `sha256:${sum.hash}`, size: actual.size }] };
}

/**
 * The files of a lockfile's entries: those the listing or index names and, where the list is not complete
 * (HTTP: the index may be older than the last push), those found at their exact path (one request each).
 */
async function selectFileLockEntries(
  files: MirrorFiles,
  layout: 'v2' | 'v3',
  found: { entries: FileEntry[]; complete: boolean },
  lock: readonly LockEntry[],
): Promise<{ picked: FileEntry[]; absent: LockEntry[] }> {
  const { present, absent: unlisted } = selectLockEntries(found.entries, lock);
  const picked = present.map(({ entry }) => entry);
  if (found.complete) return { picked, absent: unlisted };
  const absent: LockEntry[] = [];
  const looked = await mapLimit(unlisted, 8, async (entry) => {
    const path = lockEntryPath(entry, layout);
    return path && (await files.read(path)) ? { id: entry.id, path } : undefined;
  });
  looked.forEach((hit, i) => (hit ? picked.push(hit) : absent.push(unlisted[i]!)));
  return { picked, absent };
}

/** Options of verifyFileMirror. */
export interface VerifyFileOptions {
  mirror: string;
  trusted: readonly TrustedKey[];
  specs?: readonly string[];
  /** Select the entries of a Spack lockfile instead of `specs` (those the mirror lacks are reported 'absent'). */
  lock?: SpackLockSelection;
  concurrency?: number;
  /** Hears of each entry verified. */
  onProgress?: EntryProgress;
}

/** Verify a file-layout mirror (directory or HTTP). Throws 'input-unreadable' when it is not a buildcache. */
export async function verifyFileMirror(files: MirrorFiles, options: VerifyFileOptions): Promise<VerifyReport> {
  const layout = await detectFileLayout(files);
  const mirrorKeys = await readMirrorKeys(files, layout);
  const mirrorKeyInfo: MirrorKey[] = mirrorKeys.map((k) => ({
    fingerprint: k.fingerprint,
    userIds: k.userIds,
    trusted: options.trusted.some((t) => t.fingerprint === k.fingerprint),
  }));
  const found = await findFileEntries(files, layout);
  if (options.lock) {
    const { picked, absent } = await selectFileLockEntries(files, layout, found, options.lock.entries);
    const verifyLockEntry = layout === 'v3' ? verifyV3Entry : verifyV2Entry;
    const entries = await mapLimit(
      picked,
      options.concurrency ?? 8,
      countingEntries(picked.length, options.onProgress, (entry: FileEntry) => verifyLockEntry(files, entry, options.trusted, mirrorKeys, mirrorKeyInfo)),
    );
    for (const entry of absent) entries.push(absentEntry(entry, files.describe(lockEntryPath(entry, layout) ?? '')));
    return { mirror: options.mirror, layout, trusted: describeTrusted(options.trusted), mirrorKeys: mirrorKeyInfo, entries, lock: lockSelectionInfo(options.lock) };
  }
  const { picked, missing: unlisted } = selectEntries(found.entries, options.specs);
  // Over HTTP nothing can be listed and autopush does not update the index: look named v3 specs up directly.
  const missing: string[] = [];
  for (const selector of unlisted) {
    const found = layout === 'v3' ? await findV3Manifest(files, selector) : undefined;
    if (found) picked.push(found);
    else missing.push(selector);
  }
  const verifyOne = layout === 'v3' ? verifyV3Entry : verifyV2Entry;
  const entries = await mapLimit(
    picked,
    options.concurrency ?? 8,
    countingEntries(picked.length, options.onProgress, (entry: FileEntry) => verifyOne(files, entry, options.trusted, mirrorKeys, mirrorKeyInfo)),
  );
  for (const selector of missing) entries.push({ kind: 'not-found', id: selector, location: files.describe(''), detail: `no entry ${selector} in the mirror` });
  return { mirror: options.mirror, layout, trusted: describeTrusted(options.trusted), mirrorKeys: mirrorKeyInfo, entries };
}
