import { decodeArmorLoose as decodeArmor } from '../pgp/armor.js';
import { isJsonEscapedBlock, markerLine, redactedExcerpt, unescapeJson } from './excerpt.js';
import { pemPublicIdentity, privateDerCatalogueId } from './public-identity.js';
import { BEGIN_TRIGGER, startArmoredBlock } from './armored-block.js';
import { TEXT_LOOKAHEAD, type ContentDetector } from './content-detector.js';
import type { Detection, DetectorInfo } from './types.js';

/** PEM private keys: PKCS#1 (`RSA`), SEC1 (`EC`), `DSA`, PKCS#8 (plain and `ENCRYPTED`), legacy encrypted PEM. */
export const pemPrivateKey: DetectorInfo = {
  id: 'pem-private-key',
  title: 'PEM private key (RSA, EC, DSA, PKCS#8)',
  severity: 'high',
  docs: 'docs/detectors/pem-private-key.md',
};

/** The PEM block types that hold private keys. */
export const PEM_PRIVATE_TYPES = /^(?:RSA |EC |DSA |ENCRYPTED |)PRIVATE KEY$/;

/** Length of a DER element starting at 0, or -1 when the header is malformed. */
function derLength(data: Uint8Array): number {
  if (data.length < 2) return -1;
  const first = data[1]!;
  if (first < 0x80) return 2 + first;
  const size = first & 0x7f;
  if (size === 0 || size > 3 || data.length < 2 + size) return -1;
  let length = 0;
  for (let i = 0; i < size; i++) length = length * 256 + data[2 + i]!;
  return 2 + size + length;
}

/** Validate a captured PEM block: its body must be a DER SEQUENCE of exactly the decoded length (or legacy-encrypted data). */
export function validatePemBlock(text: string, type: string): Detection[] {
  const jsonEscaped = isJsonEscapedBlock(text, type);
  const armored = decodeArmor(jsonEscaped ? unescapeJson(text) : text);
  const data = armored?.data ?? new Uint8Array(0);
  const legacyEncrypted = armored?.headers.some((header) => /^Proc-Type: 4,ENCRYPTED/i.test(header)) ?? false;
  const valid = legacyEncrypted ? data.length >= 64 && data.length % 8 === 0 : data.length >= 40 && data[0] === 0x30 && derLength(data) === data.length;
  if (!valid) {
    return [{ type: 'note', detector: pemPrivateKey.id, message: `"${markerLine(type)}" marker without a valid key body: not a leak` }];
  }
  const encrypted = legacyEncrypted || type.startsWith('ENCRYPTED');
  // The public half's identity lets a report recognise a known key; an encrypted key has none we can read.
  const identity = encrypted ? null : pemPublicIdentity(type, data);
  return [
    {
      type: 'finding',
      detector: pemPrivateKey.id,
      kind: `pem-${type.replace(/ ?PRIVATE KEY$/, '').toLowerCase() || 'pkcs8'}`,
      severity: 'high',
      fingerprints: identity ? [identity] : [],
      keygrips: [],
      excerpt: redactedExcerpt(markerLine(type), text.length - markerLine(type).length),
      message: `PEM private key (${type}, ${data.length}-byte body, ${encrypted ? 'encrypted' : 'not encrypted'})${identity ? `, public key ${identity}` : ''}`,
      ...(identity || encrypted ? {} : { catalogueIds: [privateDerCatalogueId(data)] }),
    },
  ];
}

/** The PEM detector as a plug-in of the content scanner. */
export const pemPrivateKeyDetector: ContentDetector = {
  id: pemPrivateKey.id,
  info: pemPrivateKey,
  triggers: [BEGIN_TRIGGER],
  lookahead: TEXT_LOOKAHEAD,
  start: (bytes, index) => startArmoredBlock(bytes, index, (type) => PEM_PRIVATE_TYPES.test(type), pemPrivateKey.id, validatePemBlock),
};
