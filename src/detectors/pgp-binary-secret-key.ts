import { isKeyPacket, parseKeyPacket, type KeyPacket } from '../pgp/key-packet.js';
import { keygripOfParams } from '../pgp/keygrip.js';
import { readPacketHeader } from '../pgp/packet-header.js';
import { splitPackets } from '../pgp/packets.js';
import { describeKeys, redactedExcerpt } from './excerpt.js';
import type { Capture, CaptureHandler } from './capture.js';
import type { ContentDetector } from './content-detector.js';
import type { Trigger } from './trigger.js';
import type { Detection, DetectorInfo } from './types.js';

/** Binary OpenPGP secret-key and secret-subkey packets (tags 5 and 7) at any offset of any file. */
export const pgpBinarySecretKey: DetectorInfo = {
  id: 'pgp-binary-secret-key',
  title: 'Binary OpenPGP secret key packet',
  severity: 'critical',
  docs: 'docs/detectors/pgp-binary-secret-key.md',
};

/** Largest key packet body considered (an RSA-16384 secret key is about 9 KiB). */
export const MAX_KEY_PACKET_BODY = 65536;
const KNOWN_ALGORITHMS = new Set([1, 2, 3, 16, 17, 18, 19, 20, 22, 25, 26, 27, 28]);

const ALGORITHM_NAMES: Readonly<Record<number, string>> = {
  1: 'RSA',
  2: 'RSA',
  3: 'RSA',
  16: 'Elgamal',
  17: 'DSA',
  18: 'ECDH',
  19: 'ECDSA',
  20: 'Elgamal',
  22: 'EdDSA',
  25: 'X25519',
  26: 'X448',
  27: 'Ed25519',
  28: 'Ed448',
};

/** A short public description of a key packet: algorithm, size or curve. */
export function describeKeyPacket(packet: KeyPacket): string {
  const name = ALGORITHM_NAMES[packet.algorithm] ?? `algorithm ${packet.algorithm}`;
  const size = packet.params.kind === 'ecc' || packet.params.kind === 'native' ? packet.params.curveName : `${packet.bits}`;
  return `${name} ${size}`;
}

/** The outcome of looking at a candidate packet header: reject, need this many bytes, or a packet. */
export type PacketProbe = { status: 'reject' } | { status: 'need'; total: number };

/**
 * Cheap checks on a candidate position, from the first bytes only: a tag-5/7 header with a
 * plausible length, key version 4 and a known algorithm. Returns how many bytes the whole packet
 * takes so the caller can capture exactly that.
 */
export function probeSecretKeyPacket(bytes: Uint8Array, offset: number): PacketProbe {
  const header = readPacketHeader(bytes, offset);
  if (!header || header.partial || header.bodyLength === null) return { status: 'reject' };
  if (header.tag !== 5 && header.tag !== 7) return { status: 'reject' };
  if (header.bodyLength < 20 || header.bodyLength > MAX_KEY_PACKET_BODY) return { status: 'reject' };
  const body = offset + header.headerLength;
  const version = bytes[body];
  if (version !== undefined && version !== 4 && version !== 5 && version !== 6) return { status: 'reject' };
  const algorithm = bytes[body + 5];
  if (algorithm !== undefined && !KNOWN_ALGORITHMS.has(algorithm)) return { status: 'reject' };
  return { status: 'need', total: header.headerLength + header.bodyLength };
}

/** Secret key material in a run of packets, summarised for one finding. */
export type SecretKeySummary = {
  fingerprints: string[];
  keygrips: string[];
  descriptions: string[];
  protectedCount: number;
  unprotectedCount: number;
  stubs: number;
};

/** Parse every secret key packet in `bytes` (a transferable key, as an armored block decodes to). */
export function summariseSecretKeys(bytes: Uint8Array): SecretKeySummary {
  const summary: SecretKeySummary = { fingerprints: [], keygrips: [], descriptions: [], protectedCount: 0, unprotectedCount: 0, stubs: 0 };
  for (const packet of splitPackets(bytes).packets) {
    if (packet.header.tag !== 5 && packet.header.tag !== 7) continue;
    const parsed = parseKeyPacket(packet.header.tag, packet.body);
    if (!isKeyPacket(parsed) || !parsed.secret) continue;
    addSecretKey(summary, parsed);
  }
  return summary;
}

function addSecretKey(summary: SecretKeySummary, packet: KeyPacket): void {
  const secret = packet.secret!;
  if (secret.kind === 'gnu-dummy' || secret.kind === 'gnu-divert-to-card') {
    summary.stubs++;
    return;
  }
  summary.fingerprints.push(packet.fingerprint);
  const grip = keygripOfParams(packet.params);
  if (grip) summary.keygrips.push(grip);
  summary.descriptions.push(describeKeyPacket(packet));
  if (secret.kind === 'encrypted') summary.protectedCount++;
  else summary.unprotectedCount++;
}

/** Protection in words for a message. */
export function protectionText(summary: SecretKeySummary): string {
  if (summary.protectedCount === 0) return 'not passphrase-protected';
  if (summary.unprotectedCount === 0) return 'passphrase-protected (still a leak: the passphrase can be attacked offline)';
  return 'partly passphrase-protected';
}

/** Validate a complete candidate packet (`bytes` starts at its header). */
export function validateSecretKeyPacket(bytes: Uint8Array): Detection[] {
  const header = readPacketHeader(bytes, 0);
  if (!header || header.bodyLength === null) return [];
  const body = bytes.subarray(header.headerLength, header.headerLength + header.bodyLength);
  if (body.length !== header.bodyLength) return [];
  const parsed = parseKeyPacket(header.tag, body);
  if (!isKeyPacket(parsed) || !parsed.secret) return [];
  const summary: SecretKeySummary = { fingerprints: [], keygrips: [], descriptions: [], protectedCount: 0, unprotectedCount: 0, stubs: 0 };
  addSecretKey(summary, parsed);
  const what = header.tag === 5 ? 'secret key' : 'secret subkey';
  if (summary.stubs > 0) {
    return [
      {
        type: 'note',
        detector: pgpBinarySecretKey.id,
        message: `OpenPGP ${what} stub without secret material (GnuPG S2K 101: key offline or on a smartcard), fingerprint ${parsed.fingerprint}: not a leak`,
      },
    ];
  }
  return [
    {
      type: 'finding',
      detector: pgpBinarySecretKey.id,
      kind: header.tag === 5 ? 'secret-key-packet' : 'secret-subkey-packet',
      severity: 'critical',
      fingerprints: summary.fingerprints,
      keygrips: summary.keygrips,
      excerpt: redactedExcerpt(`<binary OpenPGP ${what} packet, v${parsed.version} ${describeKeyPacket(parsed)}>`, bytes.length),
      message: `binary OpenPGP ${what} (${describeKeyPacket(parsed)}, ${protectionText(summary)}): ${describeKeys(summary.fingerprints, summary.keygrips)}`,
    },
  ];
}

/** A binary key packet of known total length: complete when all of it arrived. */
class PacketHandler implements CaptureHandler {
  constructor(readonly limit: number) {}
  progress(capture: Capture): boolean {
    return capture.length >= this.limit;
  }
  finish(capture: Capture): Detection[] {
    return capture.length >= this.limit ? validateSecretKeyPacket(capture.bytes()) : [];
  }
}

/**
 * Kernel triggers: a tag-5/tag-7 CTB (old format 0x94-0x96/0x9C-0x9E, new format 0xC5/0xC7; an
 * indeterminate length is never used for keys) followed, where its length field ends, by key
 * version 4; and RFC 9580 v6 keys, which are always new format with a one- or two-octet length (a
 * key packet over 8383 bytes would be RSA beyond 16384 bits). v5 (a withdrawn draft) is left out.
 */
const PACKET_TRIGGERS: Trigger[] = [
  // `mask: 0xfd` accepts version 4 or 6 in one test (the probe rejects what is not a key).
  { first: 0x94, firstMask: 0xf7, at: 2, equals: 4, mask: 0xfd },
  { first: 0x95, firstMask: 0xf7, at: 3, equals: 4, mask: 0xfd },
  { first: 0x96, firstMask: 0xf7, at: 5, equals: 4 },
  { first: 0xc5, firstMask: 0xfd, at: 2, equals: 4, mask: 0xfd },
  { first: 0xc5, firstMask: 0xfd, at: 3, equals: 4, mask: 0xfd },
  { first: 0xc5, firstMask: 0xfd, at: 6, equals: 4 },
];

/** The binary OpenPGP detector as a plug-in of the content scanner. */
export const pgpBinarySecretKeyDetector: ContentDetector = {
  id: pgpBinarySecretKey.id,
  info: pgpBinarySecretKey,
  triggers: PACKET_TRIGGERS,
  lookahead: 0,
  start(bytes, index, eof) {
    const probe = probeSecretKeyPacket(bytes, index);
    if (probe.status === 'reject') return null;
    if (index + probe.total <= bytes.length) return { detections: validateSecretKeyPacket(bytes.subarray(index, index + probe.total)) };
    return eof ? null : { startIndex: index, handler: new PacketHandler(probe.total) };
  },
};
