// The nested-archive path on REAL content, small and fast enough to iterate on: two uncompressed
// layers (so layer decompression is not in the figures) of the machine's own files that are mostly
// archives inside a layer:
// - `/usr/lib/google-cloud-sdk/platform`: jars (thousands of deflated .class members each), zips,
//   wheels, .tar.gz, nested jars — what dominates the EIC-size image (`scan-eic`);
// - `/usr/share/man` + `/usr/share/doc`: tens of thousands of small .gz files.
// Each layer is scanned on the main thread (EIC_BUILD_SCAN_WORKERS=0) in a child process; printed:
// CPU s (all threads), main-thread CPU s, wall s, CPU s per GB of layer, the main thread's garbage
// collection pauses (wall time: inflated on a busy machine; `node --cpu-prof` gives the CPU share),
// peak RSS, findings. EIC_BUILD_BENCH_NESTED_ONLY=gcloud|man picks one layer.
// Fixtures are cached in $TMPDIR/eic-build-bench-scan/nested-real.
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BENCH_ROOT, buildLayer, cached, listRootfs, writeLayout, type BuiltLayer } from './_scan-fixtures.js';
import { load, rounds, type ChildResult } from './scan.js';

const child = fileURLToPath(new URL('./_scan-child.ts', import.meta.url));
const gcMeter = fileURLToPath(new URL('./_gc-meter.mjs', import.meta.url));

const LAYERS: Record<string, string[]> = {
  gcloud: ['/usr/lib/google-cloud-sdk/platform'],
  man: ['/usr/share/man', '/usr/share/doc'],
};

interface Fixture {
  dir: string;
  layer: BuiltLayer;
  files: number;
}

async function fixture(name: string, roots: string[]): Promise<{ value: Fixture; made: boolean } | null> {
  const dir = join(BENCH_ROOT, 'nested-real', name);
  return cached(dir, async () => {
    const entries = await listRootfs(roots);
    const layer = await buildLayer(dir, 'layer', entries, 'none');
    await writeLayout(dir, [layer]);
    return { dir, layer, files: entries.length };
  });
}

/** One scan of `dir` on the main thread, in a child, with its GC pauses measured. */
async function scanChild(dir: string): Promise<ChildResult & { gcSeconds: number }> {
  const gcFile = join(tmpdir(), `eic-build-bench-gc-${process.pid}.json`);
  try {
    const result = await execa(process.execPath, ['--import', 'tsx', '--import', gcMeter, child, 'scan', `oci:${dir}`], {
      env: { ...process.env, EIC_BUILD_SCAN_WORKERS: '0', EIC_BUILD_BENCH_GC_FILE: gcFile },
    });
    const figures = JSON.parse(result.stdout.trim().split('\n').pop()!) as ChildResult;
    const gc = JSON.parse(await readFile(gcFile, 'utf8')) as { gcSeconds: number };
    return { ...figures, gcSeconds: gc.gcSeconds };
  } finally {
    await rm(gcFile, { force: true });
  }
}

export default async function bench(log: (line: string) => void): Promise<void> {
  const only = process.env.EIC_BUILD_BENCH_NESTED_ONLY;
  for (const [name, roots] of Object.entries(LAYERS)) {
    if (only && only !== name) continue;
    const built = await fixture(name, roots);
    if (!built) continue;
    const { dir, layer, files } = built.value;
    const gb = layer.uncompressedBytes / 1e9;
    log(`${name}: ${roots.join(' + ')}, ${files} entries, ${gb.toFixed(3)} GB uncompressed tar (${built.made ? 'made' : 'reused'}); load ${load()}`);
    for (let round = 0; round < rounds(); round++) {
      const r = await scanChild(dir);
      log(
        `  round ${round + 1}: CPU ${r.cpuSeconds.toFixed(2)} s (main thread ${r.mainCpuSeconds.toFixed(2)} s; its GC pauses ${r.gcSeconds.toFixed(2)} s of wall time), wall ${r.seconds.toFixed(2)} s, ${(r.cpuSeconds / gb).toFixed(1)} CPU s/GB, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB, ${r.findings} findings; load ${load()}`,
      );
    }
  }
}
