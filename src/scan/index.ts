// Public API of the leak scanner: re-exports only.
export { scanTarget, validateAllowKeys, type ScanOptions } from './scan-target.js';
export { parseScanTuning, SCAN_TUNING_VARIABLES, type ScanTuning, type TuningVariable } from './scan-tuning.js';
export { formatReport, parseReportFormat, type ReportFormat } from './format-report.js';
export type { ScanReport, ReportFinding, ReportNote, ImagePointer, LayerPointer } from './report.js';
export { parseTarget, formatTarget, resolveTarget, type ParsedTarget, type ResolvedTarget, type TargetKind } from './target.js';
export { scanLayerBlob, type LayerScanJob, type LayerScanResult } from './layer-scan.js';
export { decideVisibility, VisibilityIndex, type LayerChanges, type Visibility } from './visibility.js';
