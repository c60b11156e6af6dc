import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { EicBuildError, isEicBuildError } from '../../errors.js';
import { MediaTypes, type Descriptor, type RegistryClient } from '../../registry/client.js';
import { OversizedBlobError, placeReceived, receiveStream, writeCopyFile, type ReceivedFile } from './copy-blob.js';
import type { CopiedEntry } from './copy-file.js';
import { V3MediaTypes, formatSpecDocument, formatV3Manifest, parseOciSpecConfig } from './copy-format.js';
import { v3BlobPath, v3SpecManifestPath } from '../file-layout.js';
import { spackTag } from '../oci-entries.js';
import type { EntryResult } from '../report.js';

/** The config blob is a spec JSON: kilobytes, rarely a few MiB. */
const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

type Fetched<T> = { kind: 'ok'; value: T } | { kind: 'missing-blob' | 'checksum-mismatch'; detail: string };

/** Run a blob download; a digest mismatch or a blob the registry does not have is an entry verdict, anything else throws. */
async function fetchBlob<T>(client: RegistryClient, repository: string, blob: Descriptor, run: () => Promise<T>): Promise<Fetched<T>> {
  try {
    return { kind: 'ok', value: await run() };
  } catch (error) {
    if (isEicBuildError(error) && error.code === 'digest-mismatch') return { kind: 'checksum-mismatch', detail: error.message };
    if (error instanceof OversizedBlobError) return { kind: 'checksum-mismatch', detail: `blob ${blob.digest}: ${error.message}` };
    if (isEicBuildError(error) && error.code === 'registry' && !(await client.hasBlob(repository, blob.digest).catch(() => true))) {
      return { kind: 'missing-blob', detail: `${blob.mediaType} blob ${blob.digest} is missing` };
    }
    if (isEicBuildError(error)) throw error;
    // A download cut off midway (connection reset, timeout) or a full disk: the mirror could not be copied.
    throw new EicBuildError('registry', `copying blob ${blob.digest} from ${client.registry}/${repository} failed: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'check the registry connection and that the --copy-to file system has room, then run again',
      cause: error,
    });
  }
}

/**
 * Copy one verified OCI entry into a layout-v3 tree: read the manifest by the digest that verified (never
 * the tag again: it may have moved since), the config blob as the spec and the LAST layer as the entry's own
 * tarball (Spack: `manifest["layers"][-1]`; the other layers are dependencies, copied as their own entries),
 * each hashed while received. The spec manifest written is unsigned: the runtime has no private key.
 */
export async function copyOciEntry(client: RegistryClient, repository: string, entry: EntryResult, paths: { staging: string; incoming: string }): Promise<CopiedEntry> {
  if (entry.kind !== 'verified') return { result: entry };
  const fail = (kind: EntryResult['kind'], detail: string): CopiedEntry => ({ result: { ...entry, kind, detail: `not copied: ${detail}` } });
  // Without the digest that verified, the copy could only read the tag again, which may have moved: fail closed.
  if (!entry.manifestDigest) return fail('checksum-mismatch', 'the verifier recorded no manifest digest for this entry');
  let manifest;
  try {
    manifest = await client.findManifest(repository, entry.manifestDigest, [MediaTypes.ociManifest, MediaTypes.dockerManifest]);
  } catch (error) {
    if (isEicBuildError(error) && error.code === 'digest-mismatch') return fail('checksum-mismatch', error.message);
    throw error;
  }
  if (!manifest) return fail('missing-blob', `the verified manifest ${entry.manifestDigest} is gone`);
  let body: { config?: Descriptor; layers?: Descriptor[] };
  try {
    body = JSON.parse(manifest.bytes.toString('utf8')) as typeof body;
  } catch {
    return fail('checksum-mismatch', 'the verified manifest is not JSON');
  }
  const config = body.config;
  const own = body.layers?.[body.layers.length - 1];
  if (!config || !own) return fail('missing-blob', 'the verified manifest has no config or no layer (no tarball)');

  const configBytes = await fetchBlob(client, repository, config, () => client.getBlobBytes(repository, config.digest, MAX_CONFIG_BYTES));
  if (configBytes.kind !== 'ok') return fail(configBytes.kind, configBytes.detail);
  if (configBytes.value.length !== config.size)
    return fail('checksum-mismatch', `config blob ${config.digest} is ${configBytes.value.length} bytes, the manifest says ${config.size}`);
  // Tags may be cut to 128 characters: compare as tags.
  const parsed = parseOciSpecConfig(configBytes.value, entry.id, (nodeId, id) => spackTag(nodeId) === spackTag(id));
  if (parsed.kind !== 'ok') return fail('bad-signature', `the signed entry's config blob: ${parsed.detail}`);

  const tarball = await fetchBlob(client, repository, own, async () =>
    receiveStream(await client.getBlob(repository, own.digest), paths.incoming, own.size >= 0 ? own.size : undefined),
  );
  if (tarball.kind !== 'ok') return fail(tarball.kind, tarball.detail);
  const received: ReceivedFile = tarball.value;
  if (own.size >= 0 && received.size !== own.size) return fail('checksum-mismatch', `tarball ${own.digest} is ${received.size} bytes, the manifest says ${own.size}`);

  const specBlob = gzipSync(Buffer.from(formatSpecDocument(parsed.spec, parsed.layoutVersion), 'utf8'));
  const specSha = createHash('sha256').update(specBlob).digest('hex');
  const tarballRecord = { contentLength: received.size, mediaType: V3MediaTypes.tarball, compression: 'gzip', checksumAlgorithm: 'sha256', checksum: received.sha256 };
  const specRecord = { contentLength: specBlob.length, mediaType: V3MediaTypes.spec, compression: 'gzip', checksumAlgorithm: 'sha256', checksum: specSha };
  await placeReceived(paths.staging, received, v3BlobPath(tarballRecord));
  await writeCopyFile(paths.staging, v3BlobPath(specRecord), specBlob);
  const { node } = parsed;
  await writeCopyFile(paths.staging, v3SpecManifestPath(node.name, `${node.name}-${String(node.version)}-${node.hash}`), formatV3Manifest([tarballRecord, specRecord]));
  return { result: { ...entry, detail: `${entry.detail}; copied (tarball ${own.digest} re-hashed)` }, node };
}
