import { EicBuildError } from '../errors.js';
import { redact } from '../redact.js';
import { rewrapArmor } from './rewrap-armor.js';

/**
 * An armored public key that passes the redactor unchanged, for printing. The redactor censors
 * every line of a registered secret key, and an armored secret key shares whole lines with its
 * own public key (the public key packet comes first in both, at the same offsets, when both are
 * armored at the same width). Narrower lines cannot contain those full secret lines, and any
 * armor line width up to 76 is valid.
 */
export function printablePublicKey(armored: string): string {
  for (const width of [0, 56, 48, 40, 32, 24, 17]) {
    const candidate = width === 0 ? armored : rewrapArmor(armored, width);
    if (redact(candidate) === candidate) return candidate;
  }
  throw new EicBuildError('internal', 'the public key cannot be printed without the redactor censoring parts of it', {
    hint: 'use --output FILE to write it to a file instead',
  });
}
