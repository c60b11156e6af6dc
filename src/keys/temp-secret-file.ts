import { mkdtempSync, rmSync } from 'node:fs';
import { chmod, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

// Every directory still alive. Removed synchronously on the way out, because 'exit' handlers
// and signal handlers that re-raise cannot wait for promises.
const liveDirs = new Set<string>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handlersInstalled = false;

function removeAllSync(): void {
  for (const dir of liveDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Nothing better to do on the way out; the next directory still gets its chance.
    }
    liveDirs.delete(dir);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  removeAllSync();
  // If another part of eic-build also listens (e.g. to stop a running build), it owns the
  // shutdown and our 'exit' handler covers anything created meanwhile. Otherwise re-raise the
  // signal with its default action so the exit status is the conventional 128+n one.
  if (process.listenerCount(signal) === 1) {
    uninstallHandlers();
    process.kill(process.pid, signal);
  }
}

function uninstallHandlers(): void {
  if (!handlersInstalled) return;
  handlersInstalled = false;
  process.removeListener('exit', removeAllSync);
  process.removeListener('uncaughtExceptionMonitor', removeAllSync);
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  // 'exit' covers normal ends and process.exit(); the monitor covers a crash (it runs before
  // Node prints the error and exits 1, without changing that behaviour).
  process.on('exit', removeAllSync);
  process.on('uncaughtExceptionMonitor', removeAllSync);
  for (const signal of SIGNALS) process.on(signal, onSignal);
}

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
  installHandlers();
  // mkdtemp creates the directory 0700 already; registered before any byte is written so a
  // signal arriving mid-write still removes it.
  const dir = mkdtempSync(join(tmpdir(), 'eic-build-secret-'));
  liveDirs.add(dir);
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
    liveDirs.delete(dir);
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
      liveDirs.delete(dir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** How many temporary secret directories are still alive in this process (diagnostics, tests). */
export function liveTempSecretDirCount(): number {
  return liveDirs.size;
}
