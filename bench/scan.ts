// Scanner speed and memory: one ≥ 1 GiB gzip layer against plain zlib gunzip of the same blob,
// peak RSS of the scan, and the speed-up of parallel layer scanning. Fixtures are made once in
// $TMPDIR/eic-build-bench-scan and reused.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { execa } from 'execa';

const ROOT = join(tmpdir(), 'eic-build-bench-scan');
const child = fileURLToPath(new URL('./_scan-child.ts', import.meta.url));

/** Deterministic pseudo-random bytes (fast; seeded so fixtures are reproducible). */
function* prng(seed: number): Generator<number> {
  let x = seed >>> 0 || 1;
  for (;;) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    yield x >>> 0;
  }
}

const WORDS = 'static const int return void char struct include define if else for while unsigned size_t buffer length error value index spack gpg package install build config'.split(' ');

/** A tar of `totalBytes` of mixed content: source-like text, binaries with some entropy, zero runs. */
async function* mixedTar(totalBytes: number, seed: number): AsyncGenerator<Buffer> {
  const random = prng(seed);
  const next = () => random.next().value as number;
  let written = 0;
  let n = 0;
  const header = (name: string, size: number) => {
    const block = Buffer.alloc(512);
    block.write(name.slice(0, 99), 0, 'utf8');
    block.write('0000644\0', 100);
    block.write('0000000\0', 108);
    block.write('0000000\0', 116);
    block.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
    block.write('00000000000\0', 136);
    block.write('        ', 148);
    block.write('0', 156);
    block.write('ustar\0', 257);
    block.write('00', 263);
    let sum = 0;
    for (const byte of block) sum += byte;
    block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    return block;
  };
  const entropy = randomBytes(1 << 20);
  while (written < totalBytes) {
    const kind = next() % 10;
    const size = kind < 6 ? 1024 + (next() % 60_000) : kind < 9 ? 64 * 1024 + (next() % (3 << 20)) : 256 * 1024 + (next() % (1 << 20));
    let body: Buffer;
    if (kind < 6) {
      const lines: string[] = [];
      let length = 0;
      while (length < size) {
        const line = `${'  '.repeat(next() % 4)}${Array.from({ length: 3 + (next() % 8) }, () => WORDS[next() % WORDS.length]).join(' ')} ${next() % 100000};\n`;
        lines.push(line);
        length += line.length;
      }
      body = Buffer.from(lines.join(''));
    } else if (kind < 9) {
      // Binary-ish: runs of structured bytes mixed with incompressible stretches (like .so files).
      body = Buffer.alloc(size);
      for (let at = 0; at < size; at += 4096) {
        if (next() % 3 === 0) entropy.copy(body, at, next() % ((1 << 20) - 4096), undefined);
        else body.fill(next() % 256, at, Math.min(size, at + 4096));
      }
    } else {
      body = Buffer.alloc(size);
    }
    const dir = `usr/lib/pkg-${n % 97}/sub-${n % 13}`;
    yield header(`${dir}/file-${n++}.${kind < 6 ? 'c' : kind < 9 ? 'so' : 'dat'}`, body.length);
    yield body;
    const pad = (512 - (body.length % 512)) % 512;
    if (pad) yield Buffer.alloc(pad);
    written += 512 + body.length + pad;
  }
  yield Buffer.alloc(1024);
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** An OCI layout with one gzip layer per size; reused when present. */
export async function ensureLayout(name: string, layerSizes: number[]): Promise<{ dir: string; blobs: string[]; made: boolean }> {
  const dir = join(ROOT, name);
  const doneMarker = join(dir, '.complete');
  const blobsDir = join(dir, 'blobs', 'sha256');
  try {
    const blobs = JSON.parse(await readFile(doneMarker, 'utf8')) as string[];
    return { dir, blobs, made: false };
  } catch {
    // build below
  }
  await mkdir(blobsDir, { recursive: true });
  const layers: { digest: string; size: number; diffId: string }[] = [];
  for (const [i, size] of layerSizes.entries()) {
    const temp = join(dir, `layer-${i}.tmp`);
    const diff = createHash('sha256');
    const source = Readable.from(
      (async function* () {
        for await (const chunk of mixedTar(size, 1234 + i)) {
          diff.update(chunk);
          yield chunk;
        }
      })(),
    );
    await pipeline(source, createGzip({ level: 6 }), createWriteStream(temp));
    const digest = await sha256File(temp);
    await rename(temp, join(blobsDir, digest.slice(7)));
    layers.push({ digest, size: (await stat(join(blobsDir, digest.slice(7)))).size, diffId: `sha256:${diff.digest('hex')}` });
  }
  const put = async (bytes: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(join(blobsDir, digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const config = await put(
    Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) }, history: layers.map(() => ({ created_by: 'bench' })) })),
  );
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
      }),
    ),
  );
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
  const blobs = layers.map((l) => join(blobsDir, l.digest.slice(7)));
  await writeFile(doneMarker, JSON.stringify(blobs));
  return { dir, blobs, made: true };
}

interface ChildResult {
  seconds: number;
  cpuSeconds: number;
  maxRssKiB: number;
  bytes: number;
  leaked?: boolean;
  code?: string;
  layers?: number;
}

async function run(mode: 'scan' | 'gunzip', target: string, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  const result = await execa(process.execPath, ['--import', 'tsx', child, mode, target], { env: { ...process.env, ...env } });
  return JSON.parse(result.stdout.trim().split('\n').pop()!) as ChildResult;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** The benchmark section. */
export default async function bench(log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const big = await ensureLayout('single-1g', [1.05 * GiB]);
  log(`fixture: one gzip layer, ${(1.05 * GiB / GiB).toFixed(2)} GiB uncompressed, ${((await stat(big.blobs[0]!)).size / MiB).toFixed(0)} MiB gzip (${big.made ? `made in ${((Date.now() - started) / 1000).toFixed(0)} s` : 'reused'}) at ${big.dir}`);
  // Alternate and keep the best of two: shared CI machines are noisy.
  const best = (a: ChildResult, b: ChildResult) => (a.seconds <= b.seconds ? a : b);
  let gunzip = await run('gunzip', big.blobs[0]!);
  let scan = await run('scan', `oci:${big.dir}`);
  gunzip = best(gunzip, await run('gunzip', big.blobs[0]!));
  scan = best(scan, await run('scan', `oci:${big.dir}`));
  log(`(a) node zlib gunzip to nowhere: ${gunzip.seconds.toFixed(2)} s (${(gunzip.bytes / MiB / gunzip.seconds).toFixed(0)} MiB/s uncompressed)`);
  log(`(b) eic-build scan of the image (${scan.code === 'dist' ? 'compiled dist/' : 'sources via tsx; run npm run build to measure dist/'}): ${scan.seconds.toFixed(2)} s (${(scan.bytes / MiB / scan.seconds).toFixed(0)} MiB/s), leaked=${scan.leaked}`);
  log(`ratio scan/gunzip: ${(scan.seconds / gunzip.seconds).toFixed(2)}x wall time (target <= 1.25x)`);
  log(`CPU time (all threads, includes process start-up): gunzip ${gunzip.cpuSeconds.toFixed(2)} s, scan ${scan.cpuSeconds.toFixed(2)} s, ratio ${(scan.cpuSeconds / gunzip.cpuSeconds).toFixed(2)}x (wall time on a busy machine is noisy; CPU time is not)`);
  log(`peak RSS of the scan process: ${(scan.maxRssKiB / 1024).toFixed(0)} MiB (target <= 256 MiB); of the gunzip process: ${(gunzip.maxRssKiB / 1024).toFixed(0)} MiB`);

  const multi = await ensureLayout('multi-4x256m', [256 * MiB, 256 * MiB, 256 * MiB, 256 * MiB]);
  const serial = await run('scan', `oci:${multi.dir}`, { EIC_BUILD_SCAN_WORKERS: '0', EIC_BUILD_SCAN_CONCURRENCY: '1' });
  const lanes = await run('scan', `oci:${multi.dir}`, { EIC_BUILD_SCAN_WORKERS: '0' });
  const workers = await run('scan', `oci:${multi.dir}`, { EIC_BUILD_SCAN_WORKERS: '2' });
  const fmt = (r: ChildResult) => `${r.seconds.toFixed(2)} s (${(serial.seconds / r.seconds).toFixed(2)}x, peak RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB)`;
  log(`4 gzip layers of 256 MiB on ${availableParallelism()} cores:`);
  log(`  one layer at a time: ${serial.seconds.toFixed(2)} s (peak RSS ${(serial.maxRssKiB / 1024).toFixed(0)} MiB)`);
  log(`  main thread, concurrent layers (zlib on the libuv pool): ${fmt(lanes)}`);
  log(`  2 worker threads: ${fmt(workers)}`);
}
