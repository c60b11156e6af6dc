import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { mirrorKind, type MirrorKind } from '../mirror-url.js';
import type { RenderProblem } from './problems.js';

export { mirrorKind, type MirrorKind };

/** What the Dockerfile renderer and the lint need to know about one mirror. */
export interface MirrorInfo {
  name: string;
  kind: MirrorKind;
  /** URL used to fetch (the `url`, or `fetch`'s). */
  url: string;
  /** URL autopush writes to (the `url`, or `push`'s). */
  pushUrl: string;
  autopush: boolean;
  /** False when the mirror is `binary: false` (source only). */
  binary: boolean;
  /** The `signed:` value rendered. */
  signed: boolean;
  /** Environment variable names the mirror's credentials are read from. */
  credentialVariables: string[];
  /** access_pair used to fetch (`fetch:`'s, else the mirror's), as names: what `buildcache verify` gets. */
  fetchCredentials: MirrorCredentials | undefined;
  /** access_pair used to push (`push:`'s, else the mirror's): what `buildcache sign` gets. */
  pushCredentials: MirrorCredentials | undefined;
}

/** An access_pair: a literal user name or the variable holding it, and the variable holding the secret. */
export interface MirrorCredentials {
  id?: string;
  idVariable?: string;
  secretVariable: string;
}

/** The validated, normalised mirrors.yaml. */
export interface MirrorsResult {
  text: string;
  mirrors: MirrorInfo[];
  problems: RenderProblem[];
  /** Plain statements for the user (who signs what), and transition-mode warnings. */
  notes: string[];
  warnings: string[];
}

// Spack v1.x mirrors schema (SPACK-FACTS.md): anything else is a typo Spack would reject or ignore.
const MIRROR_KEYS = new Set(['url', 'fetch', 'push', 'source', 'binary', 'signed', 'autopush', 'access_pair', 'access_token_variable', 'profile', 'endpoint_url']);
const CONNECTION_KEYS = new Set(['url', 'access_pair', 'access_token_variable', 'profile', 'endpoint_url']);
const ACCESS_PAIR_KEYS = new Set(['id', 'id_variable', 'secret_variable']);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MIRROR_NAME = /^[A-Za-z0-9_.-]+$/;

/**
 * Token shapes that must never be in a rendered file. `anywhere` shapes are checked in every
 * value; the generic long hex/base64 shapes not in URLs, whose paths legitimately hold long
 * lower-case names and commit hashes.
 */
const TOKEN_SHAPES: { name: string; pattern: RegExp; anywhere: boolean }[] = [
  { name: 'a GitHub token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})/, anywhere: true },
  { name: 'a GitLab token', pattern: /\bgl(?:pat|dt|rt|cbt|ptt|ft)-[A-Za-z0-9_-]{16,}/, anywhere: true },
  { name: 'an AWS access key id', pattern: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/, anywhere: true },
  { name: 'credentials in a URL', pattern: /^[a-z][a-z0-9+.-]*:\/\/[^/\s@]+:[^/\s@]+@/, anywhere: true },
  { name: 'a long hex string', pattern: /\b[0-9a-fA-F]{40,}\b/, anywhere: false },
  // Random base64 mixes upper case, lower case and digits; path-like words do not.
  {
    name: 'a long base64 string',
    pattern: /(?:^|[^A-Za-z0-9+/_-])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[0-9])[A-Za-z0-9+/]{40,}={0,2}(?:$|[^A-Za-z0-9+/_-])/,
    anywhere: false,
  },
];
const URL_VALUE = /^[a-z][a-z0-9+.-]*:\/\//;

/**
 * Validate a rendered mirrors.yaml against Spack's schema and eic-build's rules, and decide
 * `signed:` per mirror kind. Pure: returns the normalised text, the mirrors, and every problem.
 */
export function validateMirrors(file: string, text: string, options: { transition: boolean }): MirrorsResult {
  const problems: RenderProblem[] = [];
  const notes: string[] = [];
  const warnings: string[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (node: YamlNode | null | undefined, message: string) => {
    const offset = node?.range?.[0] ?? 0;
    const pos = lineCounter.linePos(offset);
    problems.push({ file, line: pos.line, column: pos.col, message });
  };
  for (const error of doc.errors) {
    const pos = lineCounter.linePos(error.pos[0]);
    problems.push({ file, line: pos.line, column: pos.col, message: `not valid YAML: ${error.message.split('\n')[0]}` });
  }
  if (problems.length > 0) return { text, mirrors: [], problems, notes, warnings };

  checkTokens(doc, at);
  const root = doc.contents;
  if (!isMap(root) || root.items.length !== 1 || !isScalar(root.items[0]?.key) || root.items[0]?.key.value !== 'mirrors') {
    at(root, "top level must be exactly one key, 'mirrors:' (Spack's mirrors.yaml)");
    return { text, mirrors: [], problems, notes, warnings };
  }
  const mirrorsNode = root.items[0]!.value as YamlNode | null;
  if (!isMap(mirrorsNode) || mirrorsNode.items.length === 0) {
    at(mirrorsNode ?? root, "'mirrors:' must map mirror names to a URL or a mirror object");
    return { text, mirrors: [], problems, notes, warnings };
  }
  const mirrors: MirrorInfo[] = [];
  for (const pair of mirrorsNode.items) {
    if (!isPair(pair) || !isScalar(pair.key)) continue;
    const name = String(pair.key.value);
    if (!MIRROR_NAME.test(name)) at(pair.key, `mirror name '${name}' may only use letters, digits, '.', '_' and '-'`);
    const value = pair.value as YamlNode | null;
    if (isScalar(value) && typeof value.value === 'string') {
      // A bare URL: turn it into an object so `signed:` can be written explicitly.
      const object = doc.createNode({ url: value.value }) as YamlNode;
      pair.value = object;
      const info = checkMirror(doc, name, object, at, options, notes, warnings);
      if (info) mirrors.push(info);
      continue;
    }
    if (!isMap(value)) {
      at(value ?? pair.key, `mirror ${name}: must be a URL or a mapping`);
      continue;
    }
    const info = checkMirror(doc, name, value, at, options, notes, warnings);
    if (info) mirrors.push(info);
  }
  const rendered = problems.length === 0 ? doc.toString({ lineWidth: 0 }) : text;
  return { text: rendered, mirrors, problems, notes, warnings };
}

type At = (node: YamlNode | null | undefined, message: string) => void;

function checkTokens(doc: Document, at: At): void {
  const visit = (node: unknown): void => {
    if (isScalar(node)) {
      if (typeof node.value !== 'string') return;
      const isUrl = URL_VALUE.test(node.value);
      for (const shape of TOKEN_SHAPES) {
        if ((shape.anywhere || !isUrl) && shape.pattern.test(node.value)) {
          at(
            node,
            `value looks like ${shape.name}: mirrors.yaml must not hold credentials; name environment variables in access_pair (id_variable, secret_variable) and pass them as build secrets`,
          );
          return;
        }
      }
    } else if (isMap(node)) {
      for (const pair of node.items) {
        visit(pair.key);
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(doc.contents);
}

function checkMirror(doc: Document, name: string, node: YamlNode, at: At, options: { transition: boolean }, notes: string[], warnings: string[]): MirrorInfo | undefined {
  if (!isMap(node)) return undefined;
  const credentialVariables: string[] = [];
  const pairs: Record<'mirror' | 'fetch' | 'push', Partial<MirrorCredentials>> = { mirror: {}, fetch: {}, push: {} };
  let url: string | undefined;
  let fetchUrl: string | undefined;
  let pushUrl: string | undefined;
  let autopush = false;
  let binary = true;
  let signedNode: YamlNode | undefined;
  for (const pair of node.items) {
    if (!isScalar(pair.key)) continue;
    const key = String(pair.key.value);
    const value = pair.value as YamlNode | null;
    if (!MIRROR_KEYS.has(key)) {
      at(pair.key, `mirror ${name}: unknown key '${key}' (Spack's mirror schema knows: ${[...MIRROR_KEYS].join(', ')})`);
      continue;
    }
    if (key === 'url') url = stringValue(value, `mirror ${name}: url`, at);
    else if (key === 'fetch' || key === 'push') {
      const connectionUrl = checkConnection(name, key, value, at, credentialVariables, pairs[key]);
      if (key === 'fetch') fetchUrl = connectionUrl;
      else pushUrl = connectionUrl;
    } else if (key === 'autopush' || key === 'binary' || key === 'source' || key === 'signed') {
      if (!isScalar(value) || typeof value.value !== 'boolean') at(value ?? pair.key, `mirror ${name}: ${key} must be true or false`);
      else if (key === 'autopush') autopush = value.value;
      else if (key === 'binary') binary = value.value;
      else if (key === 'signed') signedNode = value;
    } else checkConnectionKey(name, key, value, pair.key as YamlNode, at, credentialVariables, pairs.mirror);
  }
  const fetch = fetchUrl ?? url;
  const push = pushUrl ?? url;
  if (fetch === undefined || push === undefined) {
    at(node, `mirror ${name}: needs 'url', or both 'fetch' and 'push' with a url`);
    return undefined;
  }
  for (const u of [fetch, push]) {
    if (/['"\s\\$`]/.test(u)) at(node, `mirror ${name}: URL '${u}' contains quotes, spaces, '$' or backslashes`);
  }
  const kind = mirrorKind(push);
  if (mirrorKind(fetch) !== kind) at(node, `mirror ${name}: fetch and push URLs are of different kinds (${mirrorKind(fetch)}, ${kind})`);
  if (kind === 'other') at(node, `mirror ${name}: URL '${push}' is not oci://, oci+http://, file://, http(s):// or s3://`);
  const declared = signedNode && isScalar(signedNode) ? (signedNode.value as boolean) : undefined;
  let signed: boolean;
  if (kind === 'oci') {
    if (declared === true) {
      at(
        signedNode,
        `mirror ${name}: 'signed: true' on an OCI mirror claims what Spack does not do (Spack neither signs nor verifies OCI buildcaches, and its autopush then demands exactly one secret key); write 'signed: false': eic-build signs it (buildcache sign) in the builder step and verifies it (buildcache verify) in the runtime step`,
      );
    }
    signed = false;
    notes.push(
      `mirror ${name} (OCI): rendered 'signed: false' because Spack cannot sign or verify OCI buildcaches; signatures come from 'eic-build buildcache sign' in the builder step and are checked by 'eic-build buildcache verify' in the runtime step before anything is installed.`,
    );
  } else {
    if (declared === false && binary) {
      if (options.transition)
        warnings.push(
          `transition mode: mirror ${name} is 'signed: false': Spack will install its binaries without checking signatures. Turn transition mode off once the buildcache is re-signed.`,
        );
      else
        at(
          signedNode,
          `mirror ${name}: 'signed: false' lets Spack install unsigned binaries from a ${kind} mirror; remove it (Spack signs and verifies ${kind} buildcaches), or enable transition mode ('transition: true' in eic-build.yaml) while the cache is re-signed`,
        );
    }
    signed = declared ?? true;
    if (binary && signed)
      notes.push(`mirror ${name} (${kind}): Spack signs pushed binaries with the one secret key of the signing step and verifies them on install against the trusted public key.`);
  }
  if (declared === undefined || declared !== signed) node.set('signed', doc.createNode(signed));
  const complete = (pair: Partial<MirrorCredentials>): MirrorCredentials | undefined => (pair.secretVariable ? (pair as MirrorCredentials) : undefined);
  return {
    name,
    kind,
    url: fetch,
    pushUrl: push,
    autopush,
    binary,
    signed,
    credentialVariables: [...new Set(credentialVariables)],
    fetchCredentials: complete(pairs.fetch) ?? complete(pairs.mirror),
    pushCredentials: complete(pairs.push) ?? complete(pairs.mirror),
  };
}

function stringValue(node: YamlNode | null, what: string, at: At): string | undefined {
  if (isScalar(node) && typeof node.value === 'string' && node.value !== '') return node.value;
  at(node, `${what} must be a non-empty string`);
  return undefined;
}

function checkConnection(name: string, key: string, node: YamlNode | null, at: At, credentialVariables: string[], credentials: Partial<MirrorCredentials>): string | undefined {
  if (!isMap(node)) {
    at(node, `mirror ${name}: ${key} must be a mapping with a url`);
    return undefined;
  }
  let url: string | undefined;
  for (const pair of node.items) {
    if (!isScalar(pair.key)) continue;
    const sub = String(pair.key.value);
    const value = pair.value as YamlNode | null;
    if (!CONNECTION_KEYS.has(sub)) {
      at(pair.key, `mirror ${name}: ${key}: unknown key '${sub}' (allowed: ${[...CONNECTION_KEYS].join(', ')})`);
      continue;
    }
    if (sub === 'url') url = stringValue(value, `mirror ${name}: ${key}.url`, at);
    else checkConnectionKey(name, `${key}.${sub}`, value, pair.key as YamlNode, at, credentialVariables, credentials);
  }
  if (url === undefined) at(node, `mirror ${name}: ${key} needs a url`);
  return url;
}

function checkConnectionKey(
  name: string,
  key: string,
  node: YamlNode | null,
  keyNode: YamlNode,
  at: At,
  credentialVariables: string[],
  credentials: Partial<MirrorCredentials>,
): void {
  const last = key.split('.').pop();
  if (last === 'access_pair') {
    if (isSeq(node)) {
      at(node, `mirror ${name}: ${key} as a list holds literal credentials (deprecated in Spack); use a mapping with id_variable and secret_variable naming environment variables`);
      return;
    }
    if (!isMap(node)) {
      at(node ?? keyNode, `mirror ${name}: ${key} must be a mapping with secret_variable and one of id / id_variable`);
      return;
    }
    const seen = new Set<string>();
    for (const pair of node.items) {
      if (!isScalar(pair.key)) continue;
      const sub = String(pair.key.value);
      seen.add(sub);
      if (!ACCESS_PAIR_KEYS.has(sub)) {
        at(pair.key, `mirror ${name}: ${key}: unknown key '${sub}' (allowed: id, id_variable, secret_variable; never a literal secret)`);
        continue;
      }
      const value = stringValue(pair.value as YamlNode | null, `mirror ${name}: ${key}.${sub}`, at);
      if (value === undefined) continue;
      if (sub === 'id') {
        if (!/^[A-Za-z0-9_.@-]+$/.test(value)) at(pair.value as YamlNode, `mirror ${name}: ${key}.id must be a plain user name (letters, digits, '_', '.', '@', '-')`);
        else credentials.id = value;
        continue;
      }
      if (!VARIABLE_NAME.test(value)) at(pair.value as YamlNode, `mirror ${name}: ${key}.${sub} must name an environment variable (letters, digits, '_'), not hold a value`);
      else {
        credentialVariables.push(value);
        if (sub === 'id_variable') credentials.idVariable = value;
        else credentials.secretVariable = value;
      }
    }
    if (!seen.has('secret_variable')) at(node, `mirror ${name}: ${key} needs secret_variable (the name of the environment variable holding the password or token)`);
    if (seen.has('id') === seen.has('id_variable')) at(node, `mirror ${name}: ${key} needs exactly one of id / id_variable`);
  } else if (last === 'access_token_variable') {
    const value = stringValue(node, `mirror ${name}: ${key}`, at);
    if (value !== undefined && !VARIABLE_NAME.test(value)) at(node, `mirror ${name}: ${key} must name an environment variable, not hold a token`);
    else if (value !== undefined) credentialVariables.push(value);
  } else {
    stringValue(node, `mirror ${name}: ${key}`, at);
  }
}
