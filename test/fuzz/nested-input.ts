// Shared by the nested-format fuzz targets: feed bytes to the walker's file sink as one layer file
// (a stand-in detector that finds nothing: the readers are under test, not the detectors), and
// make specimens with the real tools.
import { mkdtemp, readFile, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createFileSink } from '../../src/scan/entry-sink.js';
import { NO_DETECTOR_KEYS } from '../../src/scan/detector-api.js';
import { DEFAULT_NESTED_LIMITS, type NestedLimits, type ScanContext } from '../../src/scan/nested/context.js';

/** Run `bytes` through createFileSink as the layer file `path`; resolves to the context (notes). */
export async function feedNestedFile(path: string, bytes: Uint8Array, limits: Partial<NestedLimits> = {}): Promise<ScanContext> {
  const ctx: ScanContext = {
    createScanner: () => ({ write: () => undefined, end: () => ({ findings: [], notes: [] }) }),
    keys: NO_DETECTOR_KEYS,
    findings: [],
    notes: [],
    limits: { ...DEFAULT_NESTED_LIMITS, maxHeldBytes: 1 << 24, maxInflatedBytes: 1 << 26, ...limits },
    inflated: 0,
    bytesScanned: 0,
  };
  const sink = createFileSink(ctx, path, null, 0);
  // Odd chunking exercises every boundary.
  for (let at = 0; at < bytes.length; at += 777) {
    const written = sink.write(bytes.subarray(at, at + 777));
    if (written) await written;
  }
  const ended = sink.end();
  if (ended) await ended;
  return ctx;
}

/** A scratch directory for one setup(), removed by the returned function. */
export async function scratch(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `eic-fuzz-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'f',
  GIT_AUTHOR_EMAIL: 'f@example.org',
  GIT_COMMITTER_NAME: 'f',
  GIT_COMMITTER_EMAIL: 'f@example.org',
  GIT_CONFIG_NOSYSTEM: '1',
  HOME: '/nonexistent',
};

/** A small real repository: its loose objects, then its pack after `git gc` (with a delta). */
export async function gitSpecimens(): Promise<{ loose: Buffer[]; pack: Buffer }> {
  const { dir, remove } = await scratch('git');
  try {
    const git = (...args: string[]) => execa('git', args, { cwd: dir, env: GIT_ENV, extendEnv: false });
    await git('init', '-q');
    const text = Array.from({ length: 40 }, (_, i) => `line ${i} of a file that changes a little\n`).join('');
    await writeFile(join(dir, 'a.txt'), text);
    await git('add', '.');
    await git('commit', '-q', '-m', 'one');
    await writeFile(join(dir, 'a.txt'), `${text}one more line\n`);
    await git('commit', '-q', '-am', 'two');
    const loose: Buffer[] = [];
    for (const sub of await readdir(join(dir, '.git/objects'))) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue;
      for (const name of await readdir(join(dir, '.git/objects', sub))) loose.push(await readFile(join(dir, '.git/objects', sub, name)));
    }
    await git('gc', '-q', '--aggressive', '--prune=now');
    const packDir = join(dir, '.git/objects/pack');
    const pack = await readFile(
      join(
        packDir,
        (await readdir(packDir)).find((name) => name.endsWith('.pack'))!,
      ),
    );
    return { loose, pack };
  } finally {
    await remove();
  }
}

/** A small .deb built by dpkg-deb with the given compression. */
export async function debSpecimen(compression: 'gzip' | 'xz' | 'none'): Promise<Buffer> {
  const { dir, remove } = await scratch('deb');
  try {
    await mkdir(join(dir, 'pkg/DEBIAN'), { recursive: true });
    await mkdir(join(dir, 'pkg/etc'), { recursive: true });
    await writeFile(join(dir, 'pkg/DEBIAN/control'), 'Package: fuzz\nVersion: 1\nArchitecture: all\nMaintainer: f <f@example.org>\nDescription: f\n');
    await writeFile(join(dir, 'pkg/etc/file'), 'content\n'.repeat(50));
    await execa('dpkg-deb', ['--root-owner-group', `-Z${compression}`, '--build', join(dir, 'pkg'), join(dir, 'p.deb')]);
    return await readFile(join(dir, 'p.deb'));
  } finally {
    await remove();
  }
}

/** Output of a real compressor over `input`. */
export async function compressWith(command: string, args: string[], input: Uint8Array): Promise<Buffer> {
  return Buffer.from((await execa(command, args, { input: Buffer.from(input), encoding: 'buffer', stripFinalNewline: false })).stdout);
}
