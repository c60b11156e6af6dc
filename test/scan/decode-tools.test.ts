// igzip / zstd (child processes) against Node's decoders (zlib, fzstd) on the same layers: the same
// verdict, findings and facts; the same error on corrupt input; a fallback when the tool is missing
// or cannot start; no decoder process outliving its scan. Layers are real files (the machine's
// /usr/share/doc) tarred and compressed by the real gzip / zstd, with keys generated at run time.
import test from 'ava';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { execa } from 'execa';
import { EicBuildError } from '../../src/errors.js';
import { createContentScanner } from '../../src/detectors/index.js';
import { NO_DETECTOR_KEYS } from '../../src/scan/detector-api.js';
import { findDecodeTool, findRangeReader } from '../../src/scan/decoders/decode-tools.js';
import { liveToolCount } from '../../src/scan/decoders/tool-decode.js';
import { decodeBlobLocation } from '../../src/scan/blob-decode.js';
import { scanLayerBlob, type LayerScanJob, type LayerScanResult } from '../../src/scan/layer-scan.js';

const work = join(tmpdir(), `eic-decode-tools-${process.pid}`);
test.after.always(() => rm(work, { recursive: true, force: true }));

const sha = (bytes: Uint8Array) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A layer tree of real files plus two keys made now: one plain, one inside a .tar.gz. */
async function makeLayerTar(): Promise<Buffer> {
  await mkdir(work, { recursive: true });
  const root = join(work, 'root');
  await mkdir(join(root, 'home/dev/.ssh'), { recursive: true });
  await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'test', '-f', join(root, 'home/dev/.ssh/id_ed25519')]);
  const nested = join(work, 'nested');
  await mkdir(join(nested, 'etc/ssl'), { recursive: true });
  await execa('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(nested, 'etc/ssl/server.key')]);
  await mkdir(join(root, 'srv'), { recursive: true });
  await execa('tar', ['-czf', join(root, 'srv/backup.tar.gz'), '-C', nested, 'etc']);
  const tar = join(work, 'layer.tar');
  // Real content: documentation, scripts and binaries of installed packages.
  await execa('tar', ['-cf', tar, '-C', '/usr', 'share/doc/bash', 'share/doc/git', 'bin/gzip', 'bin/tar', '-C', root, 'home', 'srv']);
  return readFile(tar);
}

async function tool(args: string[], input: Uint8Array): Promise<Buffer> {
  const result = await execa(args[0]!, args.slice(1), { input, encoding: 'buffer' });
  return Buffer.from(result.stdout);
}

const BLOBS = ['gzip', 'gzip, two members', 'gzip, zero padding after', 'zstd', 'zstd, two frames'] as const;
const CORRUPT = [
  'gzip, truncated',
  'gzip, a byte changed in the middle',
  'gzip, CRC changed',
  'gzip, text after the stream',
  'gzip, a broken member after the stream',
  'zstd, truncated',
  'zstd, text after the stream',
] as const;

const flip = (bytes: Buffer, at: number): Buffer => {
  const copy = Buffer.from(bytes);
  copy[at] = copy[at]! ^ 0x55;
  return copy;
};

/** Made once, on first use (ava wants tests declared synchronously). */
const fixtures = (async () => {
  const layerTar = await makeLayerTar();
  const half = Math.floor(layerTar.length / 2);
  const gzip = await tool(['gzip', '-6', '-n', '-c'], layerTar);
  const zstd = await tool(['zstd', '-3', '-q', '-c'], layerTar);
  const blobs: Record<(typeof BLOBS)[number], Buffer> = {
    gzip,
    // pigz-style: two members, one after the other.
    'gzip, two members': Buffer.concat([await tool(['gzip', '-c'], layerTar.subarray(0, half)), await tool(['gzip', '-c'], layerTar.subarray(half))]),
    // Zero padding after the gzip stream (igzip stops there; zlib skips it).
    'gzip, zero padding after': Buffer.concat([gzip, Buffer.alloc(4096)]),
    zstd,
    'zstd, two frames': Buffer.concat([await tool(['zstd', '-q', '-c'], layerTar.subarray(0, half)), await tool(['zstd', '-q', '-c'], layerTar.subarray(half))]),
  };
  const corrupt: Record<(typeof CORRUPT)[number], Buffer> = {
    'gzip, truncated': gzip.subarray(0, Math.floor(gzip.length * 0.6)),
    'gzip, a byte changed in the middle': flip(gzip, Math.floor(gzip.length / 2)),
    'gzip, CRC changed': flip(gzip, gzip.length - 6),
    'gzip, text after the stream': Buffer.concat([gzip, Buffer.from('not gzip, but published with the blob\n')]),
    'gzip, a broken member after the stream': Buffer.concat([gzip, Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])]),
    'zstd, truncated': zstd.subarray(0, Math.floor(zstd.length * 0.6)),
    'zstd, text after the stream': Buffer.concat([zstd, Buffer.from('not zstd\n')]),
  };
  return { layerTar, gzip, zstd, blobs, corrupt };
})();
fixtures.catch(() => undefined);

let fileCount = 0;
async function blobFile(bytes: Uint8Array): Promise<string> {
  const file = join(work, `blob-${fileCount++}`);
  await writeFile(file, bytes);
  return file;
}

function job(bytes: Uint8Array, extra: Partial<LayerScanJob>): LayerScanJob {
  return {
    label: 'layer 3 sha256:test (blobs/sha256/test)',
    format: 'tar',
    check: { kind: 'blob', digest: sha(bytes) },
    expectedSize: bytes.length,
    keys: NO_DETECTOR_KEYS,
    ...extra,
  };
}

async function scanFile(file: string, bytes: Uint8Array, extra: Partial<LayerScanJob>): Promise<LayerScanResult> {
  return scanLayerBlob({ file, offset: 0, size: (await stat(file)).size }, job(bytes, extra), createContentScanner);
}

test('[integration] igzip and zstd are on PATH here (Debian packages isal and zstd; .ci/setup-system.sh installs them)', async (t) => {
  t.true((await findDecodeTool('gzip')) !== null, 'igzip not found: apt-get install isal');
  t.true((await findDecodeTool('zstd')) !== null, 'zstd not found: apt-get install zstd');
});

for (const name of BLOBS) {
  test(`[integration] ${name}: the tool and Node's decoder give the same verdict, findings and facts (in this thread and in a decode thread)`, async (t) => {
    const { blobs, layerTar } = await fixtures;
    const bytes = blobs[name];
    const file = await blobFile(bytes);
    const node = await scanFile(file, bytes, { decodeTools: false });
    const viaTool = await scanFile(file, bytes, { decodeTools: true });
    const viaToolOffThread = await scanFile(file, bytes, { decodeTools: true, decodeOffThread: true });
    const isGzip = name.startsWith('gzip');
    t.is(node.decoder, isGzip ? 'zlib' : 'fzstd');
    // igzip cannot tell zero padding from the end: such a blob is decoded again by zlib.
    const expected = name === 'gzip, zero padding after' ? 'zlib' : isGzip ? 'igzip' : 'zstd';
    t.is(viaTool.decoder, expected);
    t.is(viaToolOffThread.decoder, expected);
    const { decoder: _a, ...nodeFacts } = node;
    const { decoder: _b, ...toolFacts } = viaTool;
    const { decoder: _c, ...threadFacts } = viaToolOffThread;
    t.deepEqual(toolFacts, nodeFacts);
    t.deepEqual(threadFacts, nodeFacts);
    t.is(node.bytesScanned, layerTar.length);
    t.deepEqual(node.findings.map((f) => `${f.path}${f.nestedPath ? `//${f.nestedPath}` : ''}`).sort(), [
      'home/dev/.ssh/id_ed25519',
      'srv/backup.tar.gz//backup.tar/etc/ssl/server.key',
    ]);
  });
}

/** A blob as a registry or the engine gives it: a stream in 64 KiB pieces, no file behind it. */
function streamOf(bytes: Uint8Array): Readable {
  const pieces: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += 65536) pieces.push(Buffer.from(bytes.subarray(at, at + 65536)));
  return Readable.from(pieces);
}

test('[integration] a zstd stream (registry, engine): the zstd binary decodes it through its stdin, same facts as fzstd; corrupt data the same error', async (t) => {
  const { blobs, corrupt } = await fixtures;
  for (const name of ['zstd', 'zstd, two frames'] as const) {
    const bytes = blobs[name];
    const viaTool = await scanLayerBlob(streamOf(bytes), job(bytes, { decodeTools: true }), createContentScanner);
    const node = await scanLayerBlob(streamOf(bytes), job(bytes, { decodeTools: false }), createContentScanner);
    t.is(viaTool.decoder, 'zstd');
    t.is(node.decoder, 'fzstd');
    const { decoder: _a, ...toolFacts } = viaTool;
    const { decoder: _b, ...nodeFacts } = node;
    t.deepEqual(toolFacts, nodeFacts, name);
  }
  for (const name of CORRUPT.filter((n) => n.startsWith('zstd'))) {
    const bytes = corrupt[name];
    const fail = (tools: boolean) =>
      scanLayerBlob(streamOf(bytes), job(bytes, { decodeTools: tools }), createContentScanner).then(
        () => null,
        (e: unknown) => e as EicBuildError,
      );
    const [viaTool, node] = [await fail(true), await fail(false)];
    t.is(viaTool?.code, 'input-corrupt', name);
    t.is(viaTool?.code, node?.code, name);
    t.is(withoutDecoderDetail(viaTool!.message), withoutDecoderDetail(node!.message), name);
  }
});

/** The error without the decoder's own words (the parenthesis naming it). */
function withoutDecoderDetail(message: string): string {
  return message.replace(/ \((igzip|zlib|zstd|fzstd|node-zstd): .*\)$/s, ' (…)');
}

async function failure(file: string, bytes: Uint8Array, tools: boolean): Promise<EicBuildError> {
  const error = await scanFile(file, bytes, { decodeTools: tools }).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof EicBuildError)) throw new Error(`expected an EicBuildError, got ${String(error)}`);
  return error;
}

for (const name of CORRUPT) {
  test(`[integration] ${name}: the same error with the tool and with Node's decoder, naming the blob`, async (t) => {
    const bytes = (await fixtures).corrupt[name];
    const file = await blobFile(bytes);
    const node = await failure(file, bytes, false);
    const viaTool = await failure(file, bytes, true);
    t.is(node.code, 'input-corrupt');
    t.is(viaTool.code, node.code);
    t.is(viaTool.hint, node.hint);
    t.true(node.message.startsWith('layer 3 sha256:test (blobs/sha256/test): '), node.message);
    t.regex(node.message, /decompression failed: the (gzip|zstd) data is corrupt or truncated/);
    t.is(withoutDecoderDetail(viaTool.message), withoutDecoderDetail(node.message));
  });
}

test('[integration] zstd with a byte changed: exit 2 either way (zstd checks the frame checksum; fzstd does not, so the blob digest fails)', async (t) => {
  const { zstd } = await fixtures;
  const bytes = flip(zstd, Math.floor(zstd.length / 2));
  const file = await blobFile(bytes);
  // The manifest's digest is that of the intact blob.
  const intact = { kind: 'blob' as const, digest: sha(zstd) };
  const run = (tools: boolean) =>
    scanFile(file, bytes, { decodeTools: tools, check: intact, expectedSize: bytes.length }).then(
      () => null,
      (e: unknown) => e,
    );
  const viaTool = await run(true);
  const node = await run(false);
  t.true(viaTool instanceof EicBuildError && viaTool.code === 'input-corrupt', String(viaTool));
  t.true(node instanceof EicBuildError && (node.code === 'digest-mismatch' || node.code === 'input-corrupt'), String(node));
  for (const error of [viaTool, node] as EicBuildError[]) t.true(error.message.startsWith('layer 3 sha256:test'), error.message);
});

for (const offThread of [false, true]) {
  const where = offThread ? 'output read in a helper thread' : 'output read in this thread';
  test(`[integration] a blob inside a bigger file (as in a docker-archive): the tool decodes only its byte range, same facts as Node's decoder (${where})`, async (t) => {
    const { gzip, zstd, layerTar } = await fixtures;
    for (const bytes of [gzip, zstd]) {
      // Before the blob: other archive members; after it: another whole compressed copy, which a
      // reader going past the range would decode too (and the tar walk would count).
      const before = Buffer.alloc(3 * 512 + 17, 0x61);
      const file = await blobFile(Buffer.concat([before, bytes, bytes]));
      const location = { file, offset: before.length, size: bytes.length };
      const viaTool = await scanLayerBlob(location, job(bytes, { decodeTools: true, decodeOffThread: offThread }), createContentScanner);
      const node = await scanLayerBlob(location, job(bytes, { decodeTools: false }), createContentScanner);
      t.is(viaTool.decoder, bytes === gzip ? 'igzip' : 'zstd');
      t.is(viaTool.bytesScanned, layerTar.length);
      const { decoder: _a, ...toolFacts } = viaTool;
      const { decoder: _b, ...nodeFacts } = node;
      t.deepEqual(toolFacts, nodeFacts);
    }
  });

  test(`[integration] a blob that does not hash to the manifest's digest: exit 2 naming the blob, no result, with the tool as with Node (${where})`, async (t) => {
    const { gzip } = await fixtures;
    const file = await blobFile(gzip);
    const other = { kind: 'blob' as const, digest: sha(Buffer.from('another blob')) };
    for (const tools of [true, false]) {
      const error = await scanFile(file, gzip, { decodeTools: tools, decodeOffThread: offThread, check: other }).then(
        () => null,
        (e: unknown) => e,
      );
      t.true(error instanceof EicBuildError, String(error));
      t.is((error as EicBuildError).code, 'digest-mismatch');
      t.true((error as EicBuildError).message.startsWith(`layer 3 sha256:test (blobs/sha256/test): content hashes to ${sha(gzip)}`), (error as EicBuildError).message);
    }
  });

  test(`[integration] a blob shorter than its location says (a truncated archive): exit 2 with the tool as with Node (${where})`, async (t) => {
    const { gzip } = await fixtures;
    const file = await blobFile(gzip.subarray(0, gzip.length - 1000));
    const location = { file, offset: 0, size: gzip.length };
    for (const tools of [true, false]) {
      const error = await scanLayerBlob(location, job(gzip, { decodeTools: tools, decodeOffThread: offThread }), createContentScanner).then(
        () => null,
        (e: unknown) => e,
      );
      t.true(error instanceof EicBuildError && error.code === 'input-corrupt', String(error));
      t.true((error as EicBuildError).message.startsWith('layer 3 sha256:test'), (error as EicBuildError).message);
    }
  });
}

// PATH is process-wide: these run one at a time.
async function withPath<T>(dir: string, run: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = dir;
  try {
    return await run();
  } finally {
    process.env.PATH = saved;
  }
}

test.serial('[integration] no igzip on PATH: zlib decodes, same result', async (t) => {
  const { gzip } = await fixtures;
  const file = await blobFile(gzip);
  const empty = await mkdtemp(join(work, 'path-'));
  const result = await withPath(empty, () => scanFile(file, gzip, { decodeTools: true }));
  t.is(result.decoder, 'zlib');
  t.is(result.findings.length, 2);
});

test.serial('[integration] an igzip that does not work (a stand-in: a script that fails, as an install missing its library would) is not used', async (t) => {
  // Stand-in: a broken install cannot be produced on cue with the real package.
  const dir = await mkdtemp(join(work, 'path-'));
  await writeFile(join(dir, 'igzip'), '#!/bin/sh\necho "igzip: error while loading shared libraries" >&2\nexit 127\n');
  await chmod(join(dir, 'igzip'), 0o755);
  const { gzip } = await fixtures;
  const file = await blobFile(gzip);
  const result = await withPath(dir, () => scanFile(file, gzip, { decodeTools: true }));
  t.is(result.decoder, 'zlib');
  t.is(result.findings.length, 2);
});

test.serial('[integration] an igzip that disappears after its probe (cannot be started): zlib decodes the same bytes', async (t) => {
  const dir = await mkdtemp(join(work, 'path-'));
  const igzip = (await findDecodeTool('gzip'))!.path;
  await writeFile(join(dir, 'igzip'), `#!/bin/sh\nexec ${igzip} "$@"\n`);
  await chmod(join(dir, 'igzip'), 0o755);
  // dd reads the blob's range into igzip.
  await symlink((await findRangeReader())!, join(dir, 'dd'));
  const { gzip } = await fixtures;
  const file = await blobFile(gzip);
  const first = await withPath(dir, () => scanFile(file, gzip, { decodeTools: true }));
  t.is(first.decoder, 'igzip');
  await rm(join(dir, 'igzip'));
  const second = await withPath(dir, () => scanFile(file, gzip, { decodeTools: true }));
  t.is(second.decoder, 'zlib');
  const { decoder: _a, ...a } = first;
  const { decoder: _b, ...b } = second;
  t.deepEqual(b, a);
});

async function childrenOf(pid: number): Promise<{ pid: number; comm: string }[]> {
  const { stdout } = await execa('ps', ['--ppid', String(pid), '-o', 'pid=,comm='], { reject: false });
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length === 2)
    .map(([p, comm]) => ({ pid: Number(p), comm: comm! }));
}

for (const offThread of [false, true]) {
  test.serial(
    `[integration] a reader that stops early ends the decoder and dd processes and waits for them (no zombie; decoding ${offThread ? 'in a helper thread' : 'in this thread'})`,
    async (t) => {
      const { layerTar } = await fixtures;
      const big = Buffer.concat(Array.from({ length: 8 }, () => layerTar));
      const bytes = await tool(['gzip', '-1', '-c'], big);
      const file = await blobFile(bytes);
      const decoded = decodeBlobLocation({ file, offset: 0, size: bytes.length }, { tools: true, offThread });
      const iterator = decoded.chunks[Symbol.asyncIterator]();
      try {
        await iterator.next();
        t.is(decoded.decoder(), 'igzip');
        // Counted per thread: a decode thread's children are seen in the process table only.
        if (!offThread) t.true(liveToolCount() >= 1);
        t.true((await childrenOf(process.pid)).some((c) => c.comm === 'igzip'));
      } finally {
        await iterator.return!();
      }
      t.is(liveToolCount(), 0);
      const left = (await childrenOf(process.pid)).map((c) => c.comm);
      t.false(left.includes('igzip') || left.includes('dd'), `igzip and dd ended and were waited for (left: ${left.join(' ')})`);
    },
  );
}

test.serial('[integration] SIGINT to a running scan leaves no igzip behind', async (t) => {
  // A layer large enough that the scan is still running when it is interrupted.
  const { layerTar } = await fixtures;
  const big = Buffer.concat(Array.from({ length: 40 }, () => layerTar));
  const bytes = await tool(['gzip', '-1', '-c'], big);
  const file = await blobFile(bytes);
  const script = join(work, 'interrupted.mts');
  await writeFile(
    script,
    `import { scanLayerBlob } from ${JSON.stringify(new URL('../../src/scan/layer-scan.ts', import.meta.url).href)};
import { createContentScanner } from ${JSON.stringify(new URL('../../src/detectors/index.ts', import.meta.url).href)};
await scanLayerBlob({ file: ${JSON.stringify(file)}, offset: 0, size: ${bytes.length} }, { label: 'l', format: 'tar', check: null, expectedSize: null, keys: { knownKeys: [], allowKeys: [] }, decodeTools: true, decodeOffThread: true }, createContentScanner);
console.log('finished');
`,
  );
  const scan = execa(process.execPath, ['--import', 'tsx', script], { reject: false });
  let igzip: number | null = null;
  // Waits that end as soon as their condition holds: wide, for a loaded machine.
  for (let i = 0; i < 2400 && igzip === null; i++) {
    igzip = (await childrenOf(scan.pid!)).find((c) => c.comm === 'igzip')?.pid ?? null;
    if (igzip === null) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.not(igzip, null, 'igzip was started');
  process.kill(scan.pid!, 'SIGINT');
  const result = await scan;
  t.not(result.stdout, 'finished');
  let running = true;
  for (let i = 0; i < 600 && running; i++) {
    const state = await readFile(`/proc/${igzip}/stat`, 'utf8').then(
      (s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3),
      () => 'gone',
    );
    running = state !== 'gone' && state !== 'Z';
    if (running) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  t.false(running, 'igzip exited after the scan was interrupted');
});
