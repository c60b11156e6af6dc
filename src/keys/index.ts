// The key layer: resolve the build's signing key, inspect/generate/export keys, checks as data.
export {
  resolveSigningKey,
  SIGNING_KEY_VARIABLE,
  EPHEMERAL_FALLBACK_WARNING,
  type SigningKey,
  type SigningKeySource,
  type ResolveSigningKeyOptions,
} from './resolve-signing-key.js';
export { inspectKey, keySourceOf, type KeyInspection, type InspectKeyOptions } from './inspect-key.js';
export { exportPublicKey, type ExportedPublicKey, type ExportPublicKeyOptions } from './export-public-key.js';
export { generateKey, KEY_ALGORITHMS, DEFAULT_KEY_NAME, type GeneratedKey, type GenerateKeyOptions, type KeyAlgorithm } from './generate-key.js';
export {
  KEY_CHECKS,
  runKeyChecks,
  blockingFindings,
  DEFAULT_ROTATION_DAYS,
  EXPIRY_WARNING_DAYS,
  MIN_RSA_BITS,
  PASSPHRASE_VARIABLE,
  type KeyCheck,
  type KeyCheckId,
  type KeyCheckSubject,
  type KeyFinding,
  type KeySeverity,
  type KeyWarning,
} from './key-checks.js';
export { keyFactsOf, formatAlgorithm, type KeyFacts, type KeyPartFacts, type SecretState } from './key-facts.js';
export { parseKeyText, type KeyText, type NotAKeyReason } from './parse-key-text.js';
export { readKeyInput, describeKeySource, type KeyInput, type KeySource } from './read-key-input.js';
export { loadKey, throwIfBlocked, type LoadedKey, type LoadKeyOptions } from './load-key.js';
export { formatKeyInspection, formatKeyInspectionJson } from './format-key-inspection.js';
export { parseDuration, formatDuration } from './parse-duration.js';
export { writeKeyFiles, publicKeyPathFor } from './write-key-files.js';
export { printablePublicKey } from './printable-public-key.js';
export { rewrapArmor } from './rewrap-armor.js';
export { writeTempSecretFile, type TempSecretFile } from './temp-secret-file.js';
export type { KeyIdentity } from '../pgp/key-identity.js';
