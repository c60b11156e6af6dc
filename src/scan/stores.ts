// BlobStores for on-disk sources: an outer tar (docker save, OCI archive) read through its header
// index, and an OCI layout directory.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { posix, join, sep } from 'node:path';
import { EicBuildError } from '../errors.js';
import type { BlobStore } from './image.js';
import type { BlobLocation } from './layer-scan.js';
import { readTarIndex, readTarMember, type TarIndexEntry } from './tar-index.js';

const SMALL_LIMIT = 64 * 1024 * 1024;

/** Blobs of a tar archive file, addressed by member name (symlinks and hard links followed inside the archive). */
export async function openTarStore(target: string, file: string): Promise<BlobStore & { kind: 'docker-archive' | 'oci-archive' }> {
  let index: Map<string, TarIndexEntry>;
  try {
    index = await readTarIndex(file);
  } catch (error) {
    if (error instanceof EicBuildError) throw error;
    throw new EicBuildError('input-unreadable', `cannot read '${file}': ${error instanceof Error ? error.message : String(error)}`);
  }
  const resolve = (name: string): TarIndexEntry | null => {
    let entry = index.get(name);
    for (let hops = 0; entry && hops < 16; hops++) {
      if (entry.type === 'symlink') {
        const next = posix.normalize(posix.join(posix.dirname(entry.name), entry.linkname));
        entry = index.get(next);
      } else if (entry.type === 'hardlink') {
        entry = index.get(posix.normalize(entry.linkname.replace(/^\.\//, '')));
      } else {
        return entry.type === 'file' ? entry : null;
      }
    }
    return null;
  };
  return {
    target,
    kind: index.has('manifest.json') ? 'docker-archive' : 'oci-archive',
    has: (name) => resolve(name) !== null,
    async read(name) {
      const entry = resolve(name);
      if (!entry) throw new EicBuildError('input-corrupt', `${target}: member '${name}' is missing`);
      return readTarMember(file, entry, SMALL_LIMIT);
    },
    location(name): BlobLocation | null {
      const entry = resolve(name);
      return entry ? { file, offset: entry.offset, size: entry.size } : null;
    },
  };
}

/** Blobs of an OCI image layout directory. Names never escape the directory. */
export async function openDirStore(target: string, dir: string): Promise<BlobStore> {
  const root = await realpath(dir);
  const sizes = new Map<string, number | null>();
  const pathOf = (name: string): string | null => {
    const normalized = posix.normalize(name);
    if (normalized.startsWith('..') || posix.isAbsolute(normalized)) return null;
    return join(root, ...normalized.split('/'));
  };
  // Sizes are looked up once up front for the names we are asked about (has() must be sync).
  const probe = async (name: string) => {
    const path = pathOf(name);
    if (!path) return null;
    try {
      const real = await realpath(path);
      if (real !== root && !real.startsWith(root + sep)) return null;
      const info = await stat(real);
      return info.isFile() ? info.size : null;
    } catch {
      return null;
    }
  };
  for (const top of ['index.json', 'oci-layout', 'manifest.json']) sizes.set(top, await probe(top));
  try {
    for (const algorithm of await readdir(join(root, 'blobs'))) {
      for (const hex of await readdir(join(root, 'blobs', algorithm))) {
        const name = `blobs/${algorithm}/${hex}`;
        sizes.set(name, await probe(name));
      }
    }
  } catch (error) {
    throw new EicBuildError('input-corrupt', `${target}: cannot list the blobs directory (${error instanceof Error ? error.message : String(error)})`, {
      hint: 'an OCI layout directory holds index.json, oci-layout and blobs/sha256/…',
    });
  }
  return {
    target,
    has: (name) => (sizes.get(name) ?? null) !== null,
    async read(name) {
      const path = pathOf(name);
      const size = sizes.get(name) ?? null;
      if (!path || size === null) throw new EicBuildError('input-corrupt', `${target}: blob '${name}' is missing`);
      if (size > SMALL_LIMIT) throw new EicBuildError('input-corrupt', `${target}: '${name}' is ${size} bytes; not a plausible manifest or config`);
      return readFile(path);
    },
    location(name) {
      const path = pathOf(name);
      const size = sizes.get(name) ?? null;
      return path && size !== null ? { file: path, offset: 0, size } : null;
    },
  };
}
