import { createHash, randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EicBuildError } from '../../errors.js';

/** A file received into a copy's incoming directory, with what its bytes hash to. */
export interface ReceivedFile {
  file: string;
  sha256: string;
  size: number;
}

/** A download that brought more bytes than the signed size allows: stopped at once, its partial file removed. */
export class OversizedBlobError extends Error {
  constructor(readonly limit: number) {
    super(`more than the ${limit} bytes the signed manifest names arrived (download stopped)`);
    this.name = 'OversizedBlobError';
  }
}

/**
 * Stream `source` to a new file under `incoming` while hashing it: one pass, never the whole blob in
 * memory. The caller keeps the file only if the hash is the one the signed manifest names. With
 * `maxBytes` (the signed size) the download stops with OversizedBlobError as soon as more arrives, so a
 * hostile server cannot fill the disk.
 */
export async function receiveStream(source: Readable, incoming: string, maxBytes?: number): Promise<ReceivedFile> {
  const file = join(incoming, randomBytes(12).toString('hex'));
  const hash = createHash('sha256');
  let size = 0;
  const hasher = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (maxBytes !== undefined && size > maxBytes) {
        callback(new OversizedBlobError(maxBytes));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(source, hasher, createWriteStream(file, { flags: 'wx', mode: 0o644 }));
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  return { file, sha256: hash.digest('hex'), size };
}

/**
 * Where `relPath` (a `/`-separated path from a manifest or spec) lands in the copy: every file of the copy is
 * written through here, so a name from a mirror can never place a file outside the staging directory.
 * Throws UnsafeCopyPathError for an empty, `.` or `..` segment or a target outside `staging`.
 */
export function copyTargetPath(staging: string, relPath: string): string {
  const segments = relPath.split('/');
  const root = resolve(staging);
  const target = resolve(root, ...segments);
  const inside = relative(root, target);
  const plain = segments.every((s) => s !== '' && s !== '.' && s !== '..' && !s.includes('\\') && !s.includes('\0'));
  if (!plain || inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) throw new UnsafeCopyPathError(relPath);
  return target;
}

/** A file name from the mirror that would land outside the copy: the entry fails, nothing is written. */
export class UnsafeCopyPathError extends EicBuildError {
  constructor(relPath: string) {
    super('input-corrupt', `refusing to write ${JSON.stringify(relPath)} into the copy: not a plain relative path inside it`, {
      hint: 'the mirror names a file outside the copy (a path-traversal attempt or a corrupt spec): do not use this mirror',
    });
  }
}

/**
 * Put a received file at `relPath` inside the copy (a hard link, so the same received bytes can serve two
 * entries; the incoming directory is removed before publishing). An existing file there is left alone:
 * paths are content-addressed, so it holds the same bytes.
 */
export async function placeReceived(staging: string, received: ReceivedFile, relPath: string): Promise<void> {
  const target = copyTargetPath(staging, relPath);
  await mkdir(dirname(target), { recursive: true });
  try {
    await link(received.file, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    // A file system without hard links: copy the received file instead (same bytes, one more local read).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EMLINK') throw error;
    try {
      await copyFile(received.file, target, constants.COPYFILE_EXCL);
    } catch (copyError) {
      if ((copyError as NodeJS.ErrnoException).code !== 'EEXIST') throw copyError;
    }
  }
}

/** Write a small file of the copy (a manifest, an index, a spec blob). */
export async function writeCopyFile(staging: string, relPath: string, bytes: Uint8Array | string): Promise<void> {
  const target = copyTargetPath(staging, relPath);
  await mkdir(dirname(target), { recursive: true });
  await writeFile(target, bytes);
}

/** Files and bytes of a copy (the incoming directory excluded). */
export async function measureCopy(staging: string): Promise<{ files: number; bytes: number }> {
  const entries = await readdir(staging, { recursive: true, withFileTypes: true });
  let files = 0;
  let bytes = 0;
  for (const entry of entries) {
    const parent = entry.parentPath ?? (entry as unknown as { path: string }).path;
    if (!entry.isFile() || parent.startsWith(join(staging, '.incoming'))) continue;
    files += 1;
    bytes += (await stat(join(parent, entry.name))).size;
  }
  return { files, bytes };
}
