// Private key detectors: re-exports only. Each detector is a plug-in (id, title, severity, docs, triggers, start) in its own file, listed once in registry.ts.
import { gnupgAgentKeyFile } from './gnupg-agent-key-file.js';
import { opensshPrivateKey } from './openssh-private-key.js';
import { pemPrivateKey } from './pem-private-key.js';
import { pgpArmoredPrivateKey } from './pgp-armored-private-key.js';
import { pgpBinarySecretKey } from './pgp-binary-secret-key.js';
import { puttyPrivateKey } from './putty-private-key.js';

export { CONTENT_DETECTORS, DETECTORS, getCandidateKernel } from './registry.js';
export type { ContentDetector, DetectorStart, ScanContext } from './content-detector.js';
export type { Trigger } from './trigger.js';
export { createContentScanner, scanBytes, type ContentScannerOptions } from './content-scanner.js';
export { scanConfigValue } from './config-scanner.js';
export type { ContentFinding, ContentNote, ContentScanner, ContentScanResult, DetectorInfo, KeyIdentity, Severity } from './types.js';
export { gnupgAgentKeyFile, opensshPrivateKey, pemPrivateKey, pgpArmoredPrivateKey, pgpBinarySecretKey, puttyPrivateKey };
export { parsePpk } from './putty-private-key.js';
export { WELL_KNOWN_KEYS, createKeyAllowList, parseAllowKeys, AllowKeyError, type WellKnownKey, type KeyAllowList, type AllowMatch } from './well-known-keys.js';
export { normalizeIdentity, pemPublicIdentity, opensshPublicIdentity, type PublicIdentity } from './public-identity.js';
