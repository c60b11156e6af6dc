import { createHash } from 'node:crypto';

/** Upper-case hex of bytes, as GnuPG prints fingerprints and keygrips. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}

/** Bytes of a hex string (no prefix; odd length gets a leading zero nibble). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.length % 2 === 1 ? `0${hex}` : hex;
  return new Uint8Array(Buffer.from(clean, 'hex'));
}

/** SHA-1 over the concatenation of parts. */
export function sha1(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha1');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** SHA-256 over the concatenation of parts. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}

/** The bytes without leading zero bytes (how libgcrypt's mpi_get_buffer renders a number). */
export function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/** The unsigned big-endian bytes as a standard (signed) MPI stores them: a 0x00 is prepended when the top bit is set. */
export function asStdMpi(bytes: Uint8Array): Uint8Array {
  const stripped = stripLeadingZeros(bytes);
  if (stripped.length > 0 && (stripped[0]! & 0x80) !== 0) {
    const out = new Uint8Array(stripped.length + 1);
    out.set(stripped, 1);
    return out;
  }
  return stripped;
}

/** Latin-1 bytes of an ASCII string. */
export function ascii(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'latin1'));
}
