import { curveByName } from './curves.js';
import { computeKeygrip } from './keygrip.js';
import { atomText, findList, parseSexp, type Sexp, type SexpParse } from './sexp.js';

/** What a gpg-agent key file (`private-keys-v1.d/<keygrip>.key`) holds. */
export type GnupgKeyFile = {
  /** private: clear secret; protected: passphrase-encrypted secret; shadowed: smartcard stub, no secret. */
  kind: 'private' | 'protected' | 'shadowed';
  algorithm: 'rsa' | 'dsa' | 'elg' | 'ecc';
  /** Keygrip computed from the public parameters in the file (null for an unknown curve). */
  keygrip: string | null;
  curve: string | null;
  /** Byte length of the S-expression (from its opening parenthesis). */
  length: number;
};

/** The outcome of reading a key file's S-expression, which may be cut off. */
export type GnupgKeyFileParse = { kind: 'ok'; file: GnupgKeyFile } | { kind: 'incomplete' } | { kind: 'invalid'; reason: string };

const KINDS: Record<string, GnupgKeyFile['kind']> = {
  'private-key': 'private',
  'protected-private-key': 'protected',
  'shadowed-private-key': 'shadowed',
};

function atom(list: Sexp[], name: string): Uint8Array | null {
  const found = findList(list, name);
  const value = found?.[1];
  return value instanceof Uint8Array ? value : null;
}

function requireAtoms(list: Sexp[], names: string, minLength: number): Uint8Array[] | string {
  const out: Uint8Array[] = [];
  for (const name of names) {
    const value = atom(list, name);
    if (!value || value.length < (name === 'e' ? 1 : minLength)) return `missing or short parameter ${name}`;
    out.push(value);
  }
  return out;
}

/**
 * Parse the S-expression of a gpg-agent key file starting at `start` (the '(' before
 * `private-key`, `protected-private-key` or `shadowed-private-key`), canonical or advanced form,
 * validate that its parameters are real key material (so format strings like
 * `(private-key(ecc(curve %s)(q%b)...` are rejected), and compute its keygrip from the public
 * parameters exactly as gpg-agent names the file.
 */
export function parseGnupgKeyFile(bytes: Uint8Array, start = 0): GnupgKeyFileParse {
  const canonical = isCanonical(bytes, start);
  const parsed = readKeyFileExpression(bytes, start);
  if (parsed.kind !== 'ok') return parsed;
  const top = parsed.value;
  const kind = KINDS[atomText(top[0]) ?? ''];
  if (!kind) return { kind: 'invalid', reason: 'not a key S-expression' };
  const algoList = top[1];
  if (!Array.isArray(algoList)) return { kind: 'invalid', reason: 'no algorithm list' };
  const algoName = atomText(algoList[0]);
  const length = canonical ? parsed.end - start : parsed.end;
  let algorithm: GnupgKeyFile['algorithm'];
  let keygrip: string | null;
  let curveName: string | null = null;
  switch (algoName) {
    case 'rsa': {
      const values = requireAtoms(algoList, 'ne', 64);
      if (typeof values === 'string') return { kind: 'invalid', reason: values };
      algorithm = 'rsa';
      keygrip = computeKeygrip({ kind: 'rsa', n: values[0]! });
      break;
    }
    case 'dsa': {
      const values = requireAtoms(algoList, 'pqgy', 20);
      if (typeof values === 'string') return { kind: 'invalid', reason: values };
      algorithm = 'dsa';
      keygrip = computeKeygrip({ kind: 'dsa', p: values[0]!, q: values[1]!, g: values[2]!, y: values[3]! });
      break;
    }
    case 'elg': {
      const values = requireAtoms(algoList, 'pgy', 1);
      if (typeof values === 'string') return { kind: 'invalid', reason: values };
      if (values[0]!.length < 64) return { kind: 'invalid', reason: 'short elgamal prime' };
      algorithm = 'elg';
      keygrip = computeKeygrip({ kind: 'elgamal', p: values[0]!, g: values[1]!, y: values[2]! });
      break;
    }
    case 'ecc':
    case 'ecdsa':
    case 'ecdh':
    case 'eddsa': {
      curveName = atomText(findList(algoList, 'curve')?.[1]);
      const q = atom(algoList, 'q');
      if (!curveName || !q || q.length < 32) return { kind: 'invalid', reason: 'missing curve or q' };
      const curve = curveByName(curveName);
      algorithm = 'ecc';
      keygrip = curve ? computeKeygrip({ kind: 'ecc', curve, q }) : null;
      break;
    }
    default:
      return { kind: 'invalid', reason: 'unknown algorithm' };
  }
  // The secret half must be there in the form the kind promises.
  if (kind === 'private') {
    const secretName = algorithm === 'rsa' || algorithm === 'ecc' ? 'd' : 'x';
    const secret = atom(algoList, secretName);
    if (!secret || secret.length < 16) return { kind: 'invalid', reason: 'no secret parameter' };
  } else if (kind === 'protected') {
    const protectedList = findList(algoList, 'protected');
    const data = protectedList?.[protectedList.length - 1];
    if (!protectedList || !atomText(protectedList[1])) return { kind: 'invalid', reason: 'no protected parameter' };
    const hasData = data instanceof Uint8Array ? data.length >= 16 : Array.isArray(data);
    if (!hasData) return { kind: 'invalid', reason: 'no protected data' };
  } else if (!findList(algoList, 'shadowed')) {
    return { kind: 'invalid', reason: 'no shadowed parameter' };
  }
  return { kind: 'ok', file: { kind, algorithm, keygrip, curve: curveName, length } };
}

function isCanonical(bytes: Uint8Array, start: number): boolean {
  return bytes[start + 1] !== undefined && bytes[start + 1]! >= 0x30 && bytes[start + 1]! <= 0x39;
}

/**
 * The key S-expression of a key file at `start`, canonical or extended. The extended format folds
 * the `Key:` value over lines anywhere, even inside a token (`(prote\n cted ...`): a line break
 * followed by one space or tab is removed before parsing. `end` counts unfolded bytes.
 */
export function readKeyFileExpression(bytes: Uint8Array, start = 0): SexpParse {
  if (isCanonical(bytes, start)) return parseSexp(bytes, start);
  // Unfold a growing prefix: a key is a few KiB, the bytes after it may be much longer.
  for (let size = 2048; ; size *= 4) {
    const end = Math.min(bytes.length, start + size);
    const parsed = parseSexp(unfold(bytes.subarray(0, end), start), 0);
    if (parsed.kind !== 'incomplete' || end === bytes.length) return parsed;
  }
}

function unfold(bytes: Uint8Array, start: number): Uint8Array {
  const out = new Uint8Array(bytes.length - start);
  let length = 0;
  for (let i = start; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x0d && bytes[i + 1] === 0x0a && (bytes[i + 2] === 0x20 || bytes[i + 2] === 0x09)) {
      i += 2;
      continue;
    }
    if (c === 0x0a && (bytes[i + 1] === 0x20 || bytes[i + 1] === 0x09)) {
      i += 1;
      continue;
    }
    out[length++] = c;
  }
  return out.subarray(0, length);
}

/**
 * Locate the key S-expression in a whole key file: the extended format (`Key: (private-key ...`
 * after `Created:` and other headers) or the older plain S-expression file. Returns its offset, or -1.
 */
export function findKeyFileSexp(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.subarray(0, Math.min(bytes.length, 1 << 20))).toString('latin1');
  const match = /\((?:\d+:)?(?:protected-|shadowed-)?private-key/.exec(text);
  return match ? match.index : -1;
}

/**
 * Identity parts of a whole gpg-agent key file (extended or S-expression format): its kind,
 * algorithm and the keygrip of its public parameters. Null when the bytes are not a key file.
 */
export function identifyGnupgKeyFile(bytes: Uint8Array): GnupgKeyFile | null {
  const start = findKeyFileSexp(bytes);
  if (start === -1) return null;
  const parsed = parseGnupgKeyFile(bytes, start);
  return parsed.kind === 'ok' ? parsed.file : null;
}
