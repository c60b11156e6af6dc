import test from 'ava';
import { describeCreatedBy, historyIndexPerLayer, listConfigValues } from '../../src/scan/config-scan.js';
import { formatReport, parseReportFormat } from '../../src/scan/format-report.js';
import { defuseMarkers, type ScanReport } from '../../src/scan/report.js';
import { redact } from '../../src/redact.js';
import { EicBuildError } from '../../src/errors.js';

test('listConfigValues names every scannable field', (t) => {
  const values = listConfigValues({
    config: { Env: ['A=1', 'B=2'], Labels: { 'org.x': 'y' }, Cmd: ['sh'], Entrypoint: ['/e'], OnBuild: ['RUN x'], Healthcheck: { Test: ['CMD', 'true'] } },
    container_config: { Cmd: ['/bin/sh', '-c', '#(nop) ENV A=1'] },
    history: [
      { created_by: 'RUN a', comment: 'buildkit.dockerfile.v0' },
      { created_by: 'ENV A=1', empty_layer: true },
    ],
  });
  t.deepEqual(
    values.map((v) => v.field),
    [
      'config.Env[0]',
      'config.Env[1]',
      'config.Labels["org.x"]',
      'config.Cmd[0]',
      'config.Entrypoint[0]',
      'config.OnBuild[0]',
      'config.Healthcheck.Test[0]',
      'config.Healthcheck.Test[1]',
      'container_config.Cmd[0]',
      'container_config.Cmd[1]',
      'container_config.Cmd[2]',
      'history[0].created_by',
      'history[0].comment',
      'history[1].created_by',
    ],
  );
  t.deepEqual(listConfigValues(null), []);
  t.deepEqual(
    listConfigValues({ config: { Env: 'not-a-list-but-string' } }).map((v) => v.field),
    ['config.Env[0]'],
  );
});

test('layers map to history entries that are not empty_layer; mismatches give null', (t) => {
  const config = { history: [{ created_by: 'FROM' }, { created_by: 'ENV', empty_layer: true }, { created_by: 'RUN' }] };
  t.deepEqual(historyIndexPerLayer(config, 2), [0, 2]);
  t.deepEqual(historyIndexPerLayer(config, 3), [null, null, null]);
  t.is(describeCreatedBy(config, 2, new Set()), 'RUN');
  t.regex(describeCreatedBy(config, 2, new Set([2]))!, /redacted: history\[2\]/);
});

test('key markers in report text are defused so the output redactor cannot swallow the rest', (t) => {
  const text = '{"a": "-----BEGIN PGP PRIVATE KEY BLOCK----- [REDACTED 10 bytes]", "b": "(private-keys-v1.d)", "c": "(21:protected-private-key", "d": "tail"}';
  const defused = defuseMarkers(text);
  t.is(redact(defused), defused);
  t.deepEqual(JSON.parse(redact(defused)), {
    a: '[BEGIN PGP PRIVATE KEY BLOCK] [REDACTED 10 bytes]',
    b: '( private-keys-v1.d)',
    c: '( 21:protected-private-key',
    d: 'tail',
  });
});

const report: ScanReport = {
  target: 'x.tar',
  leaked: false,
  findings: [],
  notes: [
    {
      kind: 'secret-mount-stub',
      detector: null,
      source: 'layer',
      layer: { index: 0, digest: 'sha256:00' },
      path: 'run/secrets/k',
      nestedPath: null,
      field: null,
      message: 'empty',
      provenance: null,
    },
  ],
  stats: { layers: 1, bytesScanned: 10, seconds: 0.1, images: 1, layersReadTwice: 0 },
  images: [],
};

test('every format renders a clean report; JSON and SARIF parse', (t) => {
  t.regex(formatReport(report, 'text'), /no private key material found[\s\S]*run\/secrets\/k/);
  t.notRegex(formatReport(report, 'text'), /read twice/);
  t.regex(
    formatReport({ ...report, stats: { ...report.stats, layersReadTwice: 2 } }, 'text'),
    /^scan of .*, 1 layer\(s\), .* \(2 layer\(s\) read twice: large files with findings, hashed for triage\)\n/,
  );
  t.deepEqual(JSON.parse(formatReport(report, 'json')), report);
  const sarif = JSON.parse(formatReport(report, 'sarif')) as { version: string; runs: { results: unknown[] }[] };
  t.is(sarif.version, '2.1.0');
  t.deepEqual(sarif.runs[0]!.results, []);
  t.is(parseReportFormat('sarif'), 'sarif');
  t.throws(() => parseReportFormat('xml'), { instanceOf: EicBuildError });
});
