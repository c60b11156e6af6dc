// Library entry point: re-exports only.
export { EicBuildError, isEicBuildError, formatError, type ErrorCode } from './errors.js';
export { redact, registerSecret } from './redact.js';
export { main } from './cli.js';
export {
  resolveSigningKey,
  inspectKey,
  exportPublicKey,
  generateKey,
  writeTempSecretFile,
  KEY_CHECKS,
  runKeyChecks,
  SIGNING_KEY_VARIABLE,
  PASSPHRASE_VARIABLE,
  type SigningKey,
  type ResolveSigningKeyOptions,
  type KeyInspection,
  type KeyFinding,
  type KeyWarning,
  type KeyFacts,
  type GeneratedKey,
  type TempSecretFile,
} from './keys/index.js';
export { scanTarget, formatReport, type ScanOptions, type ScanReport, type ReportFinding, type ReportNote, type ReportFormat } from './scan/index.js';
export {
  renderProject,
  renderFromTexts,
  writeRenderedProject,
  publicKeyContextPath,
  lintDockerfile,
  LINT_RULES,
  validateMirrors,
  parseProjectConfig,
  type RenderedProject,
  type RenderedSecret,
  type RenderProjectOptions,
  type LintRule,
  type LintFinding,
  type MirrorInfo,
  type ProjectConfig,
} from './render/index.js';
export {
  RegistryClient,
  parseImageReference,
  formatImageReference,
  credentialsFromAccessPair,
  readDockerConfigCredentials,
  type ImageReference,
  type RegistryClientOptions,
  type Credentials,
  type AccessPair,
  type FetchedManifest,
  type Descriptor,
  type Referrers,
} from './registry/index.js';
export {
  verifyFileMirror,
  verifyOciMirror,
  signFileMirror,
  signOciMirror,
  parseMirrorUrl,
  readTrustedKeys,
  formatVerifyText,
  formatVerifyJson,
  type VerifyReport,
  type EntryResult,
  type EntryKind,
  type SignOutcome,
  type MirrorLocation,
} from './buildcache/index.js';
export {
  createContentScanner,
  scanConfigValue,
  DETECTORS,
  type ContentScanner,
  type ContentFinding,
  type ContentNote,
  type DetectorInfo,
} from './detectors/index.js';
export { deriveKeyIdentity, computeKeygrip, identifyGnupgKeyFile, type KeyIdentity, type GnupgKeyFile } from './pgp/index.js';
