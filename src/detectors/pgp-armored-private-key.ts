import { decodeArmorLoose as decodeArmor } from '../pgp/armor.js';
import { describeKeys, isJsonEscapedBlock, markerLine, redactedExcerpt, unescapeJson } from './excerpt.js';
import { protectionText, summariseSecretKeys } from './pgp-binary-secret-key.js';
import { BEGIN_TRIGGER, startArmoredBlock } from './armored-block.js';
import { TEXT_LOOKAHEAD, type ContentDetector } from './content-detector.js';
import type { Detection, DetectorInfo } from './types.js';

/** ASCII-armored OpenPGP secret keys (`-----BEGIN PGP PRIVATE KEY BLOCK-----`), also CRLF, JSON-escaped or base64-wrapped. */
export const pgpArmoredPrivateKey: DetectorInfo = {
  id: 'pgp-armored-private-key',
  title: 'ASCII-armored OpenPGP private key block',
  severity: 'critical',
  docs: 'docs/detectors/pgp-armored-private-key.md',
};

export const PGP_PRIVATE_TYPE = 'PGP PRIVATE KEY BLOCK';

/**
 * Validate a captured armored block (`text` starts at its BEGIN line): decode the armor (undoing
 * JSON string escapes first when the block sits inside a JSON string) and parse its packets. A
 * block without a valid secret key packet is a note, never a finding.
 */
export function validatePgpArmoredBlock(text: string): Detection[] {
  const afterMarker = text.slice(markerLine(PGP_PRIVATE_TYPE).length, markerLine(PGP_PRIVATE_TYPE).length + 4);
  const jsonEscaped = isJsonEscapedBlock(text, PGP_PRIVATE_TYPE);
  const crlf = afterMarker.startsWith('\r\n');
  const armored = decodeArmor(jsonEscaped ? unescapeJson(text) : text);
  const kind = jsonEscaped ? 'json-escaped-armored' : crlf ? 'armored-crlf' : 'armored';
  const summary = armored ? summariseSecretKeys(armored.data) : null;
  if (!summary || summary.fingerprints.length === 0) {
    const why = !armored ? 'no decodable body' : summary && summary.stubs > 0 ? 'only secret key stubs without secret material' : 'no valid secret key packet';
    return [{ type: 'note', detector: pgpArmoredPrivateKey.id, message: `"${markerLine(PGP_PRIVATE_TYPE)}" marker with ${why}: not a leak` }];
  }
  return [
    {
      type: 'finding',
      detector: pgpArmoredPrivateKey.id,
      kind,
      severity: 'critical',
      fingerprints: summary.fingerprints,
      keygrips: summary.keygrips,
      excerpt: redactedExcerpt(markerLine(PGP_PRIVATE_TYPE), text.length - markerLine(PGP_PRIVATE_TYPE).length),
      message: `armored OpenPGP private key (${summary.descriptions.join(', ')}; ${protectionText(summary)}): ${describeKeys(summary.fingerprints, summary.keygrips)}`,
    },
  ];
}

/** The armored OpenPGP detector as a plug-in of the content scanner. */
export const pgpArmoredPrivateKeyDetector: ContentDetector = {
  id: pgpArmoredPrivateKey.id,
  info: pgpArmoredPrivateKey,
  triggers: [BEGIN_TRIGGER],
  lookahead: TEXT_LOOKAHEAD,
  start: (bytes, index) => startArmoredBlock(bytes, index, (type) => type === PGP_PRIVATE_TYPE, pgpArmoredPrivateKey.id, validatePgpArmoredBlock),
};
