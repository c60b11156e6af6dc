import { EicBuildError, isEicBuildError } from '../../errors.js';
import { MediaTypes, type Descriptor, type RegistryClient } from '../../registry/client.js';
import { mapLimit } from '../../registry/pool.js';
import { sha256Digest } from '../../registry/digest.js';
import { idFromTag, isEntryTag, manifestBlobs, spackTag } from '../oci-entries.js';
import { verifySignedMessage, type Signer } from '../pgp-verify.js';
import { absentEntry, describeTrusted, lockSelectionInfo, matchesSpec, untrustedDetail, type EntryResult, type VerifyReport } from '../report.js';
import {
  SIGNATURE_ARTIFACT_TYPE,
  parseSignatureManifest,
  parseSimpleSigningPayload,
  isSignatureTagOf,
  signatureTag,
  splitDockerReference,
  type SignatureLayer,
} from '../simple-signing.js';
import { selectLockEntries, type LockEntry, type SpackLockSelection } from '../spack-lock.js';
import type { TrustedKey } from '../trust.js';
import { countingEntries, type EntryProgress } from '../entry-progress.js';

/** Options of verifyOciMirror. */
export interface VerifyOciOptions {
  mirror: string;
  repository: string;
  trusted: readonly TrustedKey[];
  specs?: readonly string[];
  /** Select the entries of a Spack lockfile instead of `specs` (those the mirror lacks are reported 'absent'). */
  lock?: SpackLockSelection;
  /** Entries checked at once (each makes several requests; the client bounds the total). */
  concurrency?: number;
  /** Download every blob and check its digest, instead of only checking that it exists. */
  deep?: boolean;
  /** Hears of each entry verified. */
  onProgress?: EntryProgress;
}

/** An entry tag of an OCI buildcache. */
export interface OciEntry {
  id: string;
  tag: string;
}

/** The repository's tags, listed once on first use (a verify of a few named specs may never need them). */
export interface TagList {
  (): Promise<readonly string[]>;
  /** True once the list is known (then signature tags are picked from it, with no guessing requests). */
  readonly known: boolean;
}

/** A TagList that lists the repository at most once. */
export function lazyTagList(client: RegistryClient, repository: string, known?: readonly string[]): TagList {
  let tags: Promise<readonly string[]> | undefined = known ? Promise.resolve(known) : undefined;
  const list = () => (tags ??= client.listTags(repository));
  return Object.defineProperty(list, 'known', { get: () => tags !== undefined }) as TagList;
}

/**
 * The signature layers stored for a digest: every signature tag of the digest in the repository's
 * tag list (so a signature by an unpinned key can be named); before the list is known, first the
 * pinned keys' tags (one request each); else the referrers API (a copy that kept only referrers).
 */
export async function findSignatureLayers(
  client: RegistryClient,
  repository: string,
  digest: string,
  tags: TagList,
  trusted: readonly TrustedKey[] = [],
): Promise<SignatureLayer[]> {
  const read = async (names: readonly string[]) => {
    const manifests = await Promise.all(names.map((tag) => client.findManifest(repository, tag, [MediaTypes.ociManifest])));
    return manifests.flatMap((m) => (m ? parseSignatureManifest(m.bytes).layers : []));
  };
  if (trusted.length > 0 && !tags.known) {
    const pinned = await read([...new Set(trusted.map((k) => signatureTag(digest, k.fingerprint)))]);
    if (pinned.length > 0) return pinned;
  }
  const signatureTags = (await tags()).filter((tag) => isSignatureTagOf(tag, digest));
  if (signatureTags.length > 0) return read(signatureTags);
  const referrers = await client.getReferrers(repository, digest, SIGNATURE_ARTIFACT_TYPE);
  const layers: SignatureLayer[] = [];
  for (const descriptor of referrers.manifests) {
    const manifest = await client.findManifest(repository, descriptor.digest, [MediaTypes.ociManifest]);
    if (manifest) layers.push(...parseSignatureManifest(manifest.bytes).layers);
  }
  return layers;
}

type LayerVerdict = { kind: 'verified'; signer: Signer } | { kind: 'bad-signature'; detail: string; signer?: Signer } | { kind: 'untrusted-signer'; signers: Signer[] };

/** Check one signature layer: a pinned key signed it, and it names this digest and this repository:tag. */
export async function checkSignatureLayer(
  client: RegistryClient,
  repository: string,
  layer: SignatureLayer,
  expected: { digest: string; repository: string; tag: string },
  trusted: readonly TrustedKey[],
): Promise<LayerVerdict> {
  let bytes: Buffer;
  try {
    if (layer.data !== undefined) {
      bytes = Buffer.from(layer.data, 'base64');
      if (sha256Digest(bytes) !== layer.digest) return { kind: 'bad-signature', detail: `embedded signature data does not match its digest ${layer.digest}` };
    } else bytes = await client.getBlobBytes(repository, layer.digest, 1024 * 1024);
  } catch (error) {
    return { kind: 'bad-signature', detail: `signature blob ${layer.digest} cannot be read: ${error instanceof Error ? error.message : String(error)}` };
  }
  const check = await verifySignedMessage(bytes, trusted);
  if (check.kind === 'untrusted-signer') return check;
  if (check.kind === 'unsigned') return { kind: 'bad-signature', detail: `signature blob ${layer.digest}: ${check.detail}` };
  if (check.kind === 'bad-signature') return { kind: 'bad-signature', detail: check.detail, ...(check.signer ? { signer: check.signer } : {}) };
  let payload;
  try {
    payload = parseSimpleSigningPayload(check.text);
  } catch (error) {
    return { kind: 'bad-signature', signer: check.signer, detail: error instanceof Error ? error.message : String(error) };
  }
  const signedDigest = payload.critical.image['docker-manifest-digest'];
  if (signedDigest !== expected.digest) {
    return { kind: 'bad-signature', signer: check.signer, detail: `the signature is for ${signedDigest}, the tag points at ${expected.digest}` };
  }
  // The host may differ (mirrors are copied between registries); repository and tag may not,
  // or one entry's signed manifest could be served under another entry's tag.
  const identity = splitDockerReference(payload.critical.identity['docker-reference']);
  if (identity.path !== expected.repository || identity.tag !== expected.tag) {
    return {
      kind: 'bad-signature',
      signer: check.signer,
      detail: `the signature names ${payload.critical.identity['docker-reference']}, not ${expected.repository}:${expected.tag}`,
    };
  }
  return { kind: 'verified', signer: check.signer };
}

/** Verify one OCI buildcache entry (`<tag>` → manifest → eic-build signature). */
export async function verifyOciEntry(
  client: RegistryClient,
  entry: OciEntry,
  tags: TagList,
  options: Pick<VerifyOciOptions, 'repository' | 'trusted' | 'deep'>,
  /** Blob checks shared across entries: Spack entries list their dependencies' tarballs as layers too. */
  blobChecks: Map<string, Promise<{ kind: 'missing-blob' | 'checksum-mismatch'; detail: string } | undefined>> = new Map(),
): Promise<EntryResult> {
  const { repository, trusted } = options;
  const location = `${client.registry}/${repository}:${entry.tag}`;
  let manifest;
  try {
    manifest = await client.findManifest(repository, entry.tag);
  } catch (error) {
    if (isEicBuildError(error) && error.code === 'digest-mismatch') return { kind: 'checksum-mismatch', id: entry.id, location, detail: error.message };
    throw error;
  }
  if (!manifest) return { kind: 'not-found', id: entry.id, location, detail: `no tag ${entry.tag} in the mirror` };
  const base = { id: entry.id, location, manifestDigest: manifest.digest, reference: `${client.registry}/${repository}@${manifest.digest}` };
  const layers = await findSignatureLayers(client, repository, manifest.digest, tags, trusted);
  if (layers.length === 0)
    return { ...base, kind: 'unsigned', detail: `no eic-build signature for ${manifest.digest} (no tag ${manifest.digest.replace(':', '-')}.<KEYID>.sig, no referrer)` };
  const verdicts = await Promise.all(layers.map((layer) => checkSignatureLayer(client, repository, layer, { digest: manifest.digest, repository, tag: entry.tag }, trusted)));
  const good = verdicts.find((v) => v.kind === 'verified');
  if (!good) {
    const bad = verdicts.find((v) => v.kind === 'bad-signature');
    if (bad) return { ...base, kind: 'bad-signature', ...(bad.signer ? { signer: bad.signer } : {}), detail: bad.detail };
    const signers = verdicts.flatMap((v) => (v.kind === 'untrusted-signer' ? v.signers : []));
    return { ...base, kind: 'untrusted-signer', signers, detail: untrustedDetail(signers, trusted, []) };
  }
  let blobs: Descriptor[];
  try {
    blobs = manifestBlobs(manifest.bytes);
  } catch {
    return { ...base, kind: 'checksum-mismatch', signer: good.signer, detail: 'the signed manifest is not JSON' };
  }
  const result: EntryResult = {
    ...base,
    kind: 'verified',
    signer: good.signer,
    detail: `signed by ${good.signer.fingerprint} for ${manifest.digest}; ${blobs.length} blobs present`,
    blobs: blobs.map((b) => ({ digest: b.digest, size: b.size, mediaType: b.mediaType })),
  };
  const checkBlob = async (blob: Descriptor) => {
    if (!options.deep) {
      const head = await client.headBlob(repository, blob.digest);
      if (!head) return { kind: 'missing-blob' as const, detail: `${blob.mediaType} blob ${blob.digest} is missing` };
      if (head.size >= 0 && head.size !== blob.size)
        return { kind: 'checksum-mismatch' as const, detail: `blob ${blob.digest} is ${head.size} bytes, the manifest says ${blob.size}` };
      return undefined;
    }
    if (!(await client.hasBlob(repository, blob.digest))) return { kind: 'missing-blob' as const, detail: `${blob.mediaType} blob ${blob.digest} is missing` };
    try {
      for await (const _chunk of await client.getBlob(repository, blob.digest)) {
        // read to the end: the stream checks the digest
      }
    } catch (error) {
      if (isEicBuildError(error) && error.code === 'digest-mismatch') return { kind: 'checksum-mismatch' as const, detail: error.message };
      throw error;
    }
    return undefined;
  };
  const checks = await Promise.all(
    blobs.map((blob) => {
      const key = `${blob.digest} ${blob.size}`;
      let check = blobChecks.get(key);
      if (!check) {
        check = checkBlob(blob);
        blobChecks.set(key, check);
      }
      return check;
    }),
  );
  const problem = checks.find((c) => c !== undefined);
  return problem ? { ...result, ...problem } : result;
}

const FULL_ID = /^[\w.+-]+-[a-z2-7]{32}$/;

/** The entry tags of an OCI buildcache, filtered by `--spec` selectors. */
export function selectOciEntries(tags: readonly string[], specs: readonly string[] | undefined): { picked: OciEntry[]; missing: string[] } {
  const entries = tags.filter(isEntryTag).map((tag) => ({ id: idFromTag(tag), tag }));
  if (!specs || specs.length === 0) return { picked: entries, missing: [] };
  const hit = (entry: OciEntry, selector: string) => matchesSpec(entry.id, selector) || spackTag(selector) === entry.tag;
  return {
    picked: entries.filter((e) => specs.some((s) => hit(e, s))),
    missing: specs.filter((s) => !entries.some((e) => hit(e, s))),
  };
}

/**
 * The entry tags of an OCI buildcache that a lockfile names (by tag, else by the hash at the tag's end),
 * reported under the lock's id, and the lock entries with no tag.
 */
export function selectOciLockEntries(tags: readonly string[], lock: readonly LockEntry[]): { picked: OciEntry[]; absent: LockEntry[] } {
  const listed = tags.filter(isEntryTag).map((tag) => ({ id: idFromTag(tag), tag }));
  // Spack's tag for the lock's id first: a sanitised or cut tag's id is not the spec's id.
  const byTag = new Map(listed.map((entry) => [entry.tag, entry]));
  const exact = lock.filter((entry) => byTag.has(spackTag(entry.id)));
  const rest = selectLockEntries(
    listed,
    lock.filter((entry) => !byTag.has(spackTag(entry.id))),
  );
  return {
    picked: [...exact.map((entry) => ({ id: entry.id, tag: spackTag(entry.id) })), ...rest.present.map(({ entry, lock: wanted }) => ({ id: wanted.id, tag: entry.tag }))],
    absent: rest.absent,
  };
}

/** Verify an OCI buildcache. Registry failures (unreachable, denied) throw: the mirror cannot be read. */
export async function verifyOciMirror(client: RegistryClient, options: VerifyOciOptions): Promise<VerifyReport> {
  let picked: OciEntry[];
  let missing: string[];
  let tags: TagList;
  let absent: LockEntry[] = [];
  if (options.lock) {
    // A lock names hundreds of entries, some held by other mirrors: one listing (paged, 1,000 tags per
    // request) answers which are here, costs nothing per absent entry, and gives the signature tags too.
    const listed = await client.listTags(options.repository);
    if (listed.length === 0) throw new EicBuildError('input-unreadable', `${options.mirror} has no tags`, { hint: 'check the repository name of the mirror' });
    ({ picked, absent } = selectOciLockEntries(listed, options.lock.entries));
    missing = [];
    tags = lazyTagList(client, options.repository, listed);
  } else if (options.specs?.length && options.specs.every((s) => FULL_ID.test(s))) {
    // Named entries (what an install step asks for): no need to list a repository of thousands of tags.
    await client.ping();
    tags = lazyTagList(client, options.repository);
    picked = options.specs.map((id) => ({ id, tag: spackTag(id) }));
    missing = [];
  } else {
    const listed = await client.listTags(options.repository);
    if (listed.length === 0) throw new EicBuildError('input-unreadable', `${options.mirror} has no tags`, { hint: 'check the repository name of the mirror' });
    ({ picked, missing } = selectOciEntries(listed, options.specs));
    tags = lazyTagList(client, options.repository, listed);
  }
  const blobChecks = new Map<string, Promise<{ kind: 'missing-blob' | 'checksum-mismatch'; detail: string } | undefined>>();
  const entries = await mapLimit(
    picked,
    options.concurrency ?? 32,
    countingEntries(picked.length, options.onProgress, (entry: OciEntry) => verifyOciEntry(client, entry, tags, options, blobChecks)),
  );
  if (entries.length > 0 && entries.every((e) => e.kind === 'not-found')) {
    // Nothing answered: tell a wrong repository (exit 2) from entries that are really absent.
    const listed = await tags();
    if (listed.length === 0) throw new EicBuildError('input-unreadable', `${options.mirror} has no tags`, { hint: 'check the repository name of the mirror' });
  }
  for (const selector of missing) {
    entries.push({ kind: 'not-found', id: selector, location: `${client.registry}/${options.repository}`, detail: `no tag ${spackTag(selector)} in the mirror` });
  }
  for (const entry of absent) entries.push(absentEntry(entry, `${client.registry}/${options.repository}:${spackTag(entry.id)}`));
  return {
    mirror: options.mirror,
    layout: 'oci',
    trusted: describeTrusted(options.trusted),
    mirrorKeys: [],
    entries,
    ...(options.lock ? { lock: lockSelectionInfo(options.lock) } : {}),
  };
}
