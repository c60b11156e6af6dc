import { EicBuildError } from '../errors.js';

/**
 * `docker buildx build` flag grammars as typed values. Every `parseX` has a `formatX` such that
 * parseX(formatX(v)) deep-equals v, so a CI script moves over mechanically and eic-build can hand
 * the same spelling on to the client. Modelled on buildx's util/buildflags.
 */

/** `--secret id=ID,src=PATH` or `--secret id=ID,env=VAR` (buildx spellings, incl. `type=`, `source=`). */
export type SecretSpec = { kind: 'file'; id: string; src: string } | { kind: 'env'; id: string; env: string };

/** `--build-context NAME=VALUE`. */
export type BuildContextSpec =
  | { kind: 'path'; name: string; path: string }
  | { kind: 'docker-image'; name: string; ref: string }
  | { kind: 'oci-layout'; name: string; path: string }
  | { kind: 'target'; name: string; stage: string }
  | { kind: 'url'; name: string; url: string };

/** `--cache-from` / `--cache-to` / `--output`: a type plus ordered attributes. */
export interface AttrSpec {
  type: string;
  attrs: [string, string][];
}

/** `--provenance`: eic-build sets it explicitly, and never to `max` (that records build-arg values). */
export type ProvenanceSpec = { kind: 'off' } | { kind: 'min' };

/** `--progress`. `json` is eic-build's own: a JSON summary on stdout, BuildKit progress as plain on stderr. */
export type ProgressMode = 'auto' | 'plain' | 'tty' | 'quiet' | 'json';

/** `--network`: the networking mode of RUN steps (buildx spellings). `host` needs the network.host entitlement. */
export type NetworkMode = 'default' | 'host' | 'none';

/** `--build-arg K=V` (a bare `K` takes the value from the environment, as buildx does). */
export interface BuildArgSpec {
  name: string;
  value: string | undefined;
}

function usage(flag: string, value: string, why: string, hint: string): EicBuildError {
  return new EicBuildError('usage', `--${flag} '${value}': ${why}`, { hint });
}

/** Split `a=1,b=2` respecting CSV double quotes (buildx uses encoding/csv for these fields). */
export function splitFields(value: string): string[] {
  const fields: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '"') {
      if (quoted && value[i + 1] === '"') {
        current += '"';
        i++;
      } else quoted = !quoted;
    } else if (c === ',' && !quoted) {
      fields.push(current);
      current = '';
    } else current += c;
  }
  if (quoted) throw new EicBuildError('usage', `unbalanced quote in '${value}'`, { hint: 'close the double quote, or leave quotes out.' });
  fields.push(current);
  return fields;
}

function quoteField(field: string): string {
  return /[",\n]/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

function keyValue(field: string): [string, string | undefined] {
  const eq = field.indexOf('=');
  return eq < 0 ? [field.trim().toLowerCase(), undefined] : [field.slice(0, eq).trim().toLowerCase(), field.slice(eq + 1)];
}

const SECRET_ID = /^[A-Za-z0-9_.-]+$/;

/** Parse one `--secret` value. */
export function parseSecretSpec(value: string): SecretSpec {
  const hint = "use 'id=NAME,src=FILE' or 'id=NAME,env=VARIABLE' (docker buildx spelling).";
  let type: string | undefined;
  let id: string | undefined;
  let src: string | undefined;
  let env: string | undefined;
  for (const field of splitFields(value)) {
    const [k, v] = keyValue(field);
    if (v === undefined) throw usage('secret', value, `field '${field}' has no '='`, hint);
    switch (k) {
      case 'type':
        if (v !== 'file' && v !== 'env') throw usage('secret', value, `unknown type '${v}'`, "type is 'file' or 'env'.");
        type = v;
        break;
      case 'id':
        id = v;
        break;
      case 'src':
      case 'source':
        src = v;
        break;
      case 'env':
        env = v;
        break;
      default:
        throw usage('secret', value, `unknown field '${k}'`, hint);
    }
  }
  if (!id) throw usage('secret', value, 'no id', hint);
  if (!SECRET_ID.test(id)) throw usage('secret', value, `id '${id}' has characters BuildKit does not accept`, 'use letters, digits, ., _ and - only.');
  if (src !== undefined && env !== undefined) throw usage('secret', value, 'both src and env given', 'give one source per secret.');
  if (type === 'env' || (type === undefined && env !== undefined)) {
    // buildx: for type=env the variable may be given as env= or src=, and defaults to the id.
    return { kind: 'env', id, env: env ?? src ?? id };
  }
  if (env !== undefined) throw usage('secret', value, 'type=file with env=', 'use src=FILE for a file secret.');
  return { kind: 'file', id, src: src ?? id };
}

/** Canonical spelling of a secret spec. */
export function formatSecretSpec(spec: SecretSpec): string {
  return spec.kind === 'env' ? `id=${quoteField(spec.id)},env=${quoteField(spec.env)}` : `id=${quoteField(spec.id)},src=${quoteField(spec.src)}`;
}

const CONTEXT_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*(?:\/[a-zA-Z0-9_.-]+)*(?::[a-zA-Z0-9_.-]+)?$/;

/** Parse one `--build-context NAME=VALUE`. */
export function parseBuildContextSpec(value: string): BuildContextSpec {
  const eq = value.indexOf('=');
  const hint = 'use NAME=PATH, NAME=docker-image://REF, NAME=oci-layout://PATH, NAME=target:STAGE or NAME=URL.';
  if (eq <= 0 || eq === value.length - 1) throw usage('build-context', value, 'expected NAME=VALUE', hint);
  const name = value.slice(0, eq);
  const source = value.slice(eq + 1);
  if (!CONTEXT_NAME.test(name)) throw usage('build-context', value, `invalid context name '${name}'`, 'names are lowercase image-style names such as "base" or "alpine:3".');
  if (source.startsWith('docker-image://')) {
    const ref = source.slice('docker-image://'.length);
    if (!ref) throw usage('build-context', value, 'empty image reference', hint);
    return { kind: 'docker-image', name, ref };
  }
  if (source.startsWith('oci-layout://')) return { kind: 'oci-layout', name, path: source.slice('oci-layout://'.length) };
  if (source.startsWith('target:')) return { kind: 'target', name, stage: source.slice('target:'.length) };
  if (/^(https?:\/\/|git@|git:\/\/)/.test(source)) return { kind: 'url', name, url: source };
  return { kind: 'path', name, path: source };
}

/** Canonical spelling of a build context. */
export function formatBuildContextSpec(spec: BuildContextSpec): string {
  switch (spec.kind) {
    case 'path':
      return `${spec.name}=${spec.path}`;
    case 'docker-image':
      return `${spec.name}=docker-image://${spec.ref}`;
    case 'oci-layout':
      return `${spec.name}=oci-layout://${spec.path}`;
    case 'target':
      return `${spec.name}=target:${spec.stage}`;
    case 'url':
      return `${spec.name}=${spec.url}`;
  }
}

function parseAttrSpec(flag: string, value: string, shorthand: (v: string) => AttrSpec): AttrSpec {
  const fields = splitFields(value);
  if (fields.length === 1 && !fields[0]!.includes('=')) return shorthand(fields[0]!);
  let type: string | undefined;
  const attrs: [string, string][] = [];
  for (const field of fields) {
    const [k, v] = keyValue(field);
    if (v === undefined) throw usage(flag, value, `field '${field}' has no '='`, `use type=TYPE,KEY=VALUE,... as docker buildx does.`);
    if (k === 'type') type = v;
    else attrs.push([k, v]);
  }
  if (!type) throw usage(flag, value, 'no type= field', `use type=TYPE,KEY=VALUE,... as docker buildx does.`);
  return { type, attrs };
}

function formatAttrSpec(spec: AttrSpec): string {
  return [`type=${spec.type}`, ...spec.attrs.map(([k, v]) => `${k}=${quoteField(v)}`)].join(',');
}

/** The value of one attribute, last one wins (as in buildx). */
export function attr(spec: AttrSpec, key: string): string | undefined {
  let found: string | undefined;
  for (const [k, v] of spec.attrs) if (k === key) found = v;
  return found;
}

const CACHE_TYPES = new Set(['registry', 'local', 'inline', 'gha', 's3', 'azblob']);

/** Parse `--cache-from` / `--cache-to` (a bare value means `type=registry,ref=VALUE`). */
export function parseCacheSpec(value: string, flag: 'cache-from' | 'cache-to' = 'cache-from'): AttrSpec {
  const spec = parseAttrSpec(flag, value, (ref) => ({ type: 'registry', attrs: [['ref', ref]] }));
  if (!CACHE_TYPES.has(spec.type)) throw usage(flag, value, `unknown cache type '${spec.type}'`, `use one of: ${[...CACHE_TYPES].join(', ')}.`);
  const mode = attr(spec, 'mode');
  if (mode !== undefined && mode !== 'min' && mode !== 'max') throw usage(flag, value, `mode '${mode}'`, 'mode is min or max.');
  return spec;
}

/** Canonical spelling of a cache spec. */
export const formatCacheSpec: (spec: AttrSpec) => string = formatAttrSpec;

/** True when this cache export uploads the layers of every intermediate stage. */
export function isMaxModeCacheExport(spec: AttrSpec): boolean {
  return attr(spec, 'mode') === 'max' && spec.type !== 'inline';
}

const OUTPUT_TYPES = new Set(['local', 'tar', 'oci', 'docker', 'image', 'registry', 'cacheonly']);

/** Parse `--output` (a bare path means `type=local,dest=PATH`; `-` means `type=tar,dest=-`). */
export function parseOutputSpec(value: string): AttrSpec {
  const spec = parseAttrSpec('output', value, (dest) => (dest === '-' ? { type: 'tar', attrs: [['dest', '-']] } : { type: 'local', attrs: [['dest', dest]] }));
  if (!OUTPUT_TYPES.has(spec.type)) throw usage('output', value, `unknown output type '${spec.type}'`, `use one of: ${[...OUTPUT_TYPES].join(', ')}.`);
  if ((spec.type === 'local' || spec.type === 'tar' || spec.type === 'oci') && !attr(spec, 'dest')) {
    throw usage('output', value, `type=${spec.type} needs dest=`, `add dest=PATH.`);
  }
  return spec;
}

/** Canonical spelling of an output spec. */
export const formatOutputSpec: (spec: AttrSpec) => string = formatAttrSpec;

const PLATFORM = /^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/;

/** Parse `--platform a,b` (repeatable; each value may itself be a comma list). */
export function parsePlatforms(values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const raw of value.split(',')) {
      const p = raw.trim();
      if (!p) continue;
      if (!PLATFORM.test(p)) throw usage('platform', value, `'${p}' is not OS/ARCH[/VARIANT]`, 'for example linux/amd64,linux/arm64.');
      if (!out.includes(p)) out.push(p);
    }
  }
  return out;
}

/** Canonical spelling of a platform list. */
export function formatPlatforms(platforms: string[]): string {
  return platforms.join(',');
}

/** Parse `--provenance`. `mode=max` is refused: it records every build-arg value in the attestation. */
export function parseProvenanceSpec(value: string): ProvenanceSpec {
  const v = value.trim().toLowerCase();
  if (v === 'false' || v === '0' || v === 'off') return { kind: 'off' };
  if (v === 'true' || v === '1' || v === 'mode=min' || v === 'min') return { kind: 'min' };
  const fields = splitFields(v);
  const mode = fields.map(keyValue).find(([k]) => k === 'mode')?.[1];
  if (mode === 'max' || v === 'max') {
    throw usage(
      'provenance',
      value,
      'mode=max records the value of every build-arg in a published attestation',
      'use --provenance mode=min (the default where supported) or --provenance false.',
    );
  }
  if (mode === 'min') return { kind: 'min' };
  throw usage('provenance', value, 'not understood', "use 'mode=min' or 'false'.");
}

/** Canonical spelling of a provenance spec. */
export function formatProvenanceSpec(spec: ProvenanceSpec): string {
  return spec.kind === 'off' ? 'false' : 'mode=min';
}

/** Parse `--progress`. */
export function parseProgressMode(value: string): ProgressMode {
  if (value === 'auto' || value === 'plain' || value === 'tty' || value === 'quiet' || value === 'json') return value;
  throw usage('progress', value, 'unknown mode', 'use auto, plain, tty, quiet or json.');
}

const ARG_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parse `--build-arg K=V` or `--build-arg K`. */
export function parseBuildArg(value: string): BuildArgSpec {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (!ARG_NAME.test(name)) throw usage('build-arg', name, 'not a valid ARG name', 'use NAME=VALUE with NAME made of letters, digits and _.');
  return { name, value: eq < 0 ? undefined : value.slice(eq + 1) };
}

/** Canonical spelling of a build arg. */
export function formatBuildArg(spec: BuildArgSpec): string {
  return spec.value === undefined ? spec.name : `${spec.name}=${spec.value}`;
}

/** Parse `--network` (buildx: default, host, none). */
export function parseNetworkMode(value: string): NetworkMode {
  if (value === 'default' || value === 'host' || value === 'none') return value;
  throw usage('network', value, 'unknown networking mode', "use default, host (reaches a registry on this machine's loopback) or none.");
}

/** Canonical spelling of a networking mode. */
export function formatNetworkMode(mode: NetworkMode): string {
  return mode;
}
