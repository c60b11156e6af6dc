import { mkdtempSync } from 'node:fs';
import { chmod, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { liveDirCount, releaseOnExit, removeOnExit } from '../exit-cleanup.js';
import { registerSecret } from '../redact.js';

/** A secret written to disk for a child process that can only read files (BuildKit `--secret src=`). */
export interface TempSecretFile {
  /** The 0600 file holding the secret. */
  path: string;
  /** The fresh 0700 directory that holds it (removed with it). */
  dir: string;
  /** Remove the file and its directory now (idempotent). */
  dispose(): Promise<void>;
}

const KIND = 'secret';

/**
 * Write `contents` to a 0600 file inside a fresh 0700 directory under os.tmpdir(). The directory
 * is removed by `dispose()`, or at the latest when the process ends: normally, by an uncaught
 * error, or by SIGINT/SIGTERM/SIGHUP (after which the signal is re-raised).
 */
export async function writeTempSecretFile(contents: string, fileName = 'secret'): Promise<TempSecretFile> {
  if (fileName.includes('/') || fileName === '.' || fileName === '..' || fileName === '') {
    throw new TypeError(`writeTempSecretFile: fileName must be a plain file name, got '${fileName}'`);
  }
  // Whatever is worth a secret file is worth censoring: callers usually registered it already.
  registerSecret(contents);
  // mkdtemp creates the directory 0700 already; registered before any byte is written so a
  // signal arriving mid-write still removes it.
  const dir = mkdtempSync(join(tmpdir(), 'eic-build-secret-'));
  removeOnExit(dir, KIND);
  const path = join(dir, fileName);
  try {
    await chmod(dir, 0o700);
    const handle = await open(path, 'wx', 0o600);
    try {
      await handle.writeFile(contents, 'utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    releaseOnExit(dir);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  let disposed = false;
  return {
    path,
    dir,
    async dispose() {
      if (disposed) return;
      disposed = true;
      releaseOnExit(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** How many temporary secret directories are still alive in this process (diagnostics, tests). */
export function liveTempSecretDirCount(): number {
  return liveDirCount(KIND);
}
