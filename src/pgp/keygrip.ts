import { curveByName, type CurveInfo } from './curves.js';
import { ascii, asStdMpi, fromHex, sha1, stripLeadingZeros, toHex } from './hex.js';
import type { PublicParams } from './key-packet.js';

/**
 * Keygrips exactly as libgcrypt computes them (gcry_pk_get_keygrip), which is how gpg-agent names
 * `private-keys-v1.d/<KEYGRIP>.key`:
 * - RSA: SHA-1 of n as stored in the S-expression (an unsigned MPI gets a 0x00 when its top bit is set);
 * - DSA / Elgamal: SHA-1 over `(1:p<len>:<p>)(1:q...)...` for p,q,g,y (Elgamal p,g,y);
 * - ECC: SHA-1 over `(1:p..)(1:a..)(1:b..)(1:g..)(1:n..)(1:q..)` with the curve's domain
 *   parameters (cipher/ecc.c compute_keygrip; the cofactor is skipped), g as 0x04||x||y, and q
 *   compacted for the 25519 curves (the 0x40 prefix removed).
 */
export type KeygripInput =
  | { kind: 'rsa'; n: Uint8Array }
  | { kind: 'dsa'; p: Uint8Array; q: Uint8Array; g: Uint8Array; y: Uint8Array }
  | { kind: 'elgamal'; p: Uint8Array; g: Uint8Array; y: Uint8Array }
  | { kind: 'ecc'; curve: CurveInfo; q: Uint8Array };

function chunk(name: string, value: Uint8Array): Uint8Array[] {
  return [ascii(`(1:${name}${value.length}:`), value, ascii(')')];
}

function magnitude(hex: string): Uint8Array {
  return stripLeadingZeros(fromHex(hex.startsWith('-') ? hex.slice(1) : hex));
}

const curveChunkCache = new Map<string, Uint8Array[]>();

function curveChunks(curve: CurveInfo): Uint8Array[] {
  let cached = curveChunkCache.get(curve.name);
  if (!cached) {
    // libgcrypt builds g by concatenating the hex strings "0x04" + gx + gy, so do the same.
    const g = fromHex(`04${curve.gx}${curve.gy}`);
    cached = [...chunk('p', magnitude(curve.p)), ...chunk('a', magnitude(curve.a)), ...chunk('b', magnitude(curve.b)), ...chunk('g', g), ...chunk('n', magnitude(curve.n))];
    curveChunkCache.set(curve.name, cached);
  }
  return cached;
}

/** Remove the 0x40 "native point" prefix that OpenPGP and gpg-agent put before 25519 points. */
function compactQ(curve: CurveInfo, q: Uint8Array): Uint8Array {
  if (curve.model !== 'weierstrass' && q.length === 33 && q[0] === 0x40) return q.subarray(1);
  return q;
}

/** The keygrip (upper-case hex) of a public key given by its raw parameters. */
export function computeKeygrip(input: KeygripInput): string {
  switch (input.kind) {
    case 'rsa':
      return toHex(sha1(input.n));
    case 'dsa':
      return toHex(sha1(...chunk('p', input.p), ...chunk('q', input.q), ...chunk('g', input.g), ...chunk('y', input.y)));
    case 'elgamal':
      return toHex(sha1(...chunk('p', input.p), ...chunk('g', input.g), ...chunk('y', input.y)));
    case 'ecc':
      return toHex(sha1(...curveChunks(input.curve), ...chunk('q', compactQ(input.curve, input.q))));
  }
}

/** The keygrip of an OpenPGP key packet's public parameters, or null for curves libgcrypt 1.10 does not know. */
export function keygripOfParams(params: PublicParams): string | null {
  switch (params.kind) {
    case 'rsa':
      // gpg hands the MPI to libgcrypt, which stores n in standard (signed) format.
      return computeKeygrip({ kind: 'rsa', n: asStdMpi(params.n) });
    case 'dsa':
      return computeKeygrip({ kind: 'dsa', p: asStdMpi(params.p), q: asStdMpi(params.q), g: asStdMpi(params.g), y: asStdMpi(params.y) });
    case 'elgamal':
      return computeKeygrip({ kind: 'elgamal', p: asStdMpi(params.p), g: asStdMpi(params.g), y: asStdMpi(params.y) });
    case 'ecc':
      return params.curve ? computeKeygrip({ kind: 'ecc', curve: params.curve, q: params.q }) : null;
    case 'native': {
      // RFC 9580 native keys: same point as the legacy form, without the prefix (not checked against gpg 2.2, which cannot read them).
      const curve = curveByName(params.curveName);
      return curve ? computeKeygrip({ kind: 'ecc', curve, q: params.key }) : null;
    }
  }
}
