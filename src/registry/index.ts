// Registry client: re-exports only.
export { parseImageReference, formatImageReference, isLoopbackHost, DOCKER_HUB, type ImageReference } from './reference.js';
export {
  parseWwwAuthenticate,
  credentialsFromAccessPair,
  parseDockerConfigCredentials,
  readDockerConfigCredentials,
  resolveRegistryCredentials,
  credentialsFromCiVariables,
  resolveImageCredentials,
  basicAuthorization,
  type AccessPair,
  type AuthChallenge,
  type Credentials,
} from './auth.js';
export {
  RegistryClient,
  MediaTypes,
  DEFAULT_MANIFEST_ACCEPT,
  pullScope,
  pushScope,
  nextLink,
  type Descriptor,
  type FetchedManifest,
  type Referrers,
  type RegistryClientOptions,
} from './client.js';
export { RegistryError, parseRegistryDiagnostics, type RegistryDiagnostic } from './registry-error.js';
export { sha256Digest, parseDigest, digestVerifier } from './digest.js';
export { createLimiter, mapLimit, type Limiter } from './pool.js';
