/**
 * The single redactor every output path goes through (errors, logs, reports).
 *
 * Two layers: exact secrets registered at run time (the signing key's armored text, its base64
 * form, passphrases, registry tokens) are replaced wherever they appear; and anything shaped like
 * private key material (armored blocks, GnuPG key-file bodies) is censored even if it was never
 * registered, so a key found by the scanner cannot be echoed back in a report.
 */

const registered = new Set<string>();
const MIN_SECRET_LENGTH = 6;

/** Remember a secret so that no later output can contain it. Short values are refused: they would censor ordinary words. */
export function registerSecret(secret: string | undefined | null): void {
  if (!secret) return;
  const trimmed = secret.trim();
  if (trimmed.length < MIN_SECRET_LENGTH) return;
  registered.add(trimmed);
  // The same secret is often seen re-wrapped: base64 of it, or one line of a multi-line value.
  const base64 = Buffer.from(trimmed, 'utf8').toString('base64');
  registered.add(base64);
  // … and base64 wrapped as tools print it (64 columns: PEM, OpenPGP armor; 76: MIME, `base64`).
  for (const width of [64, 76]) {
    for (let at = 0; at + 16 <= base64.length; at += width) registered.add(base64.slice(at, at + width));
  }
  for (const line of trimmed.split(/\r?\n/)) {
    if (line.trim().length >= 16) registered.add(line.trim());
  }
}

/** Forget every registered secret (tests only). */
export function clearRegisteredSecrets(): void {
  registered.clear();
}

const PRIVATE_BLOCK = /(-----BEGIN ((?:PGP PRIVATE KEY BLOCK)|(?:[A-Z0-9 ]*PRIVATE KEY))-----)[\s\S]*?(?:(-----END \2-----)|$)/g;
const JSON_ESCAPED_PRIVATE_BLOCK = /(-----BEGIN ((?:PGP PRIVATE KEY BLOCK)|(?:[A-Z0-9 ]*PRIVATE KEY))-----)(?:\\r)?\\n[^"]*?(?:(-----END \2-----)|(?="))/g;
/** The first line of an armored or PEM private key block (group 1: its label). */
export const PRIVATE_BLOCK_BEGIN = /-----BEGIN ((?:PGP PRIVATE KEY BLOCK)|(?:[A-Z0-9 ]*PRIVATE KEY))-----/g;
/**
 * The opening of a GnuPG key S-expression: `(private-key (` or canonical `(11:private-key(`; a
 * path such as `private-keys-v1.d` does not open one.
 */
export const GNUPG_KEY_SEXP_START = /\((?:\d+:)?(protected-private-key|private-key)(?=\s*\()/g;
/** A PuTTY .ppk header that says how many base64 lines of private key follow (group 1). */
export const PUTTY_PRIVATE_LINES = /Private-Lines:[ \t]*(\d+)[ \t]*(?:\r?\n|$)/g;

/** Replace secrets and anything shaped like private key material with a censor mark. */
export function redact(text: string): string {
  let out = text;
  for (const secret of registered) {
    if (out.includes(secret)) out = out.split(secret).join('[REDACTED]');
  }
  out = out.replace(JSON_ESCAPED_PRIVATE_BLOCK, (_m, begin: string, _l, end?: string) => `${begin}\\n[REDACTED]${end ?? ''}`);
  out = out.replace(PRIVATE_BLOCK, (_m, begin: string, _l, end?: string) => `${begin}\n[REDACTED]\n${end ?? ''}`);
  return censorJsonPuttyPrivateLines(censorPuttyPrivateLines(censorKeySexps(out)));
}

/** A PuTTY `Private-Lines: N` header inside a JSON string, its line break the `\n` escape (group 1: N). */
const JSON_PUTTY_PRIVATE_LINES = /Private-Lines:[ \t]*(\d+)[ \t]*(?:\\r)?\\n/g;

/** The same for a .ppk escaped in a JSON string: N pieces ending in a `\n` escape, or at the string's end. */
function censorJsonPuttyPrivateLines(text: string): string {
  let out = '';
  let from = 0;
  for (const match of text.matchAll(JSON_PUTTY_PRIVATE_LINES)) {
    const start = match.index + match[0].length;
    if (start < from) continue;
    let end = start;
    for (let left = Number(match[1]); left > 0 && end < text.length; left--) {
      const escape = text.indexOf('\\n', end);
      const quote = text.indexOf('"', end);
      if (quote >= 0 && (escape < 0 || quote < escape)) {
        end = quote;
        break;
      }
      end = escape < 0 ? text.length : escape + 2;
    }
    if (end === start) continue;
    out += `${text.slice(from, start)}[REDACTED]${text.endsWith('\\n', end) ? '\\n' : ''}`;
    from = end;
  }
  return out + text.slice(from);
}

/** Replace the N lines after a PuTTY `Private-Lines: N` header (the private key's base64) with a mark. */
function censorPuttyPrivateLines(text: string): string {
  let out = '';
  let from = 0;
  for (const match of text.matchAll(PUTTY_PRIVATE_LINES)) {
    const start = match.index + match[0].length;
    if (start <= from) continue;
    let end = start;
    for (let left = Number(match[1]); left > 0 && end < text.length; left--) {
      const newline = text.indexOf('\n', end);
      end = newline < 0 ? text.length : newline + 1;
    }
    if (end === start) continue;
    out += `${text.slice(from, start)}[REDACTED]${text[end - 1] === '\n' ? '\n' : ''}`;
    from = end;
  }
  return out + text.slice(from);
}

/** Replace each GnuPG key S-expression, up to its balancing parenthesis (or the end), with a mark. */
function censorKeySexps(text: string): string {
  let out = '';
  let from = 0;
  for (const match of text.matchAll(GNUPG_KEY_SEXP_START)) {
    const start = match.index;
    if (start < from) continue;
    const end = balanceSexp(text, start, openSexp());
    out += `${text.slice(from, start)}(${match[1]} [REDACTED])`;
    from = end < 0 ? text.length : end;
  }
  return out + text.slice(from);
}

/**
 * How far an S-expression read in pieces (lines) has got: open lists, and whether inside an atom.
 * `lost`: where the expression ends can no longer be known (it is censored to the end of the output).
 */
export type SexpBalance = { depth: number; quoted: boolean; escaped: boolean; skip: number; lost: boolean };

export function openSexp(): SexpBalance {
  return { depth: 0, quoted: false, escaped: false, skip: 0, lost: false };
}

function isAscii(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * Follow the parentheses of an S-expression from `at`: the index just after the one that balances
 * them, or -1 with `state` kept for the next piece. A parenthesis inside a quoted string (gpg-agent
 * writes an S2K salt as one) or inside a canonical `N:` atom does not count. A canonical length counts
 * bytes, and only an ASCII character is surely one byte of the text's source: decoded as UTF-8, a
 * binary atom is shorter in characters, and skipping N characters would pass over the parentheses
 * after it and end the censoring early (a key's later atoms shown). So a canonical atom with any
 * other character loses the balance: -1 from then on, the rest is censored (fail closed).
 */
export function balanceSexp(text: string, at: number, state: SexpBalance): number {
  if (state.lost) return -1;
  // Canonical atoms follow each other with nothing between: `(1:q2:@A)`.
  let afterAtom = false;
  for (let i = at; i < text.length; i++) {
    const c = text[i]!;
    const atomStart = afterAtom || '( )\t\r\n'.includes(text[i - 1] ?? ' ');
    afterAtom = false;
    if (state.skip > 0) {
      const take = Math.min(state.skip, text.length - i);
      if (!isAscii(text, i, i + take)) {
        state.lost = true;
        return -1;
      }
      state.skip -= take;
      i += take - 1;
      afterAtom = state.skip === 0;
    } else if (state.quoted) {
      if (state.escaped) state.escaped = false;
      else if (c === '\\') state.escaped = true;
      else if (c === '"') state.quoted = false;
    } else if (c === '"') {
      state.quoted = true;
    } else if (c === '(') {
      state.depth++;
    } else if (c === ')') {
      if (--state.depth === 0) return i + 1;
    } else if (c >= '0' && c <= '9' && atomStart) {
      const length = /^(\d+):/.exec(text.slice(i, i + 12));
      if (length) {
        state.skip = Number(length[1]);
        i += length[0].length - 1;
      }
    }
  }
  return -1;
}
