// The docker-daemon source against the real engine: a fixture image is `docker load`ed, then read
// back through the engine API (a streamed docker save) and compared with the archive scan.
import test from 'ava';
import { join } from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../../src/errors.js';
import { scanTarget } from '../../src/scan/index.js';
import { runCli } from '../helpers/cli.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';
import { ensureDebianGnupgImage, loadFixtureArchive } from '../helpers/images.js';

const DOCKER = '/usr/bin/docker';

test('[integration] docker-daemon: a loaded image streams through the engine and scans like its archive', async (t) => {
  const { dir, cleanup } = await makeFixtureDir('eic-scan-daemon');
  const tag = `eic-build-test/scan-core-daemon:${process.pid}`;
  t.teardown(async () => {
    await execa(DOCKER, ['rmi', '-f', tag], { reject: false });
    await cleanup();
  });
  const key = await openpgp.generateKey({ userIDs: [{ name: 'Daemon Test', email: 'd@example.org' }], format: 'armored' });
  const archive = join(dir, 'image.tar');
  await writeFixture(
    {
      layers: [
        { files: { 'etc/os-release': 'ID=fixture', 'root/.gnupg/key.asc': key.privateKey }, compression: 'none' },
        { whiteouts: ['root/.gnupg/key.asc'], files: { 'etc/motd': 'hi' }, compression: 'none' },
      ],
      history: [{ created_by: 'COPY key.asc /root/.gnupg/' }, { created_by: 'RUN rm /root/.gnupg/key.asc' }],
    },
    'docker-legacy',
    archive,
    // Loaded straight under this test's tag: a shared name could be moved by another file's load in between.
    { repoTags: [tag] },
  );
  await loadFixtureArchive(archive, tag);

  const [fromDaemon, fromArchive] = await Promise.all([scanTarget(`docker-daemon:${tag}`), scanTarget(archive)]);
  t.true(fromDaemon.leaked);
  const strip = (r: typeof fromDaemon) => r.findings.map((f) => ({ path: f.path, layer: f.layer, hiddenBy: f.hiddenBy, createdBy: f.createdBy, fingerprints: f.fingerprints }));
  t.deepEqual(strip(fromDaemon), strip(fromArchive));
  t.like(fromDaemon.findings[0], { path: 'root/.gnupg/key.asc', visibleInFinalImage: false, createdBy: 'COPY key.asc /root/.gnupg/' });

  const missing = await t.throwsAsync(scanTarget('docker-daemon:eic-build-test/scan-core-missing:never'));
  t.true(missing instanceof EicBuildError);
  t.is((missing as EicBuildError).code, 'input-not-found');
});

// A real ~200 MB layer fills the stream buffer thousands of times: each wait for it to drain must
// leave no listener behind (this once printed MaxListenersExceededWarning in build logs).
test('[integration] docker-daemon: scanning a large real image through the CLI prints no warning on stderr', async (t) => {
  const image = await ensureDebianGnupgImage();
  const result = await runCli(['scan', `docker-daemon:${image}`, '--format', 'json'], { timeout: 240_000 });
  t.is(result.exitCode, 0, String(result.stderr));
  t.false(/Warning|MaxListeners|memory leak/i.test(String(result.stderr)), String(result.stderr));
  const report = JSON.parse(String(result.stdout)) as { stats: { bytesScanned: number } };
  t.true(report.stats.bytesScanned > 50_000_000, `bytesScanned ${report.stats.bytesScanned}`);
});
