// An EIC-size image of REAL files: 32 layers (2 big, 6 medium, 24 small; two in three gzip -6, one in
// three zstd -3), ≥ 8 GB uncompressed, each a slice of the machine's /usr starting at its own place
// (so the layers differ, as a stack of Spack environments does). Prints the scan time against the sum
// of the layers' fastest-available decompression times (igzip / zstd binaries, else Node) ÷ cores.
// Slow to build (minutes); cached in $TMPDIR/eic-build-bench-scan/eic-32.
// EIC_BUILD_BENCH_EIC_LAYERS=3,5,6,8 scans only those layers (an image of them, next to the full one):
// a quicker image to iterate on (3 and 5 hold most of /usr/lib/google-cloud-sdk/platform, 6 and 8
// tens of thousands of small .gz files).
import { link, mkdir, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BENCH_ROOT, buildLayer, cached, listRootfs, sliceRootfs, writeLayout, type BuiltLayer, type LayerCompression } from './_scan-fixtures.js';
import { hasCommand, load, rounds, runChild, timeCommand, type ChildResult } from './scan.js';

const SIZES = [...Array<number>(2).fill(1.25e9), ...Array<number>(6).fill(0.5e9), ...Array<number>(24).fill(0.2e9)];
const BUILD_PARALLEL = 2;

async function eicImage(): Promise<{ value: { dir: string; layers: BuiltLayer[] }; made: boolean }> {
  const dir = join(BENCH_ROOT, 'eic-32');
  return cached(dir, async () => {
    const all = await listRootfs(['/usr']);
    const layers = new Array<BuiltLayer>(SIZES.length);
    let next = 0;
    const lane = async () => {
      while (next < SIZES.length) {
        const i = next++;
        const compression: LayerCompression = i % 3 === 2 ? 'zstd' : 'gzip';
        // Start points spread over the file list (a prime stride), wrapping around.
        const start = Math.floor(((i * 7919) % SIZES.length) * (all.length / SIZES.length));
        layers[i] = await buildLayer(dir, `layer-${i}`, sliceRootfs(all, start, SIZES[i]!), compression);
      }
    };
    await Promise.all(Array.from({ length: BUILD_PARALLEL }, lane));
    await writeLayout(dir, layers);
    return { dir, layers };
  });
}

/** Fastest decompression here of one layer: the tool when on PATH, else Node (a child, like the scan). */
async function fastestDecode(layer: BuiltLayer, tools: { igzip: boolean; zstd: boolean }): Promise<{ seconds: number; cpuSeconds: number; how: string }> {
  if (layer.compression === 'gzip' && tools.igzip) return { ...(await timeCommand(`igzip -dc ${layer.blob}`)), how: 'igzip' };
  if (layer.compression === 'zstd' && tools.zstd) return { ...(await timeCommand(`zstd -dc -q ${layer.blob}`)), how: 'zstd' };
  if (layer.compression === 'gzip') {
    const r = await runChild('gunzip', layer.blob);
    return { seconds: r.seconds, cpuSeconds: r.cpuSeconds, how: 'zlib' };
  }
  return { seconds: 0, cpuSeconds: 0, how: 'none' };
}

/** An image of some layers of `full` (blobs hard-linked, not copied: zstd skips symbolic links), for EIC_BUILD_BENCH_EIC_LAYERS. */
async function subsetImage(full: { dir: string; layers: BuiltLayer[] }, spec: string): Promise<{ dir: string; layers: BuiltLayer[] }> {
  const picked = spec.split(',').map((part) => {
    const index = Number(part.trim());
    const layer = full.layers[index];
    if (!Number.isInteger(index) || !layer) throw new Error(`EIC_BUILD_BENCH_EIC_LAYERS: '${part}' is not a layer index (0-${full.layers.length - 1})`);
    return layer;
  });
  const dir = join(BENCH_ROOT, `eic-32-layers-${picked.map((l) => full.layers.indexOf(l)).join('-')}`);
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const layers = await Promise.all(
    picked.map(async (layer) => {
      const blob = join(dir, 'blobs', 'sha256', layer.digest.slice(7));
      await link(layer.blob, blob);
      return { ...layer, blob };
    }),
  );
  await writeLayout(dir, layers);
  return { dir, layers };
}

export default async function bench(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const { value: full, made } = await eicImage();
  const spec = process.env.EIC_BUILD_BENCH_EIC_LAYERS;
  const image = spec ? await subsetImage(full, spec) : full;
  const total = image.layers.reduce((sum, l) => sum + l.uncompressedBytes, 0);
  const compressed = image.layers.reduce((sum, l) => sum + l.size, 0);
  const zstdLayers = image.layers.filter((l) => l.compression === 'zstd').length;
  log(
    `fixture: ${image.layers.length} layers (${image.layers.length - zstdLayers} gzip -6, ${zstdLayers} zstd -3) of real files from /usr: ${(total / 1e9).toFixed(2)} GB uncompressed, ${(compressed / 1e9).toFixed(2)} GB compressed (${made ? `made in ${((Date.now() - started) / 1000).toFixed(0)} s` : 'reused'}) at ${image.dir}`,
  );
  const cores = availableParallelism();
  const tools = { igzip: await hasCommand('igzip'), zstd: await hasCommand('zstd') };
  log(
    `machine: ${cores} cores, Node ${process.version}, igzip ${tools.igzip ? 'on PATH' : 'missing'}, zstd ${tools.zstd ? 'on PATH' : 'missing'}; load average at start ${load()}`,
  );
  for (let round = 0; round < rounds(); round++) {
    let decodeWall = 0;
    let decodeCpu = 0;
    for (const layer of image.layers) {
      const d = await fastestDecode(layer, tools);
      decodeWall += d.seconds;
      decodeCpu += d.cpuSeconds;
    }
    const bound = decodeWall / cores;
    const scan: ChildResult = await runChild('scan', `oci:${image.dir}`);
    log(
      `round ${round + 1}: sum of the layers' fastest decompression ${decodeWall.toFixed(1)} s (CPU ${decodeCpu.toFixed(1)} s), ÷ ${cores} cores = ${bound.toFixed(1)} s; scan ${scan.seconds.toFixed(1)} s (CPU ${(scan.cpuSeconds + scan.childCpuSeconds).toFixed(1)} s with its decoder processes, peak RSS ${(scan.maxRssKiB / 1024).toFixed(0)} MiB, ${scan.findings} findings, ${scan.layersReadTwice} of ${scan.layers} layers read twice for triage); ratio ${(scan.seconds / bound).toFixed(2)}x (target <= 1.1x); load ${load()}`,
    );
  }
}
