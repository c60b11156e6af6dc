// Bench fixtures of real files: layers are GNU tar archives of slices of a real root filesystem (the
// machine's own /usr), compressed by the real tools (gzip -6 as Docker's default, zstd -3 as
// BuildKit's). Built once under $TMPDIR/eic-build-bench-scan and reused (a `.complete` marker);
// what the slice holds is recorded next to it, since the machine's /usr changes over time.
import { createHash } from 'node:crypto';
import { constants, createReadStream } from 'node:fs';
import { access, lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export const BENCH_ROOT = join(tmpdir(), 'eic-build-bench-scan');

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** One entry of a root filesystem: its path relative to `/` and the bytes it adds to a tar. */
export interface RootfsEntry {
  path: string;
  bytes: number;
}

/**
 * Every directory, regular file and symbolic link under `roots` (absolute), in sorted order, with
 * the bytes each adds to a tar (header + padded body). Sockets, devices and unreadable entries are
 * left out (tar would warn about them); so are other mounts' contents (none under /usr here).
 */
export async function listRootfs(roots: string[]): Promise<RootfsEntry[]> {
  const out: RootfsEntry[] = [];
  const walk = async (dir: string): Promise<void> => {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      return;
    }
    out.push({ path: dir.slice(1), bytes: 512 });
    for (const name of names) {
      const full = `${dir}/${name}`;
      const info = await lstat(full).catch(() => null);
      if (!info) continue;
      if (info.isDirectory()) await walk(full);
      else if (info.isFile()) {
        // Only files this process can read (tar would fail on the others).
        if (
          !(await access(full, constants.R_OK).then(
            () => true,
            () => false,
          ))
        )
          continue;
        out.push({ path: full.slice(1), bytes: 512 + Math.ceil(info.size / 512) * 512 });
      } else if (info.isSymbolicLink()) out.push({ path: full.slice(1), bytes: 512 });
    }
  };
  for (const root of roots) await walk(root);
  return out;
}

/** Entries of `all` from `start` (wrapping around) until `bytes` tar bytes are reached. */
export function sliceRootfs(all: RootfsEntry[], start: number, bytes: number): RootfsEntry[] {
  const out: RootfsEntry[] = [];
  let total = 0;
  for (let i = 0; total < bytes && i < all.length; i++) {
    const entry = all[(start + i) % all.length]!;
    out.push(entry);
    total += entry.bytes;
  }
  return out;
}

export interface BuiltLayer {
  /** Path of the blob (compressed as asked). */
  blob: string;
  digest: string;
  size: number;
  diffId: string;
  uncompressedBytes: number;
  compression: LayerCompression;
}

const COMPRESSOR: Record<Exclude<LayerCompression, 'none'>, string> = {
  gzip: 'gzip -6 -n -c',
  zstd: 'zstd -3 -q -c -T1',
};

/**
 * Tar `entries` (paths relative to /) and compress: tar | tee >(sha256sum) | compressor, in a shell
 * pipeline so that the uncompressed tar is never written unless `keepTar` names a file for it.
 */
export async function buildLayer(dir: string, name: string, entries: RootfsEntry[], compression: LayerCompression, keepTar?: string): Promise<BuiltLayer> {
  await mkdir(dir, { recursive: true });
  const list = join(dir, `${name}.list`);
  await writeFile(list, entries.map((e) => e.path).join('\n') + '\n');
  const temp = join(dir, `${name}.tmp`);
  const tarCmd = `tar --create --no-recursion --format=gnu --numeric-owner --warning=no-file-changed --ignore-failed-read -C / --files-from=${q(list)}`;
  const sink = compression === 'none' ? `cat > ${q(temp)}` : `${COMPRESSOR[compression]} > ${q(temp)}`;
  const keep = keepTar ? `tee ${q(keepTar)} | ` : '';
  const script = `set -o pipefail; ${tarCmd} | ${keep}tee >(sha256sum > ${q(temp)}.diff) >(wc -c > ${q(temp)}.bytes) | ${sink}; wait`;
  await execa('bash', ['-c', script]);
  // Process substitutions may finish after the pipeline: wait for their output.
  let diffLine = '';
  let bytesLine = '';
  for (let i = 0; i < 100 && (!/^[0-9a-f]{64}/.test(diffLine) || !/\d/.test(bytesLine)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    diffLine = await readFile(`${temp}.diff`, 'utf8').catch(() => '');
    bytesLine = await readFile(`${temp}.bytes`, 'utf8').catch(() => '');
  }
  const diffId = `sha256:${diffLine.slice(0, 64)}`;
  const digest = await sha256File(temp);
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const blob = join(blobsDir, digest.slice(7));
  await rename(temp, blob);
  await rm(`${temp}.diff`, { force: true });
  await rm(`${temp}.bytes`, { force: true });
  return { blob, digest, size: (await stat(blob)).size, diffId, uncompressedBytes: Number(bytesLine.trim()), compression };
}

function q(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

const MEDIA: Record<LayerCompression, string> = {
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  none: 'application/vnd.oci.image.layer.v1.tar',
};

/** Write the OCI layout files (config, manifest, index) around already built layer blobs in `dir`. */
export async function writeLayout(dir: string, layers: BuiltLayer[]): Promise<void> {
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  const put = async (bytes: Buffer) => {
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    await writeFile(join(blobsDir, digest.slice(7)), bytes);
    return { digest, size: bytes.length };
  };
  const config = await put(
    Buffer.from(
      JSON.stringify({
        os: 'linux',
        architecture: 'amd64',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map(() => ({ created_by: 'bench' })),
      }),
    ),
  );
  const manifest = await put(
    Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: MEDIA[l.compression], digest: l.digest, size: l.size })),
      }),
    ),
  );
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
}

/** A fixture made once: `build` runs only when `dir` has no `.complete` marker; its JSON result is cached there. */
export async function cached<T>(dir: string, build: () => Promise<T>): Promise<{ value: T; made: boolean }> {
  const marker = join(dir, '.complete');
  try {
    return { value: JSON.parse(await readFile(marker, 'utf8')) as T, made: false };
  } catch {
    // build below
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const value = await build();
  await writeFile(marker, JSON.stringify(value));
  return { value, made: true };
}
