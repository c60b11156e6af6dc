import { decodeArmor } from './armor.js';
import { isKeyPacket, parseKeyPacket, type KeyPacket } from './key-packet.js';
import { keygripOfParams } from './keygrip.js';
import { splitPackets } from './packets.js';

/** What recognises one OpenPGP key (primary and every subkey) wherever a copy of it lands. */
export type KeyIdentity = {
  /** Fingerprint of the primary key, upper-case hex. */
  primaryFingerprint: string;
  /** Fingerprints of the primary key and every subkey. */
  fingerprints: string[];
  /** GnuPG keygrips of the primary key and every subkey (names of `private-keys-v1.d/<keygrip>.key`). */
  keygrips: string[];
  userIds: string[];
};

/** Thrown (as a plain Error with a clear message) when the input is not an OpenPGP key. */
export class KeyIdentityError extends Error {
  override readonly name = 'KeyIdentityError';
}

/** The key packets of a transferable key, in order, with the user IDs seen. */
export function readKeyPackets(key: Uint8Array | string): { keys: KeyPacket[]; userIds: string[] } {
  let bytes: Uint8Array;
  if (typeof key === 'string' || looksLikeText(key)) {
    const text = typeof key === 'string' ? key : Buffer.from(key).toString('latin1');
    const armored = decodeArmor(text);
    if (!armored) throw new KeyIdentityError('not an OpenPGP key: no "-----BEGIN PGP ... KEY BLOCK-----" armor found');
    bytes = armored.data;
  } else {
    bytes = key;
  }
  const { packets } = splitPackets(bytes);
  const keys: KeyPacket[] = [];
  const userIds: string[] = [];
  for (const packet of packets) {
    const tag = packet.header.tag;
    if (tag === 5 || tag === 6 || tag === 7 || tag === 14) {
      const parsed = parseKeyPacket(tag, packet.body);
      if (!isKeyPacket(parsed)) throw new KeyIdentityError(`not a usable OpenPGP key: key packet ${keys.length + 1} is invalid (${parsed.error})`);
      // A second primary key starts another transferable key: identity covers the first one only.
      if ((tag === 5 || tag === 6) && keys.length > 0) break;
      keys.push(parsed);
    } else if (tag === 13 && keys.length > 0) {
      userIds.push(Buffer.from(packet.body).toString('utf8'));
    }
  }
  if (keys.length === 0 || (keys[0]!.tag !== 5 && keys[0]!.tag !== 6)) {
    throw new KeyIdentityError('not an OpenPGP key: no primary key packet found');
  }
  return { keys, userIds };
}

function looksLikeText(bytes: Uint8Array): boolean {
  // Binary keys start with a packet tag byte (top bit set); armored text starts with ASCII.
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  return i < bytes.length && bytes[i] === 0x2d;
}

/**
 * Fingerprints, keygrips and user IDs of an OpenPGP key (armored or binary, public or secret).
 * The one shared function the scanner and the key layer use to recognise a key.
 */
export function deriveKeyIdentity(key: Uint8Array | string): KeyIdentity {
  const { keys, userIds } = readKeyPackets(key);
  const keygrips: string[] = [];
  for (const packet of keys) {
    const grip = keygripOfParams(packet.params);
    if (grip) keygrips.push(grip);
  }
  return { primaryFingerprint: keys[0]!.fingerprint, fingerprints: keys.map((packet) => packet.fingerprint), keygrips, userIds };
}
