// The report for people: what leaked, where, which instruction added it, what to do.
import type { ReportFinding, ScanReport } from './report.js';
import { isSshHostKeyPath } from './provenance/index.js';

function where(finding: ReportFinding): string {
  if (finding.source === 'config') return `image config, ${finding.field}`;
  const layer = finding.layer ? `layer ${finding.layer.index} (${finding.layer.digest.slice(0, 19)}…)` : 'a layer';
  const path = finding.path === null ? 'the blob itself' : `/${finding.path}`;
  return `${layer}, ${path}${finding.nestedPath ? ` → inside the archive: ${finding.nestedPath}` : ''}`;
}

function fixFor(finding: ReportFinding): string[] {
  if (finding.source === 'layer' && isSshHostKeyPath(finding.path)) {
    // Made by openssh-server's postinst at install time: the same host key in every container.
    return [
      'Remove the host keys in the same RUN step that installs openssh-server (rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub), so no layer keeps them.',
      'Generate host keys when the container starts (ssh-keygen -A in the entrypoint), so each container has its own.',
    ];
  }
  const out = ['Treat the key as compromised: revoke it, rotate to a new signing key, and re-sign what it signed.'];
  if (finding.source === 'config') {
    if (finding.field?.startsWith('history[')) {
      out.push(
        'A build argument or inline command carried the key into the image history: never pass keys with --build-arg or ARG; use RUN --mount=type=secret,id=... (eic-build build does this).',
      );
    } else {
      out.push('The key is in the image config (ENV/LABEL/CMD): remove it from the Dockerfile; pass it at build time with RUN --mount=type=secret.');
    }
  } else {
    out.push('Give the key to the build step with RUN --mount=type=secret (and SPACK_GNUPGHOME on a tmpfs) so it never reaches a layer.');
    if (!finding.visibleInFinalImage) {
      out.push('Deleting it in a later layer does not help: the earlier layer still ships it. Rebuild the image without it.');
    }
  }
  out.push('Do not push this image; delete already-pushed tags that contain this layer.');
  return out;
}

/** Plain text report. */
export function formatTextReport(report: ScanReport): string {
  const lines: string[] = [];
  const { stats } = report;
  const mib = (stats.bytesScanned / 1024 / 1024).toFixed(1);
  const twice = stats.layersReadTwice > 0 ? ` (${stats.layersReadTwice} layer(s) read twice: large files with findings, hashed for triage)` : '';
  lines.push(`scan of ${report.target}: ${stats.images} image manifest(s), ${stats.layers} layer(s), ${mib} MiB scanned in ${stats.seconds.toFixed(2)} s${twice}`);
  const published = report.notes.filter((note) => note.provenance !== null).length;
  if (!report.leaked) {
    lines.push(`result: no private key material found${published > 0 ? ` (${published} published package key(s) listed as notes)` : ''}.`);
  } else {
    lines.push(`result: LEAK: ${report.findings.length} finding(s) of private key material.`);
    report.findings.forEach((finding, i) => {
      lines.push('');
      lines.push(`[${i + 1}] ${finding.severity.toUpperCase()} ${finding.detector}: ${finding.message}`);
      lines.push(`    where:    ${where(finding)}`);
      if (finding.image.platform || finding.image.kind === 'attestation') {
        lines.push(`    image:    ${finding.image.kind === 'attestation' ? 'attestation manifest' : finding.image.platform} ${finding.image.manifestDigest ?? ''}`.trimEnd());
      }
      if (finding.source === 'layer') {
        lines.push(
          `    visible:  ${finding.visibleInFinalImage ? 'yes, in the final image' : `no, hidden by layer ${finding.hiddenBy?.index} (${finding.hiddenBy?.how}), but still shipped in layer ${finding.layer?.index}`}`,
        );
      }
      if (finding.createdBy) lines.push(`    added by: ${finding.createdBy.replace(/\s+/g, ' ')}`);
      if (finding.fingerprints.length > 0) lines.push(`    fingerprints: ${finding.fingerprints.join(', ')}`);
      if (finding.keygrips.length > 0) lines.push(`    keygrips: ${finding.keygrips.join(', ')}`);
      lines.push(`    matches a --public-key: ${finding.matchesPublicKey ? 'YES: this is the secret half of a key you named' : 'no'}`);
      if (finding.excerpt) lines.push(`    excerpt:  ${finding.excerpt.replace(/\s+/g, ' ').slice(0, 160)}`);
      for (const fix of fixFor(finding)) lines.push(`    fix:      ${fix}`);
    });
  }
  if (report.notes.length > 0) {
    lines.push('');
    lines.push(`notes (${report.notes.length}, not leaks):`);
    for (const note of report.notes) {
      const at = note.field ?? [note.layer ? `layer ${note.layer.index}` : null, note.path, note.nestedPath].filter(Boolean).join(' ');
      lines.push(`  - ${at ? `${at}: ` : ''}${note.message}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
