// Files the user names with --output (reports, keys): written whole or not at all, and a failure
// is an 'output-unwritable' error that names the path and says what to fix.
import { randomBytes } from 'node:crypto';
import { access, constants, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EicBuildError } from '../errors.js';
import { releaseOnExit, removeOnExit } from '../exit-cleanup.js';

/** The removeOnExit kind of writeOutputFile's temp siblings (liveDirCount). */
export const OUTPUT_TEMP_KIND = 'output-file-temp';

/** Pure: why `path` could not be written, in words a person can act on (from the errno). */
export function describeWriteFailure(path: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const dir = dirname(path);
  switch (code) {
    case 'ENOENT':
      return `directory ${dir} does not exist`;
    case 'ENOTDIR':
      return `${dir} is not a directory`;
    case 'EACCES':
    case 'EPERM':
      return `no permission to write in ${dir}`;
    case 'EISDIR':
      return `${path} is a directory`;
    case 'EROFS':
      return `${dir} is on a read-only file system`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device of ${dir}`;
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/** The error for an output file that cannot be written; `flag` says how the user named it (default --output). */
export function outputUnwritable(path: string, error: unknown, flag = '--output'): EicBuildError {
  return new EicBuildError('output-unwritable', `${flag} ${path}: cannot write it: ${describeWriteFailure(path, error)}`, {
    hint: `make sure the directory ${dirname(path)} exists and is writable (mkdir -p it, check its permissions), or write the file somewhere else.`,
    cause: error,
  });
}

/**
 * Fail before the work, not after it: the directory of `path` must exist and be writable and
 * `path` must not be a directory. Throws output-unwritable.
 */
export async function checkOutputPath(path: string, flag = '--output'): Promise<void> {
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw outputUnwritable(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }), flag);
  const dir = dirname(path);
  try {
    const info = await stat(dir);
    if (!info.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    await access(dir, constants.W_OK);
  } catch (error) {
    throw outputUnwritable(path, error, flag);
  }
}

/**
 * Write `contents` to `path` atomically with `mode`: a fresh sibling opened O_EXCL with `mode`,
 * then a rename over the target, so readers (and concurrent writers) see the old file or a whole
 * new one, and the target never exists with wider permissions. The sibling is removed on failure
 * and by an interrupted process (SIGINT, crash) on its way out; the errno error is thrown as is.
 */
export async function writeFileAtomically(path: string, contents: string | Uint8Array, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  // Registered before it exists: there is no moment when it could be left behind.
  removeOnExit(temp, OUTPUT_TEMP_KIND);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(contents);
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  } finally {
    releaseOnExit(temp);
  }
}

/**
 * writeFileAtomically for a file the user named (default mode 0644); a failure is output-unwritable
 * naming the path and `flag` (how the user named it, default --output).
 */
export async function writeOutputFile(path: string, contents: string | Uint8Array, options: { mode?: number; flag?: string } = {}): Promise<void> {
  try {
    await writeFileAtomically(path, contents, options.mode ?? 0o644);
  } catch (error) {
    throw outputUnwritable(path, error, options.flag);
  }
}
