// One entry point for every output format of a scan report.
import { EicBuildError } from '../errors.js';
import { formatTextReport } from './format-text.js';
import { toSarif } from './format-sarif.js';
import { defuseMarkers, type ScanReport } from './report.js';

/** Output formats of `eic-build scan --format`. */
export type ReportFormat = 'text' | 'json' | 'sarif';

/** Parse a --format value. */
export function parseReportFormat(value: string): ReportFormat {
  if (value === 'text' || value === 'json' || value === 'sarif') return value;
  throw new EicBuildError('usage', `unknown report format '${value}'`, { hint: 'use --format text, json or sarif.' });
}

/** Render a report. JSON and SARIF end with a newline and are one object each. */
export function formatReport(report: ScanReport, format: ReportFormat): string {
  return defuseMarkers(render(report, format));
}

function render(report: ScanReport, format: ReportFormat): string {
  switch (format) {
    case 'text':
      return formatTextReport(report);
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'sarif':
      return `${JSON.stringify(toSarif(report), null, 2)}\n`;
  }
}
