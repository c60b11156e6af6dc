// Buildcache verify/sign: re-exports only.
export { parseMirrorUrl, type MirrorLocation } from '../mirror-url.js';
export { directoryMirrorFiles, httpMirrorFiles, type MirrorFiles } from './mirror-files.js';
export { readTrustedKeys, parseTrustedKeys, describeKey, type TrustedKey } from './trust.js';
export { verifyClearsigned, verifySignedMessage, type SignatureCheck, type Signer } from './pgp-verify.js';
export { verifyFileMirror, detectFileLayout, listFileEntries, readMirrorKeys, type VerifyFileOptions } from './verify/verify-file.js';
export { verifyOciMirror, verifyOciEntry, findSignatureLayers, selectOciEntries, selectOciLockEntries, type VerifyOciOptions } from './verify/verify-oci.js';
export {
  parseSpackLockSelection,
  readSpackLockSelection,
  selectLockEntries,
  type LockEntry,
  type LockSkipReason,
  type SpackLockSelection,
  type SpackLockOptions,
} from './spack-lock.js';
export { signOciMirror, signOciEntry, signSimpleSigningPayload, type SignOciOptions } from './sign/sign-oci.js';
export { signFileMirror, clearsignText, type SignFileOptions } from './sign/sign-file.js';
export { loadSigningKey, unlockSigningKey, type UnlockedSigningKey } from './sign/signing-key.js';
export {
  formatSimpleSigningPayload,
  parseSimpleSigningPayload,
  signatureTag,
  isSignatureTagOf,
  SIGNATURE_ARTIFACT_TYPE,
  SIGNATURE_LAYER_TYPE,
  type SimpleSigningPayload,
} from './simple-signing.js';
export {
  formatVerifyText,
  formatVerifyJson,
  verifyExitCode,
  matchesSpec,
  lockCounts,
  type LockSelectionInfo,
  type VerifyReport,
  type EntryResult,
  type EntryKind,
  type MirrorKey,
} from './report.js';
export { formatSignText, formatSignJson, type SignOutcome } from './sign/sign-report.js';
export { formatVerifiedMirrorsScope, type VerifiedMirrorCopy } from './copy/copy-scope.js';
export { verifyOciMirrorToCopy, verifyFileMirrorToCopy } from './copy/copy-mirror.js';
export { checkCopyTarget, openCopyTarget, type CopyTarget } from './copy/copy-target.js';
export { mirrorFileOpener, recordingMirrorFiles, type OpenMirrorFile, type RecordingMirrorFiles } from './copy/copy-source.js';
export { formatVerifyCopyText, formatVerifyCopyJson, formatCopyLine, type CopyResult, type VerifyCopyOutcome } from './copy/copy-report.js';
export {
  formatV3Manifest,
  formatSpecDocument,
  formatIndexDatabase,
  parseOciSpecConfig,
  findEntryNode,
  V3MediaTypes,
  V3_LAYOUT_JSON,
  type SpecNodeRecord,
  type OciSpecConfig,
} from './copy/copy-format.js';
