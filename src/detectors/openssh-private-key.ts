import { decodeArmorLoose as decodeArmor } from '../pgp/armor.js';
import { isJsonEscapedBlock, markerLine, redactedExcerpt, unescapeJson } from './excerpt.js';
import { opensshPublicIdentity } from './public-identity.js';
import { BEGIN_TRIGGER, startArmoredBlock } from './armored-block.js';
import { TEXT_LOOKAHEAD, type ContentDetector } from './content-detector.js';
import type { Detection, DetectorInfo } from './types.js';

/** OpenSSH private keys (`-----BEGIN OPENSSH PRIVATE KEY-----`, `openssh-key-v1` body). */
export const opensshPrivateKey: DetectorInfo = {
  id: 'openssh-private-key',
  title: 'OpenSSH private key',
  severity: 'high',
  docs: 'docs/detectors/openssh-private-key.md',
};

export const OPENSSH_TYPE = 'OPENSSH PRIVATE KEY';
const MAGIC = Buffer.from('openssh-key-v1\0', 'latin1');

function readString(data: Buffer, offset: number): { value: Buffer; next: number } | null {
  if (offset + 4 > data.length) return null;
  const length = data.readUInt32BE(offset);
  if (offset + 4 + length > data.length) return null;
  return { value: data.subarray(offset + 4, offset + 4 + length), next: offset + 4 + length };
}

/** Validate a captured OpenSSH private key block by its `openssh-key-v1\0` magic and header fields. */
export function validateOpensshBlock(text: string): Detection[] {
  const jsonEscaped = isJsonEscapedBlock(text, OPENSSH_TYPE);
  const armored = decodeArmor(jsonEscaped ? unescapeJson(text) : text);
  const data = armored ? Buffer.from(armored.data) : Buffer.alloc(0);
  const note: Detection[] = [{ type: 'note', detector: opensshPrivateKey.id, message: `"${markerLine(OPENSSH_TYPE)}" marker without a valid openssh-key-v1 body: not a leak` }];
  if (data.length < MAGIC.length + 16 || !data.subarray(0, MAGIC.length).equals(MAGIC)) return note;
  const cipher = readString(data, MAGIC.length);
  const kdf = cipher && readString(data, cipher.next);
  const kdfOptions = kdf && readString(data, kdf.next);
  if (!cipher || !kdf || !kdfOptions || kdfOptions.next + 4 > data.length) return note;
  const count = data.readUInt32BE(kdfOptions.next);
  const publicKey = readString(data, kdfOptions.next + 4);
  const keyType = publicKey && readString(publicKey.value, 0);
  if (count < 1 || count > 64 || !publicKey || !keyType || !/^[a-z0-9@.-]{3,64}$/.test(keyType.value.toString('latin1'))) return note;
  const sha256 = opensshPublicIdentity(publicKey.value);
  const encrypted = cipher.value.toString('latin1') !== 'none';
  return [
    {
      type: 'finding',
      detector: opensshPrivateKey.id,
      kind: jsonEscaped ? 'json-escaped-openssh' : 'openssh',
      severity: 'high',
      // The public key blob's hash, as `ssh-keygen -l` prints it: public, and the same in every copy.
      fingerprints: [sha256],
      keygrips: [],
      excerpt: redactedExcerpt(markerLine(OPENSSH_TYPE), text.length - markerLine(OPENSSH_TYPE).length),
      message: `OpenSSH private key (${keyType.value.toString('latin1')}, ${encrypted ? `encrypted with ${cipher.value.toString('latin1')}` : 'not encrypted'}), public key ${sha256}`,
    },
  ];
}

/** The OpenSSH detector as a plug-in of the content scanner. */
export const opensshPrivateKeyDetector: ContentDetector = {
  id: opensshPrivateKey.id,
  info: opensshPrivateKey,
  triggers: [BEGIN_TRIGGER],
  lookahead: TEXT_LOOKAHEAD,
  start: (bytes, index) => startArmoredBlock(bytes, index, (type) => type === OPENSSH_TYPE, opensshPrivateKey.id, validateOpensshBlock),
};
