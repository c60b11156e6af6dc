import { EicBuildError } from '../errors.js';
import { MediaTypes, type Descriptor } from '../registry/client.js';
import { sha256Digest } from '../registry/digest.js';

/** The containers/image "simple signing" payload (what `skopeo standalone-sign` signs). */
export interface SimpleSigningPayload {
  critical: {
    identity: { 'docker-reference': string };
    image: { 'docker-manifest-digest': string };
    type: 'atomic container signature';
  };
  optional?: Record<string, unknown>;
}

/** artifactType of eic-build signature manifests. */
export const SIGNATURE_ARTIFACT_TYPE = 'application/vnd.eic-build.simple-signing.v1';
/** Media type of one signature layer: a binary OpenPGP signed message over a simple-signing payload. */
export const SIGNATURE_LAYER_TYPE = 'application/vnd.eic-build.simple-signing.v1+pgp';
/** Layer annotation: fingerprint of the key that made the signature (lets re-signing be idempotent). */
export const SIGNER_ANNOTATION = 'dev.eic-build.signature.fingerprint';
/** Layer annotation: the docker-reference the signature names. */
export const REFERENCE_ANNOTATION = 'dev.eic-build.signature.docker-reference';
/** The OCI empty config `{}`. */
export const EMPTY_CONFIG = { mediaType: MediaTypes.ociEmpty, digest: sha256Digest('{}'), size: 2 };

/**
 * Tag under which one key's signature of `digest` lives: cosign's `sha256-<hex>.sig` scheme (so
 * registries without the referrers API work) with the signer's long key ID inserted, so that
 * signers with different keys never overwrite each other (a registry has no compare-and-swap).
 */
export function signatureTag(digest: string, fingerprint: string): string {
  return `${digest.replace(':', '-')}.${fingerprint.slice(-16).toUpperCase()}.sig`;
}

/** True when `tag` is an eic-build signature tag of `digest` (any key). */
export function isSignatureTagOf(tag: string, digest: string): boolean {
  const prefix = `${digest.replace(':', '-')}.`;
  return tag.startsWith(prefix) && /^[0-9A-F]{16}\.sig$/.test(tag.slice(prefix.length));
}

/** The payload bytes to sign for an image manifest digest and its docker reference. */
export function formatSimpleSigningPayload(dockerReference: string, manifestDigest: string, optional: Record<string, unknown> = {}): Buffer {
  const payload: SimpleSigningPayload = {
    critical: { identity: { 'docker-reference': dockerReference }, image: { 'docker-manifest-digest': manifestDigest }, type: 'atomic container signature' },
    optional,
  };
  return Buffer.from(JSON.stringify(payload));
}

/** Parse and check the shape of a simple-signing payload (after its signature verified). */
export function parseSimpleSigningPayload(bytes: Uint8Array): SimpleSigningPayload {
  let payload: SimpleSigningPayload;
  try {
    payload = JSON.parse(Buffer.from(bytes).toString('utf8')) as SimpleSigningPayload;
  } catch {
    throw new EicBuildError('signature', 'signature payload is not JSON', { hint: 'sign the entry again with eic-build buildcache sign --force' });
  }
  const critical = payload?.critical;
  if (
    critical?.type !== 'atomic container signature' ||
    typeof critical.identity?.['docker-reference'] !== 'string' ||
    typeof critical.image?.['docker-manifest-digest'] !== 'string'
  ) {
    throw new EicBuildError('signature', 'signature payload is not a containers/image simple-signing document', {
      hint: 'sign the entry again with eic-build buildcache sign --force',
    });
  }
  return payload;
}

/** Split `host/repo:tag` into the repository path (without host) and tag. */
export function splitDockerReference(reference: string): { host: string; path: string; tag?: string } {
  const slash = reference.indexOf('/');
  const host = slash >= 0 ? reference.slice(0, slash) : '';
  const rest = slash >= 0 ? reference.slice(slash + 1) : reference;
  const colon = rest.lastIndexOf(':');
  return colon >= 0 ? { host, path: rest.slice(0, colon), tag: rest.slice(colon + 1) } : { host, path: rest };
}

/** One signature layer to put in a signature manifest. */
export interface SignatureLayer extends Descriptor {
  annotations: Record<string, string>;
  /** The signature itself, base64 (OCI 1.1 embedded data): saves a blob request per entry when verifying. */
  data?: string;
}

/** The signature manifest: an OCI artifact whose `subject` is the signed entry, one layer per signing key. */
export function formatSignatureManifest(subject: Descriptor, layers: readonly SignatureLayer[]): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      artifactType: SIGNATURE_ARTIFACT_TYPE,
      config: EMPTY_CONFIG,
      layers,
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    }),
  );
}

/** The signature layers of a signature manifest (anything else in it is ignored). */
export function parseSignatureManifest(bytes: Uint8Array): { subject?: Descriptor; layers: SignatureLayer[] } {
  const body = JSON.parse(Buffer.from(bytes).toString('utf8')) as { subject?: Descriptor; layers?: SignatureLayer[] };
  const layers = (body.layers ?? []).filter((l) => l.mediaType === SIGNATURE_LAYER_TYPE).map((l) => ({ ...l, annotations: l.annotations ?? {} }));
  return body.subject ? { subject: body.subject, layers } : { layers };
}
