// The docker-daemon source against the real engine: a fixture image is `docker load`ed, then read
// back through the engine API (a streamed docker save) and compared with the archive scan.
import test from 'ava';
import { join } from 'node:path';
import { execa } from 'execa';
import * as openpgp from 'openpgp';
import { EicBuildError } from '../../src/errors.js';
import { scanTarget } from '../../src/scan/index.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';

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
  );
  const loaded = await execa(DOCKER, ['load', '-i', archive]);
  const id = /Loaded image(?: ID)?: (\S+)/.exec(loaded.stdout)?.[1];
  t.truthy(id, loaded.stdout);
  await execa(DOCKER, ['tag', id!, tag]);

  const [fromDaemon, fromArchive] = await Promise.all([scanTarget(`docker-daemon:${tag}`), scanTarget(archive)]);
  t.true(fromDaemon.leaked);
  const strip = (r: typeof fromDaemon) => r.findings.map((f) => ({ path: f.path, layer: f.layer, hiddenBy: f.hiddenBy, createdBy: f.createdBy, fingerprints: f.fingerprints }));
  t.deepEqual(strip(fromDaemon), strip(fromArchive));
  t.like(fromDaemon.findings[0], { path: 'root/.gnupg/key.asc', visibleInFinalImage: false, createdBy: 'COPY key.asc /root/.gnupg/' });

  const missing = await t.throwsAsync(scanTarget('docker-daemon:eic-build-test/scan-core-missing:never'));
  t.true(missing instanceof EicBuildError);
  t.is((missing as EicBuildError).code, 'input-not-found');
});
