import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EicBuildError } from './errors.js';
import { parseImageReference } from './registry/reference.js';

/** The kind of buildcache a mirror URL points at: decides who signs it and how it is read. */
export type MirrorKind = 'oci' | 'file' | 'http' | 's3' | 'other';

/**
 * Classify a mirror URL as it stands in mirrors.yaml (the one rule for render, lint and buildcache). Pure.
 * A bare absolute path is a file mirror, as Spack reads it; a relative one is 'other' here (a command
 * line resolves it against the working directory itself).
 */
export function mirrorKind(url: string): MirrorKind {
  if (/^oci(\+http)?:\/\//.test(url)) return 'oci';
  if (/^file:\/\//.test(url) || url.startsWith('/')) return 'file';
  if (/^https?:\/\//.test(url)) return 'http';
  if (/^s3:\/\//.test(url)) return 's3';
  return 'other';
}

/** Where a buildcache lives. */
export type MirrorLocation =
  { kind: 'file'; root: string; url: string } | { kind: 'http'; base: string; url: string } | { kind: 'oci'; registry: string; repository: string; insecure: boolean; url: string };

/**
 * Parse a mirror URL as Spack writes it: `file://PATH` (or a plain path), `http(s)://…` (a file
 * layout served over HTTP), `oci://HOST/REPO`, `oci+http://HOST/REPO` (plain-HTTP registry).
 * Credentials in the URL (`https://user:token@host/…`) are refused without echoing them.
 */
export function parseMirrorUrl(text: string): MirrorLocation {
  const bad = (why: string) =>
    new EicBuildError('usage', `invalid mirror '${text}': ${why}`, {
      hint: 'pass file:///path/to/mirror, https://host/path, oci://HOST/REPOSITORY or oci+http://HOST/REPOSITORY',
    });
  const userinfo = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)@([^/@]*)(.*)$/is.exec(text);
  if (userinfo) {
    // Never echo the user:token part: it would reach the terminal, the CI log and every entry's location.
    const [, scheme, , host, rest] = userinfo;
    throw credentialsRefused(`${scheme}…@${host}${rest}`);
  }
  switch (mirrorKind(text)) {
    case 'oci': {
      const insecure = text.startsWith('oci+http://');
      const rest = text.slice(insecure ? 'oci+http://'.length : 'oci://'.length).replace(/\/+$/, '');
      const slash = rest.indexOf('/');
      if (slash <= 0 || slash === rest.length - 1) throw bad('an OCI mirror needs HOST/REPOSITORY');
      // In a mirror URL the first component is always the host (unlike Docker's short names).
      const host = rest.slice(0, slash);
      const ref = parseImageReference(`${/[.:]|^localhost$|^\[/.test(host) ? host : '127.0.0.1'}/${rest.slice(slash + 1)}`);
      if (ref.tag !== undefined || ref.digest !== undefined) throw bad('an OCI mirror URL names a repository, not a tag or digest');
      return { kind: 'oci', registry: host, repository: ref.repository, insecure, url: text };
    }
    case 'http': {
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw bad('not a URL');
      }
      // The WHATWG parser finds userinfo the pattern above may miss (e.g. after a backslash).
      if (url.username || url.password) throw credentialsRefused(`${url.protocol}//…@${url.host}${url.pathname}`);
      const base = url.toString().endsWith('/') ? url.toString() : `${url.toString()}/`;
      return { kind: 'http', base, url: text };
    }
    case 'file':
      return { kind: 'file', root: text.startsWith('file://') ? fileURLToPath(text) : resolve(text), url: text };
    case 's3':
      throw bad("the scheme 's3' is not supported (s3:// mirrors: sync them to a directory first)");
    case 'other':
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw bad(`the scheme '${text.split(':')[0]}' is not supported (s3:// mirrors: sync them to a directory first)`);
      if (text === '') throw bad('empty');
      // A relative path on the command line: relative to the working directory.
      return { kind: 'file', root: resolve(text), url: text };
  }
}

/** The error for a mirror URL with `user:token@`: names the URL with the credentials cut out, and where they go instead. */
function credentialsRefused(shown: string): EicBuildError {
  return new EicBuildError('usage', `invalid mirror '${shown}': credentials in a mirror URL are not supported`, {
    hint: 'remove user:password@ from the URL; an OCI registry takes its login from the docker config ($DOCKER_CONFIG/config.json, e.g. `docker login`); an HTTP(S) mirror must be readable without credentials here',
  });
}
