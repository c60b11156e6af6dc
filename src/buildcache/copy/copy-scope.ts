import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EicBuildError } from '../../errors.js';

/** A verified copy written by `buildcache verify --copy-to`, as a Spack mirror. */
export interface VerifiedMirrorCopy {
  /** Mirror name in Spack's config (letters, digits, `_`, `.`, `-`). */
  name: string;
  /** Absolute directory of the copy. */
  dir: string;
  /** true when the copy kept Spack's clearsigned manifests (file/http sources); false for OCI copies. */
  signed: boolean;
}

/**
 * The `mirrors.yaml` of a Spack config scope (`spack -C DIR`) that lets an install read only the verified
 * copies: `mirrors::` (two colons) replaces every mirror of lower scopes instead of merging with them.
 */
export function formatVerifiedMirrorsScope(copies: readonly VerifiedMirrorCopy[]): string {
  if (copies.length === 0) {
    throw new EicBuildError('usage', 'no verified mirror copy to configure', { hint: 'pass at least one copy written by eic-build buildcache verify --copy-to' });
  }
  const names = new Set<string>();
  const lines = ['# Written by eic-build: Spack may install only from these verified copies.', 'mirrors::'];
  for (const copy of copies) {
    if (!/^[\w.-]+$/.test(copy.name)) {
      throw new EicBuildError('usage', `mirror name '${copy.name}' is not usable in mirrors.yaml`, { hint: 'use letters, digits, _, . and - only' });
    }
    if (names.has(copy.name)) throw new EicBuildError('usage', `mirror name '${copy.name}' is given twice`, { hint: 'give each verified copy its own name' });
    names.add(copy.name);
    if (!isAbsolute(copy.dir)) throw new EicBuildError('usage', `verified copy directory '${copy.dir}' is not absolute`, { hint: 'pass the absolute path given to --copy-to' });
    // A JSON string is a valid YAML double-quoted scalar.
    lines.push(`  ${copy.name}:`, `    url: ${JSON.stringify(pathToFileURL(copy.dir).href)}`, `    signed: ${copy.signed}`, '    binary: true', '    source: false');
  }
  return `${lines.join('\n')}\n`;
}
