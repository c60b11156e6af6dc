import { EicBuildError } from '../errors.js';

/** A parsed image reference: `registry/repository[:tag][@digest]`. */
export interface ImageReference {
  /** Host (and port) of the registry, e.g. `docker.io`, `127.0.0.1:5000`. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/debian`. */
  repository: string;
  tag?: string;
  digest?: string;
}

/** The registry name Docker uses when a reference names none. */
export const DOCKER_HUB = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d+)?$/;

function bad(ref: string, why: string): EicBuildError {
  return new EicBuildError('usage', `invalid image reference '${ref}': ${why}`, {
    hint: 'write it as [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. 127.0.0.1:5000/spack/cache:tag',
  });
}

/**
 * Parse an image reference with Docker's rules: the first path component is a registry only if it
 * holds a '.', a ':' or is 'localhost' (so `ubuntu` is `docker.io/library/ubuntu`).
 */
export function parseImageReference(ref: string): ImageReference {
  if (ref.trim() !== ref || ref === '') throw bad(ref, 'empty or surrounded by blanks');
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad(ref, `'${digest}' is not a digest (ALGORITHM:HEX)`);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.lastIndexOf(':');
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(ref, `'${tag}' is not a valid tag (letters, digits, '_', '.', '-'; at most 128)`);
  }
  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  const first = parts[0] ?? '';
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost' || first.startsWith('['))) {
    registry = first;
    parts.shift();
    if (!HOST.test(registry)) throw bad(ref, `'${registry}' is not a host[:port]`);
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  for (const part of parts) {
    if (!COMPONENT.test(part)) throw bad(ref, `repository component '${part}' must be lowercase letters, digits and separators`);
  }
  const result: ImageReference = { registry, repository: parts.join('/') };
  if (tag !== undefined) result.tag = tag;
  if (digest !== undefined) result.digest = digest;
  return result;
}

/** The canonical text of a reference (inverse of parseImageReference for canonical input). */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** True for hosts on this machine: their registries may speak plain HTTP, as Docker allows. */
export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
