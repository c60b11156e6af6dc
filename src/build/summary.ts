import type { PipelineResult } from './run.js';
import { totalsOf } from './publish-step.js';

function megabytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Pure: the short summary for people, printed after BuildKit's own progress. */
export function formatSummary(result: PipelineResult): string {
  const totals = totalsOf(result.scanned);
  const scannedLine = `${result.scanned.length} image(s), ${totals.layers} layer(s), ${megabytes(totals.bytesScanned)} scanned in ${totals.seconds.toFixed(1)} s`;
  const key = `${result.key.fingerprint} (${result.key.source})`;
  if (result.kind === 'leak') {
    const leaking = result.scanned
      .filter((s) => s.gate.blocking.length)
      .map(
        (s) =>
          `${s.item.target ? `stage '${s.item.target}'` : 'the image'}: ${s.gate.blocking.length} blocking finding(s) (${s.gate.blocking
            .map((f) => `${f.detector} in ${f.path ?? f.source}${f.matchesPublicKey ? ', THE SIGNING KEY' : s.gate.blockingInherited.includes(f) ? ', from the base image' : ''}`)
            .filter((v, i, a) => a.indexOf(v) === i)
            .join('; ')})`,
      );
    const fromBase = result.scanned.filter((s) => s.gate.blockingInherited.length);
    const inheritedCount = fromBase.reduce((n, s) => n + s.gate.blockingInherited.length, 0);
    return [
      'eic-build: LEAK: private key material found; nothing was pushed, loaded or exported.',
      `  leaking  ${leaking.join(', ')}`,
      `  key      ${key}`,
      `  scanned  ${scannedLine}`,
      ...(inheritedCount
        ? [
            `  base     ${inheritedCount} of them were already in the base image ${[...new Set(fromBase.map((s) => s.baseImage ?? '?'))].join(', ')} and are not the signing key: remove them from the base image, add --allow-key IDENTITY for a key that is not secret, or --allow-inherited-keys to publish them with a warning ('eic-build scan' of the image will still report them)`,
          ]
        : []),
      '  verdict  leak (exit 1)',
      '',
    ].join('\n');
  }
  const allowed = result.scanned.reduce((n, s) => n + s.gate.allowedInherited.length, 0);
  const destination =
    result.destination.kind === 'push' ? 'pushed' : result.destination.kind === 'load' ? 'loaded into the engine' : `written (--output type=${result.destination.spec.type})`;
  return [
    `eic-build: ${allowed ? 'published WITH INHERITED PRIVATE KEYS' : 'clean'}: ${destination}`,
    `  image    ${result.configDigest ?? '(multi-platform)'}`,
    ...(result.manifestDigest ? [`  digest   ${result.manifestDigest}${result.pushed.length ? ' (read back from the registry)' : ''}`] : []),
    `  tags     ${result.tags.length ? result.tags.join(', ') : '(none)'}`,
    `  key      ${key}`,
    `  scanned  ${scannedLine}`,
    ...(allowed
      ? [
          `  WARNING  ${allowed} private key finding(s) from the base image were let through by --allow-inherited-keys (not the signing key); 'eic-build scan' of this image reports them as a leak`,
        ]
      : []),
    `  verdict  ${allowed ? 'allowed-inherited-keys' : 'clean'}`,
    '',
  ].join('\n');
}

/** Pure: the `--progress json` document on stdout. */
export function summaryJson(result: PipelineResult, scanJson: (index: number) => unknown): Record<string, unknown> {
  const totals = totalsOf(result.scanned);
  const base = {
    verdict: result.kind === 'leak' ? 'leak' : result.scanned.some((s) => s.gate.allowedInherited.length) ? 'allowed-inherited-keys' : 'clean',
    keyFingerprint: result.key.fingerprint,
    keySource: result.key.source,
    stats: { images: result.scanned.length, layers: totals.layers, bytesScanned: totals.bytesScanned, seconds: totals.seconds },
    scans: result.scanned.map((s, i) => ({
      target: s.item.target ?? null,
      reason: s.item.reason,
      blocking: s.gate.blocking.length,
      blockingFromBase: s.gate.blockingInherited.length,
      allowedFromBase: s.gate.allowedInherited.length,
      baseImage: s.baseImage ?? null,
      configDigest: s.configDigest ?? null,
      report: scanJson(i),
    })),
  };
  if (result.kind === 'leak') return { ...base, pushed: false };
  return {
    ...base,
    destination: result.destination.kind,
    tags: result.tags,
    configDigest: result.configDigest ?? null,
    manifestDigest: result.manifestDigest ?? null,
    pushed: result.pushed.map((p) => ({ tag: p.tag, manifestDigest: p.manifestDigest, configDigest: p.configDigest })),
    metadata: result.metadata,
  };
}
