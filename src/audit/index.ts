// Audit of published images: re-exports only.
export { runAudit, type AuditOptions, type AuditReport } from './run-audit.js';
export { formatAuditReport, deleteCommand, tagReference } from './format-audit.js';
export { decideTag, leakedKeys, keyIdOf, type TagVerdict, type TagResolution, type LeakedKey, type BlobOutcomes } from './tag-verdicts.js';
export { configFacts, layerFacts, factsFingerprint, STATE_SCHEMA, type BlobFacts, type LayerFacts, type ConfigFacts } from './blob-facts.js';
export { openFactStore, type FactStore } from './fact-store.js';
export { compileTagFilter, globToRegExp } from './tag-glob.js';
