export { formatBytes, formatDuration, formatPlainLine, formatTtyLine, estimateRemainingMs, type ProgressState } from './format.js';
export { parseProgressRequest, resolveProgressMode, type ProgressMode, type ProgressRequest } from './mode.js';
export { createProgressReporter, progressIntervalMs, SILENT_PROGRESS, type ProgressReporter, type ProgressTask, type ReporterOptions } from './reporter.js';
export { progressForIo } from './for-io.js';
export { startScanProgress, type ScanCounts } from './scan-task.js';
export { formatAuditStatus, startAuditProgress, type AuditCounts } from './audit-task.js';
