import { readPacketHeader, type PacketHeader } from './packet-header.js';

/** One packet located in a byte string. */
export type PacketSlice = { header: PacketHeader; offset: number; body: Uint8Array };

/**
 * Split bytes into consecutive OpenPGP packets. Stops (without throwing) at the first byte that is
 * not a packet header, a partial-length packet, or a packet that runs past the end.
 */
export function splitPackets(bytes: Uint8Array): { packets: PacketSlice[]; complete: boolean } {
  const packets: PacketSlice[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const header = readPacketHeader(bytes, offset);
    if (!header || header.partial) return { packets, complete: false };
    const start = offset + header.headerLength;
    const end = header.bodyLength === null ? bytes.length : start + header.bodyLength;
    if (end > bytes.length) return { packets, complete: false };
    packets.push({ header, offset, body: bytes.subarray(start, end) });
    offset = end;
  }
  return { packets, complete: true };
}
