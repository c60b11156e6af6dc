import * as openpgp from 'openpgp';
import { isEicBuildError } from '../../errors.js';
import { MediaTypes, type Descriptor, type RegistryClient } from '../../registry/client.js';
import { mapLimit } from '../../registry/pool.js';
import { version } from '../../version.js';
import { checkSignatureLayer, selectOciEntries, type OciEntry } from '../verify/verify-oci.js';
import type { SignOutcome } from './sign-report.js';
import type { UnlockedSigningKey } from './signing-key.js';
import {
  REFERENCE_ANNOTATION,
  SIGNATURE_ARTIFACT_TYPE,
  SIGNATURE_LAYER_TYPE,
  SIGNER_ANNOTATION,
  formatSignatureManifest,
  formatSimpleSigningPayload,
  parseSignatureManifest,
  isSignatureTagOf,
  signatureTag,
  type SignatureLayer,
} from '../simple-signing.js';
import { describeKey } from '../trust.js';
import { countingEntries, type EntryProgress } from '../entry-progress.js';

/** Options of signOciMirror. */
export interface SignOciOptions {
  repository: string;
  signingKey: UnlockedSigningKey;
  specs?: readonly string[];
  /** Sign only entries that carry no signature at all. */
  unsignedOnly?: boolean;
  /** Replace this key's existing signature. */
  force?: boolean;
  concurrency?: number;
  /** Hears of each entry signed (or skipped, or failed). */
  onProgress?: EntryProgress;
}

/** Sign `payload` as a binary OpenPGP signed message: the format containers/image (skopeo) verifies. */
export async function signSimpleSigningPayload(payload: Uint8Array, key: openpgp.PrivateKey): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: payload });
  return openpgp.sign({ message, signingKeys: key, format: 'binary' });
}

/** The docker-reference an entry's signature names. */
export function entryReference(registry: string, repository: string, tag: string): string {
  return `${registry}/${repository}:${tag}`;
}

/**
 * Add a referrer to the OCI 1.1 tag-scheme index `sha256-<hex>` (for registries without the
 * referrers API). Discovery only: verify reads the signature tags, so a lost update here (two
 * signers at once) costs nothing but is still retried.
 */
async function updateTagSchemeIndex(client: RegistryClient, repository: string, subject: string, signature: Descriptor & { annotations?: Record<string, string> }): Promise<void> {
  const tag = subject.replace(':', '-');
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await client.findManifest(repository, tag, [MediaTypes.ociIndex]);
    const manifests = existing ? ((JSON.parse(existing.bytes.toString('utf8')) as { manifests?: (Descriptor & { annotations?: Record<string, string> })[] }).manifests ?? []) : [];
    const signer = signature.annotations?.[SIGNER_ANNOTATION];
    const kept = manifests.filter((m) => m.digest !== signature.digest && (m.artifactType !== SIGNATURE_ARTIFACT_TYPE || m.annotations?.[SIGNER_ANNOTATION] !== signer));
    const index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [...kept, signature] };
    await client.putManifest(repository, tag, Buffer.from(JSON.stringify(index)), MediaTypes.ociIndex);
    const after = await client.findManifest(repository, tag, [MediaTypes.ociIndex]);
    if (after && (JSON.parse(after.bytes.toString('utf8')) as { manifests?: Descriptor[] }).manifests?.some((m) => m.digest === signature.digest)) return;
  }
}

/** Sign one entry; idempotent (a valid signature by this key is kept unless `force`), and safe with concurrent signers (one tag per key). */
export async function signOciEntry(client: RegistryClient, entry: OciEntry, tags: readonly string[], options: SignOciOptions): Promise<SignOutcome> {
  const { repository, signingKey } = options;
  const manifest = await client.getManifest(repository, entry.tag);
  const subject: Descriptor = { mediaType: manifest.mediaType || MediaTypes.ociManifest, digest: manifest.digest, size: manifest.bytes.length };
  const expected = { digest: manifest.digest, repository, tag: entry.tag };
  const tag = signatureTag(manifest.digest, signingKey.fingerprint);
  if (options.unsignedOnly && tags.some((t) => isSignatureTagOf(t, manifest.digest))) {
    return { kind: 'skipped', id: entry.id, manifestDigest: manifest.digest, detail: 'already signed (--unsigned-only)' };
  }
  // The tag list was read once for the whole run: no request for a signature tag it does not hold.
  const existing = !options.force && tags.includes(tag) ? await client.findManifest(repository, tag, [MediaTypes.ociManifest]) : undefined;
  if (existing) {
    const publicKey = describeKey(signingKey.key.toPublic(), 'signing key');
    const layers = parseSignatureManifest(existing.bytes).layers;
    const verdicts = await Promise.all(layers.map((l) => checkSignatureLayer(client, repository, l, expected, [publicKey])));
    if (verdicts.some((v) => v.kind === 'verified')) {
      return { kind: 'skipped', id: entry.id, manifestDigest: manifest.digest, detail: `already signed by ${signingKey.fingerprint} (--force re-signs)` };
    }
  }
  const reference = entryReference(client.registry, repository, entry.tag);
  const payload = formatSimpleSigningPayload(reference, manifest.digest, { creator: `eic-build ${version}`, timestamp: Math.floor(Date.now() / 1000) });
  const signature = await signSimpleSigningPayload(payload, signingKey.key);
  const digest = await client.putBlob(repository, signature);
  const layer: SignatureLayer = {
    mediaType: SIGNATURE_LAYER_TYPE,
    digest,
    size: signature.length,
    annotations: { [SIGNER_ANNOTATION]: signingKey.fingerprint, [REFERENCE_ANNOTATION]: reference },
    data: Buffer.from(signature).toString('base64'),
  };
  // One manifest per key under its own tag: a concurrent signer with another key cannot lose ours,
  // and one with the same key writes an equally valid signature.
  const bytes = formatSignatureManifest(subject, [layer]);
  const signatureDigest = await client.putManifest(repository, tag, bytes, MediaTypes.ociManifest);
  if (client.hasReferrersApi === false) {
    await updateTagSchemeIndex(client, repository, manifest.digest, {
      mediaType: MediaTypes.ociManifest,
      digest: signatureDigest,
      size: bytes.length,
      artifactType: SIGNATURE_ARTIFACT_TYPE,
      annotations: { [SIGNER_ANNOTATION]: signingKey.fingerprint },
    });
  }
  return { kind: 'signed', id: entry.id, manifestDigest: manifest.digest, signatureDigest, detail: `signed ${manifest.digest} as ${reference}` };
}

/** Sign the entries of an OCI buildcache. */
export async function signOciMirror(client: RegistryClient, options: SignOciOptions): Promise<SignOutcome[]> {
  const tags = await client.listTags(options.repository);
  const { picked, missing } = selectOciEntries(tags, options.specs);
  // The empty config every signature manifest points at, and one probe for the referrers API.
  await client.putBlob(options.repository, Buffer.from('{}'));
  if (picked[0]) {
    const first = await client.findManifest(options.repository, picked[0].tag);
    if (first) await client.getReferrers(options.repository, first.digest);
  }
  const outcomes = await mapLimit(
    picked,
    options.concurrency ?? 16,
    countingEntries(picked.length, options.onProgress, async (entry: OciEntry) => {
      try {
        return await signOciEntry(client, entry, tags, options);
      } catch (error) {
        if (!isEicBuildError(error)) throw error;
        return { kind: 'failed' as const, id: entry.id, detail: error.message };
      }
    }),
  );
  for (const selector of missing) outcomes.push({ kind: 'failed', id: selector, detail: 'no such entry in the mirror' });
  return outcomes;
}
