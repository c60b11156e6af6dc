// Scanner speed and memory on one big single-gzip layer of REAL files (a slice of the machine's /usr,
// ≥ 1 GB uncompressed): the scan against Node's own gunzip and against igzip on the same blob, with
// igzip and with the zlib fallback; the scan kernel alone on the uncompressed tar (CPU s/GB against
// igzip's); peak RSS. Ratios are taken within one round (the machine is shared) and each figure is
// the best of EIC_BUILD_BENCH_ROUNDS rounds (default 2). Fixtures are cached in $TMPDIR/eic-build-bench-scan.
import { rename } from 'node:fs/promises';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { BENCH_ROOT, buildLayer, cached, listRootfs, sliceRootfs, writeLayout, type BuiltLayer } from './_scan-fixtures.js';

const child = fileURLToPath(new URL('./_scan-child.ts', import.meta.url));

/** The slice of /usr the layer holds: real binaries, libraries, headers, scripts, docs. */
const ROOTS = ['/usr/bin', '/usr/include', '/usr/lib/x86_64-linux-gnu', '/usr/lib/python3', '/usr/lib/python3.11', '/usr/lib/gcc', '/usr/sbin', '/usr/share'];
// Hard links are stored once, so the tar is somewhat smaller than the sum of the entries.
const LAYER_BYTES = 2.0e9;

export interface ChildResult {
  seconds: number;
  cpuSeconds: number;
  /** CPU of the main thread alone (the tar walk and the detectors when decoding runs elsewhere). */
  mainCpuSeconds: number;
  /** CPU of waited-for child processes (igzip, zstd). */
  childCpuSeconds: number;
  maxRssKiB: number;
  bytes: number;
  leaked?: boolean;
  findings?: number;
  code?: string;
  layers?: number;
  layersReadTwice?: number;
}

export async function runChild(mode: 'scan' | 'gunzip' | 'kernel', target: string, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  const result = await execa(process.execPath, ['--import', 'tsx', child, mode, target], { env: { ...process.env, ...env } });
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as ChildResult;
}

/** Wall and CPU seconds of a command run to completion, its stdout discarded (bash's `time`). */
export async function timeCommand(command: string): Promise<{ seconds: number; cpuSeconds: number }> {
  const result = await execa('bash', ['-c', `TIMEFORMAT='%R %U %S'; time (${command} > /dev/null)`]);
  const [real, user, sys] = result.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { seconds: real!, cpuSeconds: user! + sys! };
}

export async function hasCommand(name: string): Promise<boolean> {
  return execa('bash', ['-c', `command -v ${name}`]).then(
    () => true,
    () => false,
  );
}

export function rounds(): number {
  return Math.max(1, Number(process.env.EIC_BUILD_BENCH_ROUNDS) || 2);
}

export function load(): string {
  return loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
}

interface RealLayerFixture {
  gzip: BuiltLayer;
  tar: BuiltLayer;
  files: number;
  gzipDir: string;
  tarDir: string;
}

/** The real-files layer: one OCI layout with it gzip'd, one with it uncompressed (for the kernel). */
async function realLayer(): Promise<{ value: RealLayerFixture; made: boolean }> {
  const dir = join(BENCH_ROOT, 'real-usr-1g6');
  return cached(dir, async () => {
    const entries = sliceRootfs(await listRootfs(ROOTS), 0, LAYER_BYTES);
    const gzipDir = join(dir, 'gzip');
    const tarDir = join(dir, 'tar');
    const keptTar = join(dir, 'layer.tar');
    const gzip = await buildLayer(gzipDir, 'layer', entries, 'gzip', keptTar);
    await writeLayout(gzipDir, [gzip]);
    const blob = join(tarDir, 'blobs', 'sha256', gzip.diffId.slice(7));
    await execa('mkdir', ['-p', join(tarDir, 'blobs', 'sha256')]);
    await rename(keptTar, blob);
    const tar: BuiltLayer = { blob, digest: gzip.diffId, size: gzip.uncompressedBytes, diffId: gzip.diffId, uncompressedBytes: gzip.uncompressedBytes, compression: 'none' };
    await writeLayout(tarDir, [tar]);
    return { gzip, tar, files: entries.length, gzipDir, tarDir };
  });
}

const GB = 1e9;
const MiB = 1024 ** 2;

/** The benchmark section. */
export default async function bench(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const { value: fx, made } = await realLayer();
  const gb = fx.gzip.uncompressedBytes / GB;
  log(
    `fixture: one gzip -6 layer of ${fx.files} real entries from ${ROOTS.join(' ')}: ${gb.toFixed(2)} GB uncompressed, ${(fx.gzip.size / GB).toFixed(2)} GB gzip (${made ? `made in ${((Date.now() - started) / 1000).toFixed(0)} s` : 'reused'}) at ${fx.gzipDir}`,
  );
  log(`machine: ${availableParallelism()} cores, Node ${process.version}; load average at start ${load()}`);
  const igzip = await hasCommand('igzip');
  const best = <T extends { seconds: number }>(a: T | null, b: T) => (a === null || b.seconds < a.seconds ? b : a);
  let gunzip: ChildResult | null = null;
  let igzipTime: { seconds: number; cpuSeconds: number } | null = null;
  let scanFast: ChildResult | null = null;
  let scanZlib: ChildResult | null = null;
  let scanFastHere: ChildResult | null = null;
  let kernel: ChildResult | null = null;
  const ratiosFast: number[] = [];
  const ratiosZlib: number[] = [];
  const ratiosFastHere: number[] = [];
  for (let round = 0; round < rounds(); round++) {
    // One round: every measurement side by side, so a ratio never spans two load regimes.
    const g = await runChild('gunzip', fx.gzip.blob);
    gunzip = best(gunzip, g);
    if (igzip) igzipTime = best(igzipTime, await timeCommand(`igzip -dc ${fx.gzip.blob}`));
    const z = await runChild('scan', `oci:${fx.gzipDir}`, { EIC_BUILD_SCAN_DECODE_TOOLS: '0' });
    scanZlib = best(scanZlib, z);
    ratiosZlib.push(z.seconds / g.seconds);
    const f = igzip ? await runChild('scan', `oci:${fx.gzipDir}`) : null;
    if (f) {
      scanFast = best(scanFast, f);
      ratiosFast.push(f.seconds / g.seconds);
    }
    // igzip's output read by the scanning thread itself instead of a helper thread (the other choice for one big layer).
    const h = igzip ? await runChild('scan', `oci:${fx.gzipDir}`, { EIC_BUILD_SCAN_DECODE_THREADS: '0' }) : null;
    if (h) {
      scanFastHere = best(scanFastHere, h);
      ratiosFastHere.push(h.seconds / g.seconds);
    }
    kernel = best(kernel, await runChild('kernel', fx.tar.blob));
    log(
      `round ${round + 1}: gunzip ${g.seconds.toFixed(2)} s, scan (zlib) ${z.seconds.toFixed(2)} s${f ? `, scan (igzip) ${f.seconds.toFixed(2)} s` : ''}${h ? `, scan (igzip, read on the scanning thread) ${h.seconds.toFixed(2)} s` : ''}; load ${load()}`,
    );
  }
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}x`;
  log(`Node zlib gunzip to nowhere: ${gunzip!.seconds.toFixed(2)} s (${(gb / gunzip!.seconds).toFixed(2)} GB/s uncompressed, CPU ${gunzip!.cpuSeconds.toFixed(2)} s)`);
  if (igzipTime)
    log(
      `igzip -dc to /dev/null: ${igzipTime.seconds.toFixed(2)} s (${(igzipTime.cpuSeconds / gb).toFixed(2)} CPU s/GB; ${(gunzip!.seconds / igzipTime.seconds).toFixed(2)}x faster than Node's zlib)`,
    );
  else log('igzip: not on PATH (Debian package isal); the igzip figures are skipped');
  const describe = (r: ChildResult) =>
    `${r.seconds.toFixed(2)} s (CPU ${r.cpuSeconds.toFixed(2)} s in the process, ${r.mainCpuSeconds.toFixed(2)} s of it on the main thread, ${r.childCpuSeconds.toFixed(2)} s in decoder processes; peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB, ${r.findings} findings, ${r.code === 'dist' ? 'dist/' : 'sources via tsx'})`;
  if (scanFast) log(`scan with igzip: ${describe(scanFast)}; scan/gunzip per round ${range(ratiosFast)} (target <= 1.0x, stretch 0.6x)`);
  if (scanFastHere)
    log(`scan with igzip, its output read on the scanning thread (EIC_BUILD_SCAN_DECODE_THREADS=0): ${describe(scanFastHere)}; scan/gunzip per round ${range(ratiosFastHere)}`);
  log(`scan with the zlib fallback (EIC_BUILD_SCAN_DECODE_TOOLS=0): ${describe(scanZlib!)}; scan/gunzip per round ${range(ratiosZlib)} (target <= 1.25x)`);
  const kernelPerGb = kernel!.mainCpuSeconds / gb;
  log(
    `scan kernel alone (tar walk + detectors on the main thread; reading and hashing the uncompressed tar in the decode thread): ${kernelPerGb.toFixed(2)} CPU s/GB (whole process ${(kernel!.cpuSeconds / gb).toFixed(2)}), ${kernel!.seconds.toFixed(2)} s${igzipTime ? `; igzip ${(igzipTime.cpuSeconds / gb).toFixed(2)} CPU s/GB (kernel/igzip ${(kernelPerGb / (igzipTime.cpuSeconds / gb)).toFixed(2)}x)` : ''}`,
  );
  const peak = Math.max(scanZlib!.maxRssKiB, scanFast?.maxRssKiB ?? 0, scanFastHere?.maxRssKiB ?? 0) / 1024;
  log(`peak RSS of the scans: ${peak.toFixed(0)} MiB (target <= 256 MiB); load average at end ${load()}; ${(fx.gzip.uncompressedBytes / MiB).toFixed(0)} MiB scanned per run`);
  // The issue's figures on one line (best rounds; the per-round ratios above are the fairer ones under load).
  const s = (x: number) => `${x.toFixed(2)} s`;
  log(
    [
      `summary: Node gunzip ${s(gunzip!.seconds)}`,
      `igzip ${igzipTime ? s(igzipTime.seconds) : 'n/a'}`,
      `scan (igzip) ${scanFast ? `${s(scanFast.seconds)} = ${(scanFast.seconds / gunzip!.seconds).toFixed(2)}x gunzip (<= 1.0x)` : 'n/a'}`,
      `scan (zlib fallback) ${s(scanZlib!.seconds)} = ${(scanZlib!.seconds / gunzip!.seconds).toFixed(2)}x gunzip (<= 1.25x)`,
      `kernel ${kernelPerGb.toFixed(2)} CPU s/GB`,
      `peak RSS ${peak.toFixed(0)} MiB (<= 256)`,
    ].join(' | '),
  );
}
