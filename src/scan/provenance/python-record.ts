// Python's record of installed files: <site>/<name>-<version>.dist-info/RECORD, CSV lines
// `path,sha256=<urlsafe base64, no padding>,size` with paths relative to <site>. Pure.

/** One file a RECORD names with a sha256 (other algorithms and unhashed lines are not used). */
export interface PythonFileRecord {
  /** Layer path (relative to /, `..` resolved). */
  path: string;
  sha256: string;
}

/** `…/site-packages/Twisted-22.4.0.dist-info/RECORD` → distribution name and version. */
export function parseDistInfoName(recordPath: string): { name: string; version: string } | null {
  const parts = recordPath.split('/');
  const dir = parts[parts.length - 2] ?? '';
  const match = /^(.+?)-([^-]+)\.dist-info$/.exec(dir);
  return match ? { name: match[1]!, version: match[2]! } : null;
}

/** Split one CSV line (RFC 4180 quoting, as Python's csv module writes it). */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

/** Resolve `a/b/../c` and drop `.`; null when it climbs above the root. */
export function resolveRelative(path: string): string | null {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return null;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

/** The sha256-recorded files of a RECORD at `recordPath` (a layer path), as layer paths. */
export function parsePythonRecord(recordPath: string, text: string): PythonFileRecord[] {
  const parts = recordPath.split('/');
  const site = parts.slice(0, -2).join('/');
  const out: PythonFileRecord[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line) continue;
    const [file, hash] = splitCsvLine(line);
    if (!file || !hash?.startsWith('sha256=')) continue;
    const bytes = Buffer.from(hash.slice('sha256='.length), 'base64url');
    if (bytes.length !== 32) continue;
    // Absolute paths (scripts installed outside site) are layer paths as they are.
    const path = file.startsWith('/') ? resolveRelative(file) : resolveRelative(site ? `${site}/${file}` : file);
    if (path) out.push({ path, sha256: bytes.toString('hex') });
  }
  return out;
}
