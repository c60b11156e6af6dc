import { base64WrappedDecoder } from './base64-wrapped.js';
import { createCandidateKernel, type CandidateKernel } from './candidate-kernel.js';
import type { ContentDetector } from './content-detector.js';
import { gnupgAgentKeyFileDetector } from './gnupg-agent-key-file.js';
import { opensshPrivateKeyDetector } from './openssh-private-key.js';
import { pemPrivateKeyDetector } from './pem-private-key.js';
import { pgpArmoredPrivateKeyDetector } from './pgp-armored-private-key.js';
import { pgpBinarySecretKeyDetector } from './pgp-binary-secret-key.js';
import { puttyPrivateKeyDetector } from './putty-private-key.js';
import type { Trigger } from './trigger.js';
import type { DetectorInfo } from './types.js';
import { utf16TextDecoder } from './utf16-text.js';

/**
 * Every content detector and decoder the scanner runs, in report order. Adding a detector is a new
 * file in this folder (its info, triggers and `start`), its docs page, and one line here.
 */
export const CONTENT_DETECTORS: readonly ContentDetector[] = [
  pgpArmoredPrivateKeyDetector,
  pgpBinarySecretKeyDetector,
  gnupgAgentKeyFileDetector,
  opensshPrivateKeyDetector,
  pemPrivateKeyDetector,
  puttyPrivateKeyDetector,
  base64WrappedDecoder,
  utf16TextDecoder,
];

/** Every reporting detector, in report order (SARIF rules, docs). */
export const DETECTORS: readonly DetectorInfo[] = CONTENT_DETECTORS.flatMap((detector) => (detector.info ? [detector.info] : []));

/** The triggers of every registered detector (the kernel's predicate). */
export const CONTENT_TRIGGERS: readonly Trigger[] = CONTENT_DETECTORS.flatMap((detector) => detector.triggers);

/** For each first byte, the detectors one of whose triggers can start there. */
export const DETECTORS_BY_FIRST_BYTE: readonly (readonly ContentDetector[])[] = Array.from({ length: 256 }, (_, byte) =>
  CONTENT_DETECTORS.filter((detector) => detector.triggers.some((trigger) => (byte & (trigger.firstMask ?? 0xff)) === trigger.first)),
);

let shared: CandidateKernel | undefined;

/** The candidate kernel of the registered triggers (one per thread; scanners call it synchronously in turn). */
export function getCandidateKernel(): CandidateKernel {
  shared ??= createCandidateKernel(CONTENT_TRIGGERS);
  return shared;
}
