import test from 'ava';
import { gateFindings } from '../../src/build/scan-gate.js';
import type { PipelineResult, ScannedImage } from '../../src/build/pipeline.js';
import { formatSummary, summaryJson } from '../../src/build/summary.js';
import type { ReportFinding, ScanReport } from '../../src/scan/index.js';

// What people and scripts are told about the gate's decision: pure formatting over hand-made results.

const BASE = new Set(['sha256:base0']);
const key = { source: 'file', armoredSecretKey: '', armoredPublicKey: '', fingerprint: 'F'.repeat(40), identity: {} } as unknown as PipelineResult['key'];

function finding(path: string, digest: string, matchesPublicKey = false): ReportFinding {
  return { detector: 'pem-private-key', source: 'layer', path, layer: { index: digest === 'sha256:base0' ? 0 : 2, digest }, matchesPublicKey } as ReportFinding;
}

function scanned(findings: ReportFinding[], allowInheritedKeys: boolean): ScannedImage {
  const report = {
    target: 'docker-daemon:x',
    leaked: findings.length > 0,
    findings,
    notes: [],
    stats: { layers: 3, bytesScanned: 1e6, seconds: 0.5, images: 1, layersReadTwice: 0 },
    images: [],
  } as ScanReport;
  return {
    item: { target: undefined, reason: 'final-image' } as ScannedImage['item'],
    report,
    gate: gateFindings(findings, BASE, { allowInheritedKeys }),
    baseImage: 'example/base:1',
    configDigest: 'sha256:c',
  };
}

function published(s: ScannedImage): PipelineResult {
  return {
    kind: 'published',
    scanned: [s],
    key,
    client: {} as never,
    destination: { kind: 'load' },
    tags: ['x:1'],
    pushed: [],
    configDigest: 'sha256:c',
    manifestDigest: undefined,
    metadata: {},
  };
}

test('a base-image key blocks by default, and the leak summary names the base image and the opt-outs', (t) => {
  const s = scanned([finding('etc/ssl/private/demo.pem', 'sha256:base0')], false);
  const text = formatSummary({ kind: 'leak', scanned: [s], key });
  t.regex(text, /LEAK: private key material found; nothing was pushed/);
  t.regex(text, /pem-private-key in etc\/ssl\/private\/demo\.pem, from the base image/);
  t.regex(text, /1 of them were already in the base image example\/base:1.*--allow-key IDENTITY.*--allow-inherited-keys/);
  t.like(
    summaryJson({ kind: 'leak', scanned: [s], key }, () => null),
    { verdict: 'leak', pushed: false },
  );
});

test('the signing key or an added layer never mentions the opt-out', (t) => {
  const s = scanned([finding('root/key.asc', 'sha256:added', true)], true);
  const text = formatSummary({ kind: 'leak', scanned: [s], key });
  t.regex(text, /root\/key\.asc, THE SIGNING KEY/);
  t.notRegex(text, /allow-inherited-keys/);
});

test('--allow-inherited-keys publishes with a WARNING and a verdict that is not clean', (t) => {
  const s = scanned([finding('etc/ssl/private/demo.pem', 'sha256:base0')], true);
  const text = formatSummary(published(s));
  t.regex(text, /published WITH INHERITED PRIVATE KEYS: loaded into the engine/);
  t.regex(text, /WARNING {2}1 private key finding\(s\) from the base image were let through by --allow-inherited-keys/);
  t.regex(text, /verdict {2}allowed-inherited-keys/);
  const json = summaryJson(published(s), () => null);
  t.is(json.verdict, 'allowed-inherited-keys');
  t.like((json.scans as object[])[0], { blocking: 0, allowedFromBase: 1, baseImage: 'example/base:1' });
});

test('no findings: clean', (t) => {
  const text = formatSummary(published(scanned([], false)));
  t.regex(text, /eic-build: clean: loaded into the engine/);
  t.regex(text, /verdict {2}clean/);
  t.notRegex(text, /WARNING/);
  t.is(summaryJson(published(scanned([], false)), () => null).verdict, 'clean');
});
