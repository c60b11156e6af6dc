// Private key detectors: re-exports only. Each detector is data (id, title, severity, docs) in its own file.
import { gnupgAgentKeyFile } from './gnupg-agent-key-file.js';
import { opensshPrivateKey } from './openssh-private-key.js';
import { pemPrivateKey } from './pem-private-key.js';
import { pgpArmoredPrivateKey } from './pgp-armored-private-key.js';
import { pgpBinarySecretKey } from './pgp-binary-secret-key.js';
import type { DetectorInfo } from './types.js';

/** Every detector, in report order. */
export const DETECTORS: readonly DetectorInfo[] = [pgpArmoredPrivateKey, pgpBinarySecretKey, gnupgAgentKeyFile, opensshPrivateKey, pemPrivateKey];

export { createContentScanner, scanBytes, type ContentScannerOptions } from './content-scanner.js';
export { scanConfigValue } from './config-scanner.js';
export { getCandidateKernel } from './candidate-kernel.js';
export type { ContentFinding, ContentNote, ContentScanner, ContentScanResult, DetectorInfo, KeyIdentity, Severity } from './types.js';
export { gnupgAgentKeyFile, opensshPrivateKey, pemPrivateKey, pgpArmoredPrivateKey, pgpBinarySecretKey };
export { WELL_KNOWN_KEYS, createKeyAllowList, parseAllowKeys, AllowKeyError, type WellKnownKey, type KeyAllowList, type AllowMatch } from './well-known-keys.js';
export { normalizeIdentity, pemPublicIdentity, opensshPublicIdentity, type PublicIdentity } from './public-identity.js';
