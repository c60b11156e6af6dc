// Provenance triage: who put a private key into an image (see docs/scan.md, "Provenance triage").
export { triageReport, triageFindings, describeProvenance, isSshHostKeyPath, type TriageImage } from './triage.js';
export { triageImages } from './triage-images.js';
export type { Provenance, PackageManager, LayerProvenance, CapturedRecord, FileDigests } from './types.js';
