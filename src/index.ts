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
