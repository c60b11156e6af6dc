/** An S-expression: a list of nodes or an atom (a byte string). */
export type Sexp = Sexp[] | Uint8Array;

/** The outcome of reading one S-expression from a byte string that may be cut off. */
export type SexpParse = { kind: 'ok'; value: Sexp[]; end: number } | { kind: 'incomplete' } | { kind: 'invalid'; reason: string };

const MAX_DEPTH = 32;
const TOKEN = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-./_:*+=%') TOKEN[c.charCodeAt(0)] = 1;
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** The one-letter escapes of a quoted string (`\b \t \v \n \f \r \" \' \\`) and the byte each stands for. */
const SIMPLE_ESCAPES: Record<number, number> = { 0x62: 8, 0x74: 9, 0x76: 11, 0x6e: 10, 0x66: 12, 0x72: 13, 0x22: 0x22, 0x27: 0x27, 0x5c: 0x5c };

function isOctal(c: number): boolean {
  return c >= 0x30 && c <= 0x37;
}

class Incomplete extends Error {}
class Invalid extends Error {}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0x0b || c === 0x0c;
}

/**
 * Parse one S-expression list starting at `start` (which must be '('), in either canonical
 * (`(11:private-key(3:rsa(1:n257:...` as gpg-agent wrote before extended key files) or advanced
 * form (`(private-key (rsa (n #00C3...#)))`, with whitespace and line folding, as the extended
 * `Key:` format has it). Distinguishes data that is cut off from data that is not an S-expression.
 */
export function parseSexp(bytes: Uint8Array, start = 0): SexpParse {
  let pos = start;
  const need = (count: number): void => {
    if (pos + count > bytes.length) throw new Incomplete();
  };
  const readList = (depth: number): Sexp[] => {
    if (depth > MAX_DEPTH) throw new Invalid('nested too deeply');
    need(1);
    if (bytes[pos] !== 0x28) throw new Invalid('expected (');
    pos++;
    const items: Sexp[] = [];
    for (;;) {
      need(1);
      const c = bytes[pos]!;
      if (isSpace(c)) {
        pos++;
      } else if (c === 0x29) {
        pos++;
        return items;
      } else if (c === 0x28) {
        items.push(readList(depth + 1));
      } else if (c === 0x5b) {
        // Display hint [type]: skip it, the value follows.
        const close = bytes.indexOf(0x5d, pos);
        if (close === -1) throw new Incomplete();
        pos = close + 1;
      } else {
        items.push(readAtom());
      }
    }
  };
  const readAtom = (): Uint8Array => {
    const c = bytes[pos]!;
    if (c >= 0x30 && c <= 0x39) {
      let end = pos;
      while (end < bytes.length && bytes[end]! >= 0x30 && bytes[end]! <= 0x39) end++;
      if (end === bytes.length) throw new Incomplete();
      if (bytes[end] === 0x3a) {
        const length = Number(Buffer.from(bytes.subarray(pos, end)).toString('latin1'));
        if (end - pos > 7) throw new Invalid('absurd length');
        pos = end + 1;
        need(length);
        const out = bytes.subarray(pos, pos + length);
        pos += length;
        return out;
      }
    }
    if (c === 0x23) return readHex();
    if (c === 0x22) return readQuoted();
    if (c === 0x7c) return readBase64();
    if (TOKEN[c]) {
      const begin = pos;
      while (pos < bytes.length && TOKEN[bytes[pos]!]) pos++;
      if (pos === bytes.length) throw new Incomplete();
      return bytes.subarray(begin, pos);
    }
    throw new Invalid('unexpected byte');
  };
  const readHex = (): Uint8Array => {
    pos++;
    const digits: number[] = [];
    for (;;) {
      need(1);
      const c = bytes[pos++]!;
      if (c === 0x23) break;
      if (isSpace(c)) continue;
      const value = HEX[c]!;
      if (value < 0) throw new Invalid('bad hex');
      digits.push(value);
    }
    if (digits.length % 2 !== 0) throw new Invalid('odd hex');
    const out = new Uint8Array(digits.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = (digits[2 * i]! << 4) | digits[2 * i + 1]!;
    return out;
  };
  // The escapes libgcrypt reads in a quoted string (and gpg-agent writes: a salt byte below 0x20 comes
  // out as \xHH), plus the backslash-newline line continuation in either order of CR and LF.
  const readEscape = (): number[] => {
    need(1);
    const e = bytes[pos++]!;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) return [simple];
    if (e === 0x0a || e === 0x0d) {
      const pair = e === 0x0a ? 0x0d : 0x0a;
      if (pos < bytes.length && bytes[pos] === pair) pos++;
      return [];
    }
    if (e === 0x78) {
      need(2);
      const high = HEX[bytes[pos]!]!;
      const low = HEX[bytes[pos + 1]!]!;
      if (high < 0 || low < 0) throw new Invalid('bad \\x escape');
      pos += 2;
      return [(high << 4) | low];
    }
    if (isOctal(e)) {
      need(2);
      if (!isOctal(bytes[pos]!) || !isOctal(bytes[pos + 1]!)) throw new Invalid('bad octal escape');
      const value = ((e - 0x30) << 6) | ((bytes[pos]! - 0x30) << 3) | (bytes[pos + 1]! - 0x30);
      pos += 2;
      if (value > 0xff) throw new Invalid('bad octal escape');
      return [value];
    }
    throw new Invalid('unsupported escape');
  };
  const readQuoted = (): Uint8Array => {
    pos++;
    const out: number[] = [];
    for (;;) {
      need(1);
      const c = bytes[pos++]!;
      if (c === 0x22) break;
      if (c === 0x5c) out.push(...readEscape());
      else out.push(c);
      if (out.length > 65536) throw new Invalid('string too long');
    }
    return new Uint8Array(out);
  };
  const readBase64 = (): Uint8Array => {
    const close = bytes.indexOf(0x7c, pos + 1);
    if (close === -1) throw new Incomplete();
    const text = Buffer.from(bytes.subarray(pos + 1, close))
      .toString('latin1')
      .replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/=]*$/.test(text)) throw new Invalid('bad base64');
    pos = close + 1;
    return new Uint8Array(Buffer.from(text, 'base64'));
  };
  try {
    const value = readList(0);
    return { kind: 'ok', value, end: pos };
  } catch (error) {
    if (error instanceof Incomplete) return { kind: 'incomplete' };
    if (error instanceof Invalid) return { kind: 'invalid', reason: error.message };
    throw error;
  }
}

/** Canonical encoding of an S-expression (`(3:abc(1:n2:..))`), as gpg-agent's old key files use. */
export function formatCanonicalSexp(value: Sexp): Uint8Array {
  const parts: Uint8Array[] = [];
  const walk = (node: Sexp): void => {
    if (node instanceof Uint8Array) {
      parts.push(Buffer.from(`${node.length}:`, 'latin1'), node);
      return;
    }
    parts.push(Buffer.from('('));
    for (const child of node) walk(child);
    parts.push(Buffer.from(')'));
  };
  walk(value);
  return new Uint8Array(Buffer.concat(parts));
}

/** The atom as a latin-1 string (for names like `rsa`, `curve`). */
export function atomText(node: Sexp | undefined): string | null {
  return node instanceof Uint8Array ? Buffer.from(node).toString('latin1') : null;
}

/** The first sub-list of `list` whose first atom is `name`. */
export function findList(list: Sexp[], name: string): Sexp[] | null {
  for (const item of list) {
    if (Array.isArray(item) && atomText(item[0]) === name) return item;
  }
  return null;
}
