// Registry client: peak RSS while a file blob is streamed to a local registry (putBlobFile, the
// buildx/OCI-layout route of `build --push`), for a 64 MiB and a 1 GiB blob next to a process that
// only loads the client. Memory must not grow with the blob. Fixtures are made once in
// $TMPDIR/eic-build-bench-registry and reused.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startRegistry } from '../test/helpers/registry.js';

const ROOT = join(tmpdir(), 'eic-build-bench-registry');
const child = fileURLToPath(new URL('./_registry-child.ts', import.meta.url));

/** A file of `bytes` pseudo-random bytes and its digest (remembered next to it). */
async function blobFile(name: string, bytes: number): Promise<{ path: string; digest: string; size: number }> {
  await mkdir(ROOT, { recursive: true });
  const path = join(ROOT, name);
  const digestPath = `${path}.digest`;
  const known = await stat(path).then(
    (s) => s.size === bytes,
    () => false,
  );
  if (known) {
    const digest = await readFile(digestPath, 'utf8').catch(() => '');
    if (digest) return { path, digest, size: bytes };
  }
  const hash = createHash('sha256');
  const piece = randomBytes(1 << 20);
  const out = await open(path, 'w');
  for (let written = 0; written < bytes; written += piece.length) {
    piece.writeUInt32BE(written >>> 0, 0);
    hash.update(piece);
    await out.write(piece);
  }
  await out.close();
  const digest = `sha256:${hash.digest('hex')}`;
  await writeFile(digestPath, digest);
  return { path, digest, size: bytes };
}

interface ChildResult {
  seconds: number;
  maxRssKiB: number;
}

async function run(args: string[]): Promise<ChildResult> {
  const result = await execa(process.execPath, ['--import', 'tsx', child, ...args]);
  return JSON.parse(result.stdout.trim().split('\n').at(-1)!) as ChildResult;
}

export default async function bench(log: (line: string) => void): Promise<void> {
  const small = await blobFile('blob-64m', 64 << 20);
  const large = await blobFile('blob-1g', 1 << 30);
  const registry = await startRegistry();
  try {
    const idle = await run([registry.host, 'bench/idle', '-', '', '0']);
    const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;
    log(`client loaded, nothing uploaded: peak RSS ${mib(idle.maxRssKiB)}`);
    const results: ChildResult[] = [];
    for (const [i, file] of [small, large].entries()) {
      const result = await run([registry.host, `bench/blob-${i}`, file.path, file.digest, String(file.size)]);
      results.push(result);
      log(
        `putBlobFile ${(file.size / 2 ** 20).toFixed(0)} MiB file: ${result.seconds.toFixed(2)} s (${(file.size / 2 ** 20 / result.seconds).toFixed(0)} MiB/s), peak RSS ${mib(result.maxRssKiB)}`,
      );
    }
    const growth = results[1]!.maxRssKiB - results[0]!.maxRssKiB;
    log(`${large.size / small.size}x the bytes, peak RSS ${growth >= 0 ? '+' : ''}${mib(growth)} (target: RSS does not grow with the blob)`);
  } finally {
    await registry.stop();
  }
}
