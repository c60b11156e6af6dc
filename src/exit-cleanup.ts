import { rmSync } from 'node:fs';

/**
 * Directories that must not outlive the process (secret files, half-written copies). They are
 * removed synchronously on the way out, because 'exit' and signal handlers that re-raise cannot
 * wait for promises: on a normal end, a crash, and SIGINT/SIGTERM/SIGHUP.
 */
const liveDirs = new Map<string, string>();
/** Synchronous steps that must run first when the process ends early (stop child builds, drop private tags). */
const exitActions = new Set<(signal: NodeJS.Signals | null) => void>();
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let handlersInstalled = false;

function runExitActions(signal: NodeJS.Signals | null): void {
  for (const action of exitActions) {
    exitActions.delete(action);
    try {
      action(signal);
    } catch {
      // On the way out: the other actions and the directories still get their chance.
    }
  }
}

function removeAllSync(): void {
  runExitActions(null);
  for (const dir of liveDirs.keys()) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Nothing better to do on the way out; the next directory still gets its chance.
    }
    liveDirs.delete(dir);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  runExitActions(signal);
  removeAllSync();
  // If another part of eic-build also listens (e.g. to stop a running build), it owns the
  // shutdown and the 'exit' handler covers anything created meanwhile. Otherwise re-raise the
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

/** Remove `dir` when the process ends, unless released first. `kind` groups directories for liveDirCount. */
export function removeOnExit(dir: string, kind: string): void {
  installHandlers();
  liveDirs.set(dir, kind);
}

/**
 * Run `action` synchronously if the process ends (signal, crash, exit) before the returned release is
 * called: the one shutdown path for everything eic-build must undo on the way out. It runs before the
 * registered directories are removed, and gets the signal (null for an exit or a crash).
 */
export function runOnExit(action: (signal: NodeJS.Signals | null) => void): () => void {
  installHandlers();
  exitActions.add(action);
  return () => {
    exitActions.delete(action);
  };
}

/** `dir` was removed or handed over: no longer remove it on exit. */
export function releaseOnExit(dir: string): void {
  liveDirs.delete(dir);
}

/** How many directories of `kind` are still registered (diagnostics, tests). */
export function liveDirCount(kind: string): number {
  return [...liveDirs.values()].filter((k) => k === kind).length;
}
