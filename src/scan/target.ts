// What a scan target names: a forced `kind:` prefix, or a path/reference sniffed on disk.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EicBuildError } from '../errors.js';
import { isRegistryTarget, parseRegistryTarget, type RegistryTarget } from './registry-source.js';

/** Where the image comes from. */
export type TargetKind = 'docker-archive' | 'oci-archive' | 'oci' | 'docker-daemon';

/** A target after parsing: a kind if the user forced one, and the path or reference. */
export interface ParsedTarget {
  forced: TargetKind | null;
  value: string;
}

/** A target resolved against the disk. 'tar-archive' is decided from the archive's contents. */
export type ResolvedTarget =
  | { kind: 'tar-archive'; path: string; forced: 'docker-archive' | 'oci-archive' | null }
  | { kind: 'oci'; path: string }
  | { kind: 'docker-daemon'; reference: string }
  | { kind: 'registry'; target: RegistryTarget };

const PREFIXES: TargetKind[] = ['docker-archive', 'oci-archive', 'oci', 'docker-daemon'];

/** Split `kind:value`; anything else (including `name:tag`) is unforced. */
export function parseTarget(target: string): ParsedTarget {
  for (const kind of PREFIXES) {
    if (target.startsWith(`${kind}:`)) return { forced: kind, value: target.slice(kind.length + 1) };
  }
  return { forced: null, value: target };
}

/** Format a parsed target back (round-trips with parseTarget). */
export function formatTarget(target: ParsedTarget): string {
  return target.forced ? `${target.forced}:${target.value}` : target.value;
}

/** A plain image reference such as `name:tag`, `registry:5000/ns/name@sha256:…`. */
export function looksLikeImageReference(value: string): boolean {
  return (
    /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/.test(value) || /^[0-9a-f]{12,64}$/.test(value)
  );
}

async function statOrNull(path: string) {
  try {
    return await stat(path);
  } catch {
    return null;
  }
}

/** Decide how to read a target. Throws 'input-not-found' with a hint when nothing matches. */
export async function resolveTarget(target: string): Promise<ResolvedTarget> {
  // docker://HOST/REPO:TAG (skopeo's spelling): streamed from the registry, never from the disk.
  if (isRegistryTarget(target)) return { kind: 'registry', target: parseRegistryTarget(target) };
  const { forced, value } = parseTarget(target);
  if (value === '') throw new EicBuildError('usage', `scan target '${target}' is empty`, { hint: 'give a path or an image reference.' });
  if (forced === 'docker-daemon') return { kind: 'docker-daemon', reference: value };
  // skopeo-style `oci:DIR:REF` is accepted; the reference part is ignored (every manifest is scanned).
  const path = forced === 'oci' && !(await statOrNull(value)) && value.includes(':') ? value.slice(0, value.lastIndexOf(':')) : value;
  const info = await statOrNull(path);
  if (!info) {
    if (forced === null && looksLikeImageReference(value)) return { kind: 'docker-daemon', reference: value };
    throw new EicBuildError('input-not-found', `scan target '${target}' does not exist`, {
      hint: 'give a docker save archive, an OCI layout directory or archive, an image reference (docker-daemon:NAME:TAG) or a registry image (docker://HOST/REPO:TAG).',
    });
  }
  if (info.isDirectory()) {
    if (forced && forced !== 'oci') {
      throw new EicBuildError('usage', `scan target '${target}' is a directory, not a ${forced}`, { hint: 'use oci:DIR for an OCI layout directory.' });
    }
    if (!(await statOrNull(join(path, 'oci-layout'))) && !(await statOrNull(join(path, 'index.json')))) {
      throw new EicBuildError('input-corrupt', `scan target '${target}' is a directory without oci-layout or index.json: not an OCI image layout`, {
        hint: 'point at an OCI layout directory (skopeo copy ... oci:DIR) or a docker save archive.',
      });
    }
    return { kind: 'oci', path };
  }
  if (forced === 'oci') throw new EicBuildError('usage', `scan target '${target}' is a file, not an OCI layout directory`, { hint: 'use oci-archive:FILE for a tar of a layout.' });
  return { kind: 'tar-archive', path, forced: forced === 'docker-archive' || forced === 'oci-archive' ? forced : null };
}
