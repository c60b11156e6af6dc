// Hard links (a key kept alive under a second name) and the de-duplication of container-level
// findings: the pure functions, then end to end through the real detectors and the report.
import test from 'ava';
import * as openpgp from 'openpgp';
import type { LayerFinding } from '../../src/scan/entry-sink.js';
import { expandHardLinkFindings, normalizeLinkTarget } from '../../src/scan/hard-links.js';
import { isMemberDuplicate } from '../../src/scan/member-dedupe.js';
import { scanTarget } from '../../src/scan/index.js';
import { buildTar, makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';

function finding(path: string | null, nestedPath: string | null, extra: Partial<LayerFinding> = {}): LayerFinding {
  return {
    detector: 'd',
    kind: 'armored',
    severity: 'critical',
    offset: 0,
    fingerprints: ['AA'],
    keygrips: [],
    matchesPublicKey: false,
    excerpt: '[x]',
    message: 'a key',
    path,
    nestedPath,
    ...extra,
  } as LayerFinding;
}

test('expandHardLinkFindings: copies the target findings to the link path, follows link chains, ignores clean targets', (t) => {
  const base = [finding('srv/a.asc', null), finding('opt/k.tar', 'in/k', { offset: 7 }), finding(null, null)];
  const out = expandHardLinkFindings(base, [
    { path: 'srv/b.asc', target: 'srv/a.asc' },
    { path: 'srv/c.asc', target: 'srv/b.asc' },
    { path: 'opt/l.tar', target: 'opt/k.tar' },
    { path: 'srv/d', target: 'srv/clean' },
    { path: 'srv/a.asc', target: 'srv/a.asc' },
  ]);
  t.deepEqual(
    out.map((f) => `${f.path} :: ${f.nestedPath}`),
    ['srv/a.asc :: null', 'opt/k.tar :: in/k', 'null :: null', 'srv/b.asc :: null', 'srv/c.asc :: null', 'opt/l.tar :: in/k'],
  );
  t.regex(out[3]!.message, /^a key \(hard link to srv\/a\.asc/);
  t.regex(out[4]!.message, /hard link to srv\/b\.asc/);
  t.is(out[5]!.offset, 7);
  t.is(expandHardLinkFindings(base, []), base);
  t.is(normalizeLinkTarget('/srv/a.asc'), 'srv/a.asc');
  t.is(normalizeLinkTarget('./srv/a.asc'), 'srv/a.asc');
});

test('isMemberDuplicate: only a raw finding inside a member range with the same key in that member (or deeper) is a duplicate', (t) => {
  const ranges = [{ start: 512, end: 1024, nestedPath: 'x.tar/in/k' }];
  const member = finding('opt/x.tar.gz', 'x.tar/in/k', { offset: 10 });
  const raw = finding('opt/x.tar.gz', 'x.tar', { offset: 522 });
  t.true(isMemberDuplicate(raw, ranges, [member, raw]));
  t.false(isMemberDuplicate({ ...raw, offset: 1024 }, ranges, [member]), 'outside the member body');
  t.false(isMemberDuplicate({ ...raw, fingerprints: ['BB'] }, ranges, [member]), 'another key');
  t.false(isMemberDuplicate(raw, ranges, [{ ...member, path: 'opt/other' }]), 'another layer file');
  t.false(isMemberDuplicate(raw, ranges, [{ ...member, nestedPath: 'x.tar/in/k2' }]), 'another member');
  t.true(isMemberDuplicate(raw, ranges, [{ ...member, nestedPath: 'x.tar/in/k/deeper.txt' }]), 'deeper inside the member');
  const unnamed = { fingerprints: [], keygrips: [] };
  t.true(isMemberDuplicate({ ...raw, ...unnamed }, ranges, [{ ...member, ...unnamed }]));
  t.false(isMemberDuplicate({ ...raw, ...unnamed }, ranges, [{ ...member, ...unnamed, detector: 'other' }]));
});

test('end to end: a key deleted under its first name but hard-linked in the same layer is visible at the link; archives report it once', async (t) => {
  const { dir, cleanup } = await makeFixtureDir('eic-scan-hardlink');
  t.teardown(cleanup);
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Link Test', email: 'link@example.org' }], format: 'armored' });
  const inner = await buildTar([{ name: 'gnupg/key.asc', content: Buffer.from(key.privateKey) }]);
  const archive = `${dir}/image.tar`;
  await writeFixture(
    {
      layers: [{ files: { 'srv/a.asc': key.privateKey, 'srv/b.asc': { link: 'srv/a.asc' }, 'opt/backup.tar': inner } }, { whiteouts: ['srv/a.asc'] }],
      history: [{ created_by: 'RUN cp key /srv/a.asc && ln /srv/a.asc /srv/b.asc' }, { created_by: 'RUN rm /srv/a.asc' }],
    },
    'docker-oci',
    archive,
  );
  const report = await scanTarget(archive);
  const where = report.findings.map((f) => `${f.path} :: ${f.nestedPath} :: ${f.visibleInFinalImage ? 'visible' : `hidden by ${f.hiddenBy?.index} ${f.hiddenBy?.how}`}`).sort();
  t.deepEqual(where, ['opt/backup.tar :: gnupg/key.asc :: visible', 'srv/a.asc :: null :: hidden by 1 whiteout', 'srv/b.asc :: null :: visible']);
  const linked = report.findings.find((f) => f.path === 'srv/b.asc')!;
  t.regex(linked.message, /hard link to srv\/a\.asc/);
  t.deepEqual(linked.layer, report.findings.find((f) => f.path === 'srv/a.asc')!.layer);
});
