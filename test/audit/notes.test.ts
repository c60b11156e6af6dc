// Notes reach the audit report: a layer whose nested gzip member hits the ratio bound is a
// `nested-bounded` note on every tag that ships it (once per blob), in JSON, text and SARIF, as
// `eic-build scan` shows it. Real registry (docker-registry on loopback), real gzip stream (zlib).
import test from 'ava';
import { gzipSync } from 'node:zlib';
import type { AuditReport } from '../../src/audit/index.js';
import { memoryIo } from '../../src/cli-io.js';
import { main } from '../../src/cli.js';
import { RegistryClient } from '../../src/registry/index.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { pushWorld } from './registry-world.js';

const REPO = 'eic/noted';
let registry: TestRegistry;

test.before(async () => {
  registry = await startRegistry();
  // 64 MiB of zeros: past 16 MiB of output the 500x ratio bound stops it.
  const bombLayer = { files: { 'opt/bomb.gz': gzipSync(Buffer.alloc(64 * 1024 * 1024)) } };
  const top = { files: { 'etc/fine': 'ok\n' } };
  await pushWorld(new RegistryClient({ registry: registry.host }), REPO, [
    { tag: 'fine', image: { layers: [top] } },
    // The same bounded layer in both images of an index: one note for the tag.
    {
      tag: 'bomb',
      index: [
        { layers: [bombLayer, top], platform: { os: 'linux', architecture: 'amd64' } },
        { layers: [bombLayer], platform: { os: 'linux', architecture: 'arm64' } },
      ],
    },
  ]);
});

test.after.always(async () => {
  await registry?.stop();
});

test('[integration] a nested gzip bomb is a nested-bounded note of the tag in JSON, text and SARIF (once per blob); still exit 0', async (t) => {
  const json = memoryIo({});
  t.is(await main(['audit', `docker://${registry.host}/${REPO}`, '--format', 'json', '--progress', 'quiet'], json), 0);
  const report = JSON.parse(json.stdout) as AuditReport;
  const byTag = Object.fromEntries(report.tags.map((tag) => [tag.tag, tag]));
  t.deepEqual(byTag.fine!.notes, []);
  const notes = byTag.bomb!.notes;
  t.is(notes.length, 1, JSON.stringify(notes));
  t.is(notes[0]!.kind, 'nested-bounded');
  t.is(notes[0]!.path, 'opt/bomb.gz');
  t.is(notes[0]!.layer?.index, 0);

  const text = memoryIo({});
  t.is(await main(['audit', `docker://${registry.host}/${REPO}`, '--progress', 'quiet'], text), 0);
  t.regex(text.stdout, /notes \(not leaks[^\n]*\n {2}bomb:\n {4}- layer 0 sha256:[0-9a-f]+… opt\/bomb\.gz: /);

  const sarif = memoryIo({});
  t.is(await main(['audit', `docker://${registry.host}/${REPO}`, '--format', 'sarif', '--progress', 'quiet'], sarif), 0);
  const notifications = (JSON.parse(sarif.stdout) as { runs: { invocations: { toolExecutionNotifications: { level: string; message: { text: string } }[] }[] }[] }).runs[0]!
    .invocations[0]!.toolExecutionNotifications;
  t.true(
    notifications.some((n) => n.level === 'warning' && /^bomb: nested-bounded: /.test(n.message.text)),
    JSON.stringify(notifications),
  );
});
