// dpkg's own records of installed files: var/lib/dpkg/info/<package>[:<arch>].md5sums (md5 of each
// file dpkg unpacked, conffiles excepted) and var/lib/dpkg/status (versions; conffiles' md5). Pure.

/** One dpkg-recorded file. */
export interface DpkgFileRecord {
  path: string;
  md5: string;
}

/** An installed package as the status file describes it. */
export interface DpkgPackage {
  name: string;
  architecture: string | null;
  version: string;
  /** Conffiles with their md5 (paths without the leading `/`). */
  conffiles: DpkgFileRecord[];
}

/** `info/libfoo1:amd64.md5sums` → package and architecture. */
export function parseMd5sumsName(path: string): { name: string; architecture: string | null } | null {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (!base.endsWith('.md5sums')) return null;
  const stem = base.slice(0, -'.md5sums'.length);
  const colon = stem.indexOf(':');
  if (stem.length === 0 || colon === 0) return null;
  return colon < 0 ? { name: stem, architecture: null } : { name: stem.slice(0, colon), architecture: stem.slice(colon + 1) };
}

const MD5_LINE = /^([0-9a-f]{32}) [ *]?(.+)$/;

/** One md5sums line `<md5>  <path>` (path relative to /), or null when malformed. */
export function parseMd5sumsLine(line: string): DpkgFileRecord | null {
  const match = MD5_LINE.exec(line.trimEnd());
  if (!match) return null;
  const path = match[2]!.trimStart().replace(/^\.?\/+/, '');
  return path ? { path, md5: match[1]! } : null;
}

/** Every well-formed line of an md5sums file. */
export function parseDpkgMd5sums(text: string): DpkgFileRecord[] {
  return text.split('\n').flatMap((line) => parseMd5sumsLine(line) ?? []);
}

/** Installed packages of a status file (RFC 822-like stanzas); packages not fully installed are left out. */
export function parseDpkgStatus(text: string): DpkgPackage[] {
  const out: DpkgPackage[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let current: string | null = null;
    for (const line of stanza.split('\n')) {
      if (/^\s/.test(line)) {
        if (current) fields.set(current, `${fields.get(current)}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      current = line.slice(0, colon).toLowerCase();
      fields.set(current, line.slice(colon + 1).trim());
    }
    const name = fields.get('package');
    const version = fields.get('version');
    const status = fields.get('status') ?? '';
    if (!name || !version || !/\binstalled$/.test(status) || /\bnot-installed\b/.test(status)) continue;
    const conffiles: DpkgFileRecord[] = [];
    for (const line of (fields.get('conffiles') ?? '').split('\n')) {
      const [file, md5, flag] = line.trim().split(/\s+/);
      if (file && md5 && /^[0-9a-f]{32}$/.test(md5) && flag !== 'obsolete') conffiles.push({ path: file.replace(/^\/+/, ''), md5 });
    }
    out.push({ name, architecture: fields.get('architecture') ?? null, version, conffiles });
  }
  return out;
}
