import { verifyExitCode, formatVerifyText, verifyJsonFields, type VerifyReport } from '../report.js';

/** What `verify --copy-to` did with DIR. */
export type CopyResult =
  | {
      kind: 'written';
      dir: string;
      /** Spack layout of the copy. */
      layout: 'v2' | 'v3';
      /** Whether the copy holds Spack-checkable signatures (file/http sources) or not (OCI: read it with `signed: false`). */
      signed: boolean;
      entries: number;
      files: number;
      bytes: number;
    }
  | { kind: 'not-written'; dir: string; reason: string };

/** A verify report with what happened to the copy. */
export interface VerifyCopyOutcome {
  report: VerifyReport;
  copy: CopyResult;
}

/** The copy's line for people. */
export function formatCopyLine(copy: CopyResult): string {
  if (copy.kind === 'not-written') return `copy: nothing written to ${copy.dir}: ${copy.reason}`;
  const signing = copy.signed ? 'clearsigned manifests kept: Spack can check them (signed: true)' : 'unsigned: configure it with signed: false';
  return `copy: wrote ${copy.entries} verified entries (${copy.files} files, ${copy.bytes} bytes) to ${copy.dir} as a layout-${copy.layout} mirror; ${signing}`;
}

/** The text report followed by the copy's line. */
export function formatVerifyCopyText(outcome: VerifyCopyOutcome): string {
  return `${formatVerifyText(outcome.report)}${formatCopyLine(outcome.copy)}\n`;
}

/** The JSON report (the fields of formatVerifyJson) with a `copy` field. */
export function formatVerifyCopyJson(outcome: VerifyCopyOutcome): string {
  const { report, copy } = outcome;
  return `${JSON.stringify({ ...verifyJsonFields(report), ok: verifyExitCode(report) === 0 && copy.kind === 'written', copy }, null, 2)}\n`;
}
