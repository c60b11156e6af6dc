import { curveByOid, OTHER_CURVE_OIDS, type CurveInfo } from './curves.js';
import { sha1, sha256, toHex } from './hex.js';

/** OpenPGP public-key algorithm ids (RFC 9580 section 9.1). */
export const PublicKeyAlgorithm = {
  rsa: 1,
  rsaEncrypt: 2,
  rsaSign: 3,
  elgamal: 16,
  dsa: 17,
  ecdh: 18,
  ecdsa: 19,
  elgamalSignEncrypt: 20,
  eddsaLegacy: 22,
  x25519: 25,
  x448: 26,
  ed25519: 27,
  ed448: 28,
} as const;

/** The public parameters every copy of a key carries, as the keygrip needs them. */
export type PublicParams =
  | { kind: 'rsa'; n: Uint8Array; e: Uint8Array }
  | { kind: 'dsa'; p: Uint8Array; q: Uint8Array; g: Uint8Array; y: Uint8Array }
  | { kind: 'elgamal'; p: Uint8Array; g: Uint8Array; y: Uint8Array }
  /** ECDH/ECDSA/EdDSA(legacy) with an OID; q is the MPI value (0x40- or 0x04-prefixed point). */
  | { kind: 'ecc'; algorithm: number; curve: CurveInfo | null; curveName: string; q: Uint8Array }
  /** RFC 9580 native X25519/Ed25519/X448/Ed448: raw public key bytes. */
  | { kind: 'native'; algorithm: number; curveName: string; key: Uint8Array };

/** How the secret part is stored. */
export type SecretProtection =
  | { kind: 'none' }
  | { kind: 'encrypted'; usage: number; cipher: number }
  /** GnuPG stubs (S2K 101): no secret material in the packet. */
  | { kind: 'gnu-dummy' }
  | { kind: 'gnu-divert-to-card' };

/** A parsed key packet (public or secret, primary or sub). */
export type KeyPacket = {
  tag: number;
  version: 4 | 5 | 6;
  created: number;
  algorithm: number;
  params: PublicParams;
  /** Bit size as gpg reports it (modulus bits, or curve bits). */
  bits: number;
  /** Length of the public part of the body (what the fingerprint hashes). */
  publicLength: number;
  fingerprint: string;
  /** Secret-key packets only. */
  secret: SecretProtection | null;
};

/** Why bytes are not a key packet (kept short: used in notes, never contains key bytes). */
export type KeyPacketError = { error: string };

const MAX_MPI_BITS = 16384;

class Reader {
  offset = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end: number,
  ) {}
  remaining(): number {
    return this.end - this.offset;
  }
  byte(): number {
    if (this.offset >= this.end) throw new Error('truncated');
    return this.bytes[this.offset++]!;
  }
  take(count: number): Uint8Array {
    if (count < 0 || this.offset + count > this.end) throw new Error('truncated');
    const out = this.bytes.subarray(this.offset, this.offset + count);
    this.offset += count;
    return out;
  }
  uint32(): number {
    const b = this.take(4);
    return b[0]! * 0x1000000 + ((b[1]! << 16) | (b[2]! << 8) | b[3]!);
  }
  /** An MPI whose bit count must match its first byte exactly (strong against random bytes). */
  mpi(strict = true): Uint8Array {
    const hi = this.byte();
    const lo = this.byte();
    const bits = (hi << 8) | lo;
    if (bits === 0 || bits > MAX_MPI_BITS) throw new Error('bad mpi length');
    const value = this.take((bits + 7) >> 3);
    if (strict) {
      const top = value[0]!;
      const expectedTop = 1 << ((bits - 1) & 7);
      if (top < expectedTop || top >= expectedTop << 1) throw new Error('mpi bit count mismatch');
    }
    return value;
  }
}

function bitLength(value: Uint8Array): number {
  let i = 0;
  while (i < value.length && value[i] === 0) i++;
  if (i === value.length) return 0;
  return (value.length - i - 1) * 8 + (32 - Math.clz32(value[i]!));
}

function readPublicParams(reader: Reader, algorithm: number, version: number): { params: PublicParams; bits: number } {
  switch (algorithm) {
    case PublicKeyAlgorithm.rsa:
    case PublicKeyAlgorithm.rsaEncrypt:
    case PublicKeyAlgorithm.rsaSign: {
      const n = reader.mpi();
      const e = reader.mpi();
      const bits = bitLength(n);
      if (bits < 512 || e.length > 8 || (e[e.length - 1]! & 1) === 0) throw new Error('implausible rsa key');
      return { params: { kind: 'rsa', n, e }, bits };
    }
    case PublicKeyAlgorithm.dsa: {
      const p = reader.mpi();
      const q = reader.mpi();
      const g = reader.mpi();
      const y = reader.mpi();
      if (bitLength(p) < 512 || bitLength(q) < 160 || q.length > p.length) throw new Error('implausible dsa key');
      return { params: { kind: 'dsa', p, q, g, y }, bits: bitLength(p) };
    }
    case PublicKeyAlgorithm.elgamal:
    case PublicKeyAlgorithm.elgamalSignEncrypt: {
      const p = reader.mpi();
      const g = reader.mpi();
      const y = reader.mpi();
      if (bitLength(p) < 512 || g.length > p.length || y.length > p.length) throw new Error('implausible elgamal key');
      return { params: { kind: 'elgamal', p, g, y }, bits: bitLength(p) };
    }
    case PublicKeyAlgorithm.ecdh:
    case PublicKeyAlgorithm.ecdsa:
    case PublicKeyAlgorithm.eddsaLegacy: {
      const oidLength = reader.byte();
      if (oidLength === 0 || oidLength === 0xff) throw new Error('bad curve oid');
      const oid = toHex(reader.take(oidLength));
      const curve = curveByOid(oid) ?? null;
      const curveName = curve?.name ?? OTHER_CURVE_OIDS[oid];
      if (curveName === undefined) throw new Error('unknown curve');
      const q = reader.mpi();
      checkPoint(q, curve, algorithm);
      if (algorithm === PublicKeyAlgorithm.ecdh) {
        const kdfLength = reader.byte();
        const kdf = reader.take(kdfLength);
        if (kdfLength < 3 || kdf[0] !== 1) throw new Error('bad ecdh kdf parameters');
      }
      return { params: { kind: 'ecc', algorithm, curve, curveName, q }, bits: curve?.bits ?? 448 };
    }
    case PublicKeyAlgorithm.x25519:
    case PublicKeyAlgorithm.ed25519:
      return { params: { kind: 'native', algorithm, curveName: algorithm === 25 ? 'Curve25519' : 'Ed25519', key: reader.take(32) }, bits: 255 };
    case PublicKeyAlgorithm.x448:
      return { params: { kind: 'native', algorithm, curveName: 'X448', key: reader.take(56) }, bits: 448 };
    case PublicKeyAlgorithm.ed448:
      return { params: { kind: 'native', algorithm, curveName: 'Ed448', key: reader.take(57) }, bits: 448 };
    default:
      void version;
      throw new Error('unknown public-key algorithm');
  }
}

function checkPoint(q: Uint8Array, curve: CurveInfo | null, algorithm: number): void {
  const prefix = q[0];
  if (curve === null) return;
  const fieldBytes = (curve.bits + 7) >> 3;
  if (curve.model === 'weierstrass') {
    if (!(prefix === 0x04 && q.length === 1 + 2 * fieldBytes)) throw new Error('bad ec point');
  } else if (!(prefix === 0x40 && q.length === 33)) {
    // Native (0x40-prefixed) encoding is what every OpenPGP implementation writes for 25519.
    throw new Error('bad ec point');
  }
  void algorithm;
}

/** Cipher block sizes by OpenPGP symmetric algorithm id (for the IV of a protected secret key). */
const CIPHER_BLOCK: Readonly<Record<number, number>> = { 1: 8, 2: 8, 3: 8, 4: 8, 7: 16, 8: 16, 9: 16, 10: 16, 11: 16, 12: 16, 13: 16 };
const HASHES = new Set([1, 2, 3, 8, 9, 10, 11, 12, 14]);

function secretMpiCount(params: PublicParams): number {
  switch (params.kind) {
    case 'rsa':
      return 4;
    case 'dsa':
    case 'elgamal':
    case 'ecc':
      return 1;
    case 'native':
      return 0;
  }
}

function nativeSecretLength(params: PublicParams): number {
  if (params.kind !== 'native') return 0;
  return params.algorithm === 25 || params.algorithm === 27 ? 32 : params.algorithm === 26 ? 56 : 57;
}

function readS2k(reader: Reader): 'normal' | 'gnu-dummy' | 'gnu-divert-to-card' {
  const type = reader.byte();
  switch (type) {
    case 0:
    case 1:
    case 3: {
      if (!HASHES.has(reader.byte())) throw new Error('unknown s2k hash');
      if (type >= 1) reader.take(8);
      if (type === 3) reader.byte();
      return 'normal';
    }
    case 4: // Argon2 (RFC 9580): salt 16, t, p, m
      reader.take(16 + 3);
      return 'normal';
    case 101: {
      reader.byte(); // hash, ignored by GnuPG for stubs
      const magic = reader.take(3);
      if (magic[0] !== 0x47 || magic[1] !== 0x4e || magic[2] !== 0x55) throw new Error('bad gnu s2k');
      const mode = reader.byte();
      if (mode === 1) return 'gnu-dummy';
      if (mode === 2) return 'gnu-divert-to-card';
      throw new Error('unknown gnu s2k mode');
    }
    default:
      throw new Error('unknown s2k type');
  }
}

function readSecret(reader: Reader, params: PublicParams, version: number): SecretProtection {
  const usage = reader.byte();
  if (version === 4) {
    if (usage === 0) {
      // Unprotected: the two-octet checksum over the secret MPIs must match exactly.
      const start = reader.offset;
      const mpis = secretMpiCount(params);
      for (let i = 0; i < mpis; i++) reader.mpi(false);
      if (params.kind === 'native') reader.take(nativeSecretLength(params));
      let sum = 0;
      for (let i = start; i < reader.offset; i++) sum = (sum + reader.bytes[i]!) & 0xffff;
      const hi = reader.byte();
      const lo = reader.byte();
      if (((hi << 8) | lo) !== sum) throw new Error('secret checksum mismatch');
      if (reader.remaining() !== 0) throw new Error('trailing bytes after secret key');
      return { kind: 'none' };
    }
    if (usage === 254 || usage === 255 || usage === 253) {
      const cipher = reader.byte();
      if (usage === 253) reader.byte(); // AEAD mode
      const s2k = readS2k(reader);
      if (s2k !== 'normal') return { kind: s2k };
      const block = CIPHER_BLOCK[cipher];
      if (block === undefined) throw new Error('unknown cipher');
      reader.take(block);
      if (reader.remaining() < 8) throw new Error('no encrypted secret data');
      return { kind: 'encrypted', usage, cipher };
    }
    // Any other value is a cipher id without S2K (PGP 2.x, RFC 1991): no implementation has
    // written it for decades, and accepting it would let random bytes pass as protected keys.
    throw new Error('unsupported legacy s2k usage');
  }
  // v5/v6: a count octet precedes the S2K fields when protected.
  if (usage === 0) {
    if (reader.remaining() < 2) throw new Error('no secret data');
    return { kind: 'none' };
  }
  if (usage !== 253 && usage !== 254 && usage !== 255) throw new Error('bad s2k usage');
  const fieldsLength = reader.byte();
  const fieldsEnd = reader.offset + fieldsLength;
  const cipher = reader.byte();
  if (usage === 253) reader.byte();
  if (version === 6) reader.byte(); // S2K specifier length
  const s2k = readS2k(reader);
  if (s2k !== 'normal') return { kind: s2k };
  if (reader.offset > fieldsEnd) throw new Error('bad s2k fields');
  reader.offset = fieldsEnd;
  if (version === 5 && usage !== 253) reader.uint32();
  if (CIPHER_BLOCK[cipher] === undefined) throw new Error('unknown cipher');
  if (reader.remaining() < 8) throw new Error('no encrypted secret data');
  return { kind: 'encrypted', usage, cipher };
}

/**
 * Parse one key packet body (tags 5, 6, 7, 14). Strict: lengths must be consistent, MPIs
 * well-formed, algorithm and curve known, and a secret part plausible (exact checksum when
 * unprotected), so that random bytes almost never parse. Never throws.
 */
export function parseKeyPacket(tag: number, body: Uint8Array): KeyPacket | KeyPacketError {
  const reader = new Reader(body, body.length);
  try {
    const version = reader.byte();
    if (version !== 4 && version !== 5 && version !== 6) return { error: 'unsupported key packet version' };
    const created = reader.uint32();
    const algorithm = reader.byte();
    let materialEnd = -1;
    if (version !== 4) {
      const materialLength = reader.uint32();
      materialEnd = reader.offset + materialLength;
    }
    const { params, bits } = readPublicParams(reader, algorithm, version);
    if (materialEnd !== -1 && reader.offset !== materialEnd) return { error: 'key material length mismatch' };
    const publicLength = reader.offset;
    let secret: SecretProtection | null = null;
    if (tag === 5 || tag === 7) {
      secret = readSecret(reader, params, version);
    } else if (reader.remaining() !== 0) {
      return { error: 'trailing bytes after public key' };
    }
    // Hash last: the scanner parses many candidates that fail the checks above.
    const fingerprint = computeFingerprint(version, body.subarray(0, publicLength));
    return { tag, version, created, algorithm, params, bits, publicLength, fingerprint, secret };
  } catch (error) {
    return { error: error instanceof Error ? error.message : 'unparsable key packet' };
  }
}

/** The OpenPGP fingerprint of a public key body (v4: SHA-1; v5/v6: SHA-256). */
export function computeFingerprint(version: number, publicBody: Uint8Array): string {
  const length = publicBody.length;
  if (version === 4) {
    return toHex(sha1(new Uint8Array([0x99, (length >> 8) & 0xff, length & 0xff]), publicBody));
  }
  const prefix = new Uint8Array([version === 5 ? 0x9a : 0x9b, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff]);
  return toHex(sha256(prefix, publicBody));
}

/** True when the value is a KeyPacket rather than a parse error. */
export function isKeyPacket(value: KeyPacket | KeyPacketError): value is KeyPacket {
  return !('error' in value);
}
