import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./helpers/exit-action-child.ts', import.meta.url));

/** Start the child, wait until it is ready, then `end` it; resolves with how it exited. */
async function runChild(mode: string, end: (pid: number) => void): Promise<{ signal: NodeJS.Signals | null; code: number | null; marker: string | null; dirLeft: boolean }> {
  const work = await mkdtemp(join(tmpdir(), 'eic-build-exit-action-'));
  try {
    const marker = join(work, 'marker');
    const dir = join(work, 'owned');
    const proc = spawn(process.execPath, ['--import', 'tsx', child, mode, marker, dir], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise<void>((resolve) => proc.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve()));
    const exited = new Promise<{ signal: NodeJS.Signals | null; code: number | null }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
    end(proc.pid!);
    const result = await exited;
    return { ...result, marker: existsSync(marker) ? readFileSync(marker, 'utf8') : null, dirLeft: existsSync(dir) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

test('the one shutdown path: on SIGTERM the exit action runs first (it gets the signal), then the directories go, then the signal is re-raised', async (t) => {
  const result = await runChild('wait', (pid) => process.kill(pid, 'SIGTERM'));
  t.is(result.signal, 'SIGTERM');
  t.is(result.marker, 'SIGTERM dir-exists=true');
  t.false(result.dirLeft);
});

test('a crash runs the exit action too (signal null) and still removes the directories', async (t) => {
  const result = await runChild('throw', () => undefined);
  t.is(result.code, 1);
  t.is(result.marker, 'exit dir-exists=true');
  t.false(result.dirLeft);
});

test('a released exit action does not run', async (t) => {
  const result = await runChild('released', (pid) => process.kill(pid, 'SIGINT'));
  t.is(result.signal, 'SIGINT');
  t.is(result.marker, null);
  t.false(result.dirLeft);
});
