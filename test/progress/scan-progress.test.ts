// The scan's progress callback (ScanOptions.onProgress) on every path: main thread, worker threads,
// and the engine's save stream. Counts only grow and end at the totals.
import test from 'ava';
import { join } from 'node:path';
import { scanTarget, type ScanProgress } from '../../src/scan/scan-target.js';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/images.js';
import { makeFixtureDir, writeFixture } from '../helpers/image-fixture.js';

function monotonic(t: { true: (v: boolean, m?: string) => void }, seen: ScanProgress[]): void {
  for (let i = 1; i < seen.length; i++) {
    t.true(seen[i]!.layersDone >= seen[i - 1]!.layersDone && seen[i]!.bytesDone >= seen[i - 1]!.bytesDone, 'counts only grow');
  }
}

for (const workers of ['0', '2']) {
  test(`an OCI layout: layers and bytes done reach the totals (EIC_BUILD_SCAN_WORKERS=${workers})`, async (t) => {
    const fixture = await makeFixtureDir('eic-build-scan-progress');
    try {
      const dir = join(fixture.dir, 'layout');
      await writeFixture({ layers: [1, 2, 3, 4].map((n) => ({ files: { [`f${n}`]: `${n}`.repeat(5000 * n) }, compression: 'none' as const })) }, 'oci-dir', dir);
      const seen: ScanProgress[] = [];
      const report = await scanTarget(`oci:${dir}`, { env: { EIC_BUILD_SCAN_WORKERS: workers }, onProgress: (p) => seen.push({ ...p }) });
      t.is(seen[0]!.layersDone, 0, 'the totals are known before the first layer is done');
      t.is(seen[0]!.layersTotal, 4);
      const last = seen.at(-1)!;
      t.is(last.layersDone, 4);
      t.is(last.bytesDone, last.bytesTotal ?? -1);
      // Uncompressed layers of 5,000 … 20,000 bytes of content each, plus tar headers.
      t.true(last.bytesTotal! >= 50_000 && last.bytesTotal! < 60_000, String(last.bytesTotal));
      t.false(report.leaked);
      t.is(seen.length, 5, 'once at the start, once per layer');
      monotonic(t, seen);
    } finally {
      await fixture.cleanup();
    }
  });
}

test('[integration] an engine image: bytes of the save stream against the image size, layers as they finish', async (t) => {
  await ensureBusyboxImage();
  const seen: ScanProgress[] = [];
  await scanTarget(`docker-daemon:${BUSYBOX_IMAGE}`, { onProgress: (p) => seen.push({ ...p }) });
  t.true(seen.length > 0);
  const last = seen.at(-1)!;
  t.true(last.layersDone >= 1);
  t.true((last.bytesTotal ?? 0) > 1_000_000, 'the image size is the total');
  t.true(last.bytesDone >= last.bytesTotal! * 0.9, 'the whole stream was counted');
  monotonic(t, seen);
});
