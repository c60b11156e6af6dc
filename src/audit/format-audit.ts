// The audit report for people (text), scripts (JSON) and code scanning (SARIF 2.1.0). Pure.
import { EicBuildError } from '../errors.js';
import { toSarif } from '../scan/format-sarif.js';
import type { ReportFormat } from '../scan/format-report.js';
import { defuseMarkers, type ReportFinding } from '../scan/report.js';
import type { AuditReport } from './run-audit.js';
import type { TagVerdict } from './tag-verdicts.js';

/** A registry reference of a tag of the audited repository, e.g. `docker://HOST/REPO:TAG`. */
export function tagReference(target: string, tag: string): string {
  return `${target.replace(/\/+$/, '')}:${tag}`;
}

function shortDigest(digest: string): string {
  return `${digest.slice(0, 19)}…`;
}

function describeFinding(finding: ReportFinding): string {
  const image = finding.image.kind === 'attestation' ? 'attestation' : (finding.image.platform ?? 'image');
  if (finding.source === 'config') return `[${image}] image config ${finding.field}`;
  const path = finding.path === null ? 'the blob itself' : `/${finding.path}${finding.nestedPath ? ` → ${finding.nestedPath}` : ''}`;
  const seen = finding.visibleInFinalImage ? 'visible' : `hidden by layer ${finding.hiddenBy?.index} (${finding.hiddenBy?.how}), still shipped`;
  return `[${image}] layer ${finding.layer?.index} ${shortDigest(finding.layer?.digest ?? '')} ${path} (${seen})`;
}

/** The delete command for one tag: skopeo's docker transport spells the target as the audit does. */
export function deleteCommand(target: string, tag: string): string {
  const reference = tagReference(target, tag);
  return reference.startsWith('docker+http://') ? `skopeo delete --tls-verify=false ${reference.replace('docker+http://', 'docker://')}` : `skopeo delete ${reference}`;
}

function formatText(report: AuditReport): string {
  const lines: string[] = [];
  const { stats } = report;
  const leaked = report.tags.filter((tag) => tag.status === 'leaked');
  const unreadable = report.tags.filter((tag) => tag.unreadable.length > 0);
  const clean = report.tags.filter((tag) => tag.status === 'clean');
  lines.push(
    `audit of ${report.target}: ${stats.tags} tag(s) (of ${stats.tagsInRepository}), ${stats.images} image manifest(s), ${stats.blobs} distinct blob(s) ` +
      `(${stats.blobsScanned} scanned, ${stats.blobsFromState} from --state), ${(stats.bytesDownloaded / 1024 / 1024).toFixed(1)} MiB downloaded in ${stats.seconds.toFixed(2)} s`,
  );
  lines.push(`result: ${leaked.length} tag(s) LEAKED, ${unreadable.length} tag(s) UNREADABLE, ${clean.length} clean.`);
  if (leaked.length > 0) {
    lines.push('', 'leaked tags:');
    for (const verdict of leaked) {
      lines.push(`  ${verdict.tag} (${verdict.digest ?? '?'}): key(s) ${verdict.keys.join(', ')}`);
      for (const finding of verdict.findings) lines.push(`    - ${finding.detector}: ${describeFinding(finding)}${finding.matchesPublicKey ? ' [matches a --public-key]' : ''}`);
    }
  }
  if (unreadable.length > 0) {
    lines.push('', 'unreadable tags (their verdict cannot be trusted; fix the registry or the credentials and audit again):');
    for (const verdict of unreadable) {
      lines.push(`  ${verdict.tag}:`);
      for (const why of verdict.unreadable) lines.push(`    - ${why}`);
    }
  }
  const noted = report.tags.filter((verdict) => verdict.notes.length > 0);
  if (noted.length > 0) {
    lines.push('', 'notes (not leaks; a bound hit or an unreadable member means those bytes were not fully searched):');
    for (const verdict of noted) {
      lines.push(`  ${verdict.tag}:`);
      for (const note of verdict.notes) {
        const at = note.field ?? [note.layer ? `layer ${note.layer.index} ${shortDigest(note.layer.digest)}` : null, note.path, note.nestedPath].filter(Boolean).join(' ');
        lines.push(`    - ${at ? `${at}: ` : ''}${note.message}`);
      }
    }
  }
  if (report.leakedKeys.length > 0) {
    lines.push('', 'tags to delete, per leaked key (then rotate the key: see docs/incident.md):');
    for (const key of report.leakedKeys) {
      lines.push(`  key ${key.key} (${key.detectors.join(', ')}${key.matchesPublicKey ? '; the secret half of a --public-key' : ''}): ${key.tags.length} tag(s)`);
      for (const tag of key.tags) lines.push(`    ${deleteCommand(report.target, tag)}`);
    }
  }
  if (clean.length > 0) lines.push('', `clean tags: ${clean.map((verdict) => verdict.tag).join(' ')}`);
  return `${lines.join('\n')}\n`;
}

function formatSarif(report: AuditReport): object {
  const findings: ReportFinding[] = [];
  const owners: TagVerdict[] = [];
  for (const verdict of report.tags) {
    for (const finding of verdict.findings) {
      findings.push(finding);
      owners.push(verdict);
    }
  }
  // toSarif lists published keys (notes with provenance) after the findings, in note order.
  const notes = report.tags.flatMap((verdict) => verdict.notes);
  for (const verdict of report.tags) for (const note of verdict.notes) if (note.provenance && note.detector) owners.push(verdict);
  const sarif = toSarif({
    target: report.target,
    leaked: report.leaked,
    findings,
    notes,
    stats: { layers: report.stats.blobs, bytesScanned: report.stats.bytesScanned, seconds: report.stats.seconds, images: report.stats.images, layersReadTwice: 0 },
    images: [],
  }) as {
    runs: {
      tool: { driver: { name: string } };
      results: { message: { text: string }; locations: { physicalLocation: { artifactLocation: { uri: string } } }[]; properties: Record<string, unknown> }[];
      properties: Record<string, unknown>;
      invocations?: unknown[];
    }[];
  };
  const run = sarif.runs[0]!;
  run.tool.driver.name = 'eic-build audit';
  run.results.forEach((result, i) => {
    const verdict = owners[i]!;
    result.message.text = `${verdict.tag}: ${result.message.text}`;
    for (const location of result.locations) location.physicalLocation.artifactLocation.uri = `tags/${verdict.tag}/${location.physicalLocation.artifactLocation.uri}`;
    result.properties.tag = verdict.tag;
    result.properties.tagDigest = verdict.digest;
    if (i < findings.length) result.properties.image = findings[i]!.image;
  });
  run.invocations = [
    {
      executionSuccessful: !report.unreadable,
      toolExecutionNotifications: [
        ...report.tags
          .filter((verdict) => verdict.unreadable.length > 0)
          .map((verdict) => ({ level: 'error', message: { text: `${verdict.tag}: unreadable: ${verdict.unreadable.join('; ')}` } })),
        // Notes are not results (not leaks) but say what was not fully searched.
        ...report.tags.flatMap((verdict) =>
          verdict.notes.map((note) => ({ level: 'warning', message: { text: `${verdict.tag}: ${note.kind}: ${note.message}` }, properties: { tag: verdict.tag, ...note } })),
        ),
      ],
    },
  ];
  run.properties = { target: report.target, leaked: report.leaked, unreadable: report.unreadable, stats: report.stats, leakedKeys: report.leakedKeys };
  return sarif;
}

/** Render an audit report; JSON and SARIF are one object each, ending with a newline. */
export function formatAuditReport(report: AuditReport, format: ReportFormat): string {
  switch (format) {
    case 'text':
      return defuseMarkers(formatText(report));
    case 'json':
      return defuseMarkers(`${JSON.stringify(report, null, 2)}\n`);
    case 'sarif':
      return defuseMarkers(`${JSON.stringify(formatSarif(report), null, 2)}\n`);
    default:
      throw new EicBuildError('internal', `unknown format ${String(format)}`);
  }
}
