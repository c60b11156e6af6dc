// An identity for a key whose public half cannot be computed (encrypted PEM, non-standard bodies):
// the sha256 of its decoded armor body. The same key compiled into a .pyc or copied elsewhere keeps
// the same body, so it can be matched to a recorded, byte-identical occurrence. Pure.
import { createHash } from 'node:crypto';
import { decodeArmorLoose } from '../../pgp/armor.js';

/** Blocks longer than this are not identified (armored keys are a few KiB). */
const BLOCK_LIMIT = 1 << 20;

/** `BODY-SHA256:<b64>` of the armored block that starts at `offset` in `bytes`, or null. */
export function armoredBlockIdentity(bytes: Uint8Array, offset: number): string | null {
  if (offset < 0 || offset >= bytes.length) return null;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + offset, Math.min(bytes.length - offset, BLOCK_LIMIT)).toString('latin1');
  const begin = /^-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
  if (!begin) return null;
  const endMarker = `-----END ${begin[1]}-----`;
  const end = text.indexOf(endMarker);
  if (end < 0) return null;
  const armored = decodeArmorLoose(text.slice(0, end + endMarker.length));
  if (!armored || armored.data.length === 0) return null;
  // Legacy encrypted PEM keeps its cipher and IV in headers: they are part of the key.
  const hash = createHash('sha256').update(armored.headers.join('\n')).update('\n\n').update(armored.data);
  return `BODY-SHA256:${hash.digest('base64').replace(/=+$/, '')}`;
}
