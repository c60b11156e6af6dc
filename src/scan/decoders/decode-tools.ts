// The external decompressors the scanner uses when they are on PATH: ISA-L's `igzip` (about twice
// as fast as zlib on gzip) and the `zstd` binary (several times faster than fzstd, the pure-JS
// decoder Node 20 needs). Each runs as a child process, so decompression also gets its own core.
// A tool is used only if it answers `--version`: a missing or broken one means Node's decoder.
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import type { Compression } from '../compression.js';

export type DecodeToolName = 'igzip' | 'zstd';

/** A usable decompressor binary and how to make it decode stdin to stdout. */
export interface DecodeTool {
  name: DecodeToolName;
  path: string;
  args: readonly string[];
}

const TOOL_FOR: Partial<Record<Compression, DecodeToolName>> = { gzip: 'igzip', zstd: 'zstd' };

const ARGS: Record<DecodeToolName, readonly string[]> = {
  igzip: ['-d', '-c'],
  zstd: ['-d', '-c', '-q'],
};

const PROBE_TIMEOUT_MS = 5000;

/** Per tool and PATH: found and answering, or null. Probed once per thread. */
const cache = new Map<string, Promise<DecodeTool | null>>();

/** The first executable `name` in the directories of `pathEnv`, or null. */
async function which(name: string, pathEnv: string): Promise<string | null> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (
      await access(candidate, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return null;
}

/** True when `path --version` exits 0 in time (an install whose libraries are missing does not). */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(path, ['--version'], { timeout: PROBE_TIMEOUT_MS, windowsHide: true }, (error) => resolve(error === null));
  });
}

/** The tool that decodes `compression`, when it is on PATH and works; null for Node's own decoder. */
export function findDecodeTool(compression: Compression, pathEnv: string = process.env.PATH ?? ''): Promise<DecodeTool | null> {
  const name = TOOL_FOR[compression];
  if (!name) return Promise.resolve(null);
  const key = `${name}\0${pathEnv}`;
  let found = cache.get(key);
  if (!found) {
    found = (async () => {
      const path = await which(name, pathEnv);
      return path && (await answers(path)) ? { name, path, args: ARGS[name] } : null;
    })();
    cache.set(key, found);
  }
  return found;
}

/** Reads a byte range of a file into the tool's stdin: GNU dd, so no blob byte passes through Node. */
const RANGE_READER = 'dd';

/** GNU `dd` when on PATH and answering (it feeds a tool the blob's byte range), else null. */
export function findRangeReader(pathEnv: string = process.env.PATH ?? ''): Promise<string | null> {
  const key = `${RANGE_READER}\0${pathEnv}`;
  let found = rangeReaders.get(key);
  if (!found) {
    found = (async () => {
      const path = await which(RANGE_READER, pathEnv);
      return path && (await answers(path)) ? path : null;
    })();
    rangeReaders.set(key, found);
  }
  return found;
}

const rangeReaders = new Map<string, Promise<string | null>>();

/** Forget a tool that failed to start after its probe (it is not used again in this thread). */
export function markToolBroken(tool: DecodeTool, pathEnv: string = process.env.PATH ?? ''): void {
  cache.set(`${tool.name}\0${pathEnv}`, Promise.resolve(null));
}
