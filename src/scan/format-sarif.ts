// SARIF 2.1.0 for code-scanning uploads: one rule per detector, one result per finding, located
// by layer digest and path.
import { DETECTORS } from './detector-api.js';
import type { ScanReport } from './report.js';
import { version } from '../version.js';

function level(severity: string): 'error' | 'warning' | 'note' {
  if (severity === 'critical' || severity === 'high' || severity === 'error') return 'error';
  if (severity === 'medium' || severity === 'warning') return 'warning';
  return 'note';
}

/** SARIF 2.1.0 log object for a report. */
export function toSarif(report: ScanReport): object {
  const rules = DETECTORS.map((detector) => ({
    id: detector.id,
    name: detector.id,
    shortDescription: { text: detector.title },
    helpUri: detector.docs.startsWith('http') ? detector.docs : undefined,
    help: { text: `See ${detector.docs}` },
    defaultConfiguration: { level: level(detector.severity) },
    properties: { severity: detector.severity },
  }));
  const ruleIndex = new Map(rules.map((rule, i) => [rule.id, i]));
  const results = report.findings.map((finding) => {
    const uri =
      finding.source === 'config'
        ? `image-config/${finding.image.configDigest.replace(':', '/')}`
        : `layers/${(finding.layer?.digest ?? 'unknown').replace(':', '/')}/${finding.path ?? ''}${finding.nestedPath ? `!/${finding.nestedPath}` : ''}`;
    return {
      ruleId: finding.detector,
      ...(ruleIndex.has(finding.detector) ? { ruleIndex: ruleIndex.get(finding.detector) } : {}),
      level: level(finding.severity),
      message: { text: `${finding.message}${finding.matchesPublicKey ? ' (matches a --public-key)' : ''}` },
      locations: [
        {
          physicalLocation: { artifactLocation: { uri } },
          logicalLocations: [
            finding.source === 'config'
              ? { kind: 'member', name: finding.field ?? 'config', fullyQualifiedName: `config:${finding.field}` }
              : { kind: 'module', name: finding.layer?.digest ?? 'layer', fullyQualifiedName: `layer[${finding.layer?.index}]` },
          ],
        },
      ],
      partialFingerprints: finding.fingerprints.length > 0 ? { keyFingerprint: finding.fingerprints.join(',') } : undefined,
      properties: {
        source: finding.source,
        layer: finding.layer,
        path: finding.path,
        nestedPath: finding.nestedPath,
        field: finding.field,
        visibleInFinalImage: finding.visibleInFinalImage,
        fingerprints: finding.fingerprints,
        keygrips: finding.keygrips,
        matchesPublicKey: finding.matchesPublicKey,
        createdBy: finding.createdBy,
        platform: finding.image.platform,
      },
    };
  });
  // Keys a package manager recorded byte for byte: results suppressed externally (by provenance
  // triage), so code-scanning shows them as dismissed rather than open alerts.
  const published = report.notes.flatMap((note) => {
    if (!note.provenance || !note.detector) return [];
    const detector = DETECTORS.find((d) => d.id === note.detector);
    const uri =
      note.source === 'config'
        ? `image-config/${note.field ?? ''}`
        : `layers/${(note.layer?.digest ?? 'unknown').replace(':', '/')}/${note.path ?? ''}${note.nestedPath ? `!/${note.nestedPath}` : ''}`;
    return [
      {
        ruleId: note.detector,
        ...(ruleIndex.has(note.detector) ? { ruleIndex: ruleIndex.get(note.detector) } : {}),
        level: level(detector?.severity ?? 'high'),
        message: { text: note.message },
        locations: [{ physicalLocation: { artifactLocation: { uri } } }],
        suppressions: [{ kind: 'external', justification: note.message }],
        properties: { source: note.source, layer: note.layer, path: note.path, nestedPath: note.nestedPath, provenance: note.provenance },
      },
    ];
  });
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'eic-build scan', version, rules } },
        artifacts: undefined,
        results: [...results, ...published],
        properties: { target: report.target, leaked: report.leaked, stats: report.stats },
      },
    ],
  };
}
