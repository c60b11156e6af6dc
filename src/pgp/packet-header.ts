/** One OpenPGP packet header as read from bytes (RFC 9580 section 4.2). */
export type PacketHeader = {
  tag: number;
  format: 'old' | 'new';
  headerLength: number;
  /** Body length in bytes; null for an old-format indeterminate length (body runs to the end of the data). */
  bodyLength: number | null;
  /** True for a new-format partial body length: not used for key packets, so key parsers reject it. */
  partial: boolean;
};

/**
 * Read the packet header at `offset`. Returns null when the byte is not a packet tag or the header
 * is cut off. Never throws: it runs on arbitrary bytes.
 */
export function readPacketHeader(bytes: Uint8Array, offset: number): PacketHeader | null {
  const ctb = bytes[offset];
  if (ctb === undefined || (ctb & 0x80) === 0) return null;
  if ((ctb & 0x40) === 0) {
    const tag = (ctb >> 2) & 0x0f;
    const lengthType = ctb & 0x03;
    if (lengthType === 3) return { tag, format: 'old', headerLength: 1, bodyLength: null, partial: false };
    const size = lengthType === 0 ? 1 : lengthType === 1 ? 2 : 4;
    if (offset + 1 + size > bytes.length) return null;
    let length = 0;
    for (let i = 0; i < size; i++) length = length * 256 + bytes[offset + 1 + i]!;
    return { tag, format: 'old', headerLength: 1 + size, bodyLength: length, partial: false };
  }
  const tag = ctb & 0x3f;
  const first = bytes[offset + 1];
  if (first === undefined) return null;
  if (first < 192) return { tag, format: 'new', headerLength: 2, bodyLength: first, partial: false };
  if (first < 224) {
    const second = bytes[offset + 2];
    if (second === undefined) return null;
    return { tag, format: 'new', headerLength: 3, bodyLength: ((first - 192) << 8) + second + 192, partial: false };
  }
  if (first === 255) {
    if (offset + 6 > bytes.length) return null;
    const length = bytes[offset + 2]! * 0x1000000 + ((bytes[offset + 3]! << 16) | (bytes[offset + 4]! << 8) | bytes[offset + 5]!);
    return { tag, format: 'new', headerLength: 6, bodyLength: length, partial: false };
  }
  return { tag, format: 'new', headerLength: 2, bodyLength: 1 << (first & 0x1f), partial: true };
}

/** OpenPGP packet tags this project cares about. */
export const PacketTag = {
  signature: 2,
  secretKey: 5,
  publicKey: 6,
  secretSubkey: 7,
  userId: 13,
  publicSubkey: 14,
} as const;
