// Provenance triage in the audit, as in scan: a key in a file dpkg recorded byte for byte in the
// same image is a published-key note (the tag is clean); the same key where no record vouches for
// it, a changed recorded file, or --no-provenance stay leaks. Real registry (docker-registry on
// loopback), keys generated now (openssl), dpkg records written in dpkg's formats.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import type { AuditReport } from '../../src/audit/index.js';
import { memoryIo } from '../../src/cli-io.js';
import { main } from '../../src/cli.js';
import { RegistryClient } from '../../src/registry/index.js';
import type { ImageSpec } from '../helpers/image-fixture.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { UNIT_ONLY_RUN } from '../helpers/unit-only.js';
import { pushWorld } from './registry-world.js';

const REPO = 'eic/triaged';
const EXAMPLE = 'usr/share/doc/libdemo-dev/examples/key.pem';
let registry: TestRegistry;

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

function dpkgLayer(recordedKey: string, files: Record<string, string>): ImageSpec['layers'][number] {
  return {
    files: {
      ...files,
      'var/lib/dpkg/status': 'Package: libdemo-dev\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.2.37-2\n',
      'var/lib/dpkg/info/libdemo-dev.md5sums': `${md5(recordedKey)}  ${EXAMPLE}\n`,
    },
  };
}

test.before(async () => {
  // Only the [integration] tests of this file use what follows; a unit-only run selects none of them.
  if (UNIT_ONLY_RUN) return;
  const dir = await mkdtemp(join(tmpdir(), 'eic-audit-provenance-'));
  try {
    for (const name of ['a', 'b']) await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, `${name}.pem`)]);
    const [pem, other] = await Promise.all(['a', 'b'].map((name) => readFile(join(dir, `${name}.pem`), 'utf8')));
    registry = await startRegistry();
    const top = { files: { 'etc/app': 'ok\n' } };
    await pushWorld(new RegistryClient({ registry: registry.host }), REPO, [
      // The package's file in one layer, its records in a later one (as apt writes them): published.
      { tag: 'published', image: { layers: [{ files: { [EXAMPLE]: pem! } }, dpkgLayer(pem!, {}), top] } },
      { tag: 'changed', image: { layers: [dpkgLayer(pem!, { [EXAMPLE]: other! }), top] } },
      { tag: 'unrecorded', image: { layers: [dpkgLayer(pem!, { 'opt/app/key.pem': other! }), top] } },
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test.after.always(async () => {
  await registry?.stop();
});

async function audit(...extra: string[]): Promise<{ exit: number; report: AuditReport; io: ReturnType<typeof memoryIo> }> {
  const io = memoryIo({});
  const exit = await main(['audit', `docker://${registry.host}/${REPO}`, '--format', 'json', '--progress', 'quiet', ...extra], io);
  return { exit, report: JSON.parse(io.stdout) as AuditReport, io };
}

test('[integration] a key dpkg recorded byte for byte is a published-key note of a clean tag; a changed or unrecorded one leaks', async (t) => {
  const { exit, report } = await audit();
  t.is(exit, 1);
  const byTag = Object.fromEntries(report.tags.map((tag) => [tag.tag, tag]));
  t.is(byTag.published!.status, 'clean');
  const note = byTag.published!.notes.find((n) => n.kind === 'published-key');
  t.like(note, { path: EXAMPLE, provenance: { manager: 'dpkg', package: 'libdemo-dev', version: '1.2.37-2' } });
  t.regex(note!.message, /^published example key of libdemo-dev 1\.2\.37-2 \(dpkg records this file byte for byte\)/);
  t.is(byTag.changed!.status, 'leaked');
  t.regex(byTag.changed!.findings[0]!.message, /bytes differ from what dpkg recorded for libdemo-dev 1\.2\.37-2/);
  t.is(byTag.unrecorded!.status, 'leaked');
  t.deepEqual(report.leakedKeys.flatMap((key) => key.tags).sort(), ['changed', 'unrecorded']);
});

test('[integration] --no-provenance: every key is a finding; text and SARIF say published keys as such', async (t) => {
  const off = await audit('--no-provenance');
  t.is(off.exit, 1);
  t.deepEqual(
    off.report.tags.filter((tag) => tag.status === 'leaked').map((tag) => tag.tag),
    ['changed', 'published', 'unrecorded'],
  );
  const text = memoryIo({});
  t.is(await main(['audit', `docker://${registry.host}/${REPO}`, '--tags', 'published', '--progress', 'quiet'], text), 0);
  t.regex(text.stdout, /published:\n {4}- layer 0 sha256:[0-9a-f]+… usr\/share\/doc\/libdemo-dev\/examples\/key\.pem: published example key of libdemo-dev/);
  const sarif = memoryIo({});
  t.is(await main(['audit', `docker://${registry.host}/${REPO}`, '--tags', 'published', '--format', 'sarif', '--progress', 'quiet'], sarif), 0);
  const results = (JSON.parse(sarif.stdout) as { runs: { results: { message: { text: string }; suppressions?: unknown[]; properties: Record<string, unknown> }[] }[] }).runs[0]!
    .results;
  t.is(results.length, 1);
  t.truthy(results[0]!.suppressions);
  t.is(results[0]!.properties.tag, 'published');
  t.regex(results[0]!.message.text, /^published: published example key of libdemo-dev/);
});
