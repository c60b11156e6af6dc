import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { EicBuildError } from '../../errors.js';
import { releaseOnExit, removeOnExit } from '../../exit-cleanup.js';

/** The directory a verified copy is built in, then published as DIR in one step (or thrown away). */
export interface CopyTarget {
  /** The absolute DIR given to --copy-to. */
  dir: string;
  /** Where the copy is built (on DIR's file system, so publishing is a rename). */
  staging: string;
  /** Downloads in progress, inside staging; removed before publishing. */
  incoming: string;
  /** Publish the copy as DIR. */
  commit(): Promise<void>;
  /** Remove everything written (idempotent). */
  discard(): Promise<void>;
}

/**
 * Check DIR before anything is read: it must not exist (its parent must), or be an empty directory.
 * Throws a usage error naming DIR and the fix.
 */
export async function checkCopyTarget(dir: string): Promise<'absent' | 'empty-dir'> {
  const full = resolve(dir);
  let info;
  try {
    info = await stat(full);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw cannotUse(full, error);
    const parent = await stat(dirname(full)).catch(() => null);
    if (!parent?.isDirectory()) {
      throw new EicBuildError('usage', `--copy-to ${full}: the parent directory ${dirname(full)} does not exist`, {
        hint: `create ${dirname(full)} first, or pick another --copy-to directory`,
      });
    }
    return 'absent';
  }
  if (!info.isDirectory())
    throw new EicBuildError('usage', `--copy-to ${full} exists and is not a directory`, { hint: 'pass a directory that does not exist yet (or an empty one)' });
  const entries = await readdir(full);
  if (entries.length > 0) {
    throw new EicBuildError('usage', `--copy-to ${full} is not empty (${entries.length} entries)`, {
      hint: `a verified copy must hold only what this run verified: remove ${full} or pass a new directory`,
    });
  }
  return 'empty-dir';
}

/**
 * Start a copy for DIR (checked with checkCopyTarget). When DIR does not exist, the copy is built in a
 * hidden sibling and renamed to DIR; when DIR is an empty directory (maybe a mount point, which cannot be
 * renamed over) it is built in a hidden directory inside DIR whose entries are moved up, `v3/` or
 * `build_cache/` last, so Spack never sees a mirror with manifests but without their blobs.
 */
export async function openCopyTarget(dir: string): Promise<CopyTarget> {
  const full = resolve(dir);
  const state = await checkCopyTarget(full);
  const staging = state === 'absent' ? mkdtempSync(join(dirname(full), `.${basename(full)}.eic-build-`)) : mkdtempSync(join(full, '.eic-build-copy-'));
  removeOnExit(staging, 'verified-copy');
  const incoming = join(staging, '.incoming');
  await mkdir(incoming);
  let done = false;
  const discard = async () => {
    if (done) return;
    done = true;
    releaseOnExit(staging);
    await rm(staging, { recursive: true, force: true });
  };
  return {
    dir: full,
    staging,
    incoming,
    discard,
    async commit() {
      if (done) throw new EicBuildError('internal', `the copy for ${full} was already published or discarded`);
      await rm(incoming, { recursive: true, force: true });
      try {
        if (state === 'absent') {
          await rename(staging, full);
        } else {
          const names = (await readdir(staging)).sort((a, b) => rank(a) - rank(b));
          for (const name of names) await rename(join(staging, name), join(full, name));
          await rmdir(staging);
        }
      } catch (error) {
        await discard();
        throw new EicBuildError('usage', `cannot publish the verified copy as ${full}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
          hint: `something else wrote ${full} meanwhile: pass a directory no other process uses`,
          cause: error,
        });
      }
      done = true;
      releaseOnExit(staging);
    },
  };
}

/** Blobs first, the manifests that name them last. */
function rank(name: string): number {
  return name === 'v3' || name === 'build_cache' ? 1 : 0;
}

function cannotUse(dir: string, error: unknown): EicBuildError {
  return new EicBuildError('usage', `--copy-to ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { hint: 'pass a writable directory that does not exist yet' });
}
