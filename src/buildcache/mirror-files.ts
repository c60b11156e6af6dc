import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EicBuildError } from '../errors.js';
import { readBodyLimited } from '../io/read-body.js';

/** Metadata files read whole over HTTP (manifests, layout.json, the index): a Spack index of 20,000 specs is about 10 MB. */
const MAX_METADATA_BYTES = 256 * 1024 * 1024;

/** Read access to a file-layout mirror (a directory or an HTTP(S) server). */
export interface MirrorFiles {
  /** A small file's bytes, or undefined when it does not exist. */
  read(path: string): Promise<Buffer | undefined>;
  /**
   * Hash a (maybe large) file in one streamed pass; undefined when it does not exist. A source may stop
   * reading after `maxBytes` (the signed size) and say `oversized` (then sha256 and size are meaningless).
   */
  hash(path: string, maxBytes?: number): Promise<{ sha256: string; size: number; oversized?: boolean } | undefined>;
  /** Every file under a directory (relative to the mirror root), or undefined when the source cannot list. */
  list(dir: string): Promise<string[] | undefined>;
  /** Human-readable location of a path. */
  describe(path: string): string;
}

async function hashStream(stream: NodeJS.ReadableStream): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** A mirror on the local file system. */
export function directoryMirrorFiles(root: string): MirrorFiles {
  const full = (path: string) => join(root, ...path.split('/'));
  const missing = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '');
  return {
    async read(path) {
      try {
        return await readFile(full(path));
      } catch (error) {
        if (missing(error)) return undefined;
        throw unreadable(full(path), error);
      }
    },
    async hash(path) {
      try {
        await stat(full(path));
      } catch (error) {
        if (missing(error)) return undefined;
        throw unreadable(full(path), error);
      }
      return hashStream(createReadStream(full(path)));
    },
    async list(dir) {
      try {
        const entries = await readdir(full(dir), { recursive: true, withFileTypes: true });
        return entries
          .filter((entry) => entry.isFile())
          .map((entry) =>
            relative(root, join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))
              .split(sep)
              .join('/'),
          )
          .sort();
      } catch (error) {
        if (missing(error)) return [];
        throw unreadable(full(dir), error);
      }
    },
    describe: full,
  };
}

/** A file-layout mirror served over HTTP(S): no listing, so entries are found through the mirror's index. */
export function httpMirrorFiles(base: string): MirrorFiles {
  const url = (path: string) => new URL(path, base).toString();
  const get = async (path: string): Promise<Response | undefined> => {
    let response: Response;
    try {
      response = await fetch(url(path), { signal: AbortSignal.timeout(120_000) });
    } catch (error) {
      throw new EicBuildError(
        'input-unreadable',
        `cannot reach ${url(path)}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`,
        {
          hint: 'check the mirror URL and that the server is up',
          cause: error,
        },
      );
    }
    if (response.status === 404 || response.status === 403) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new EicBuildError('input-unreadable', `GET ${url(path)}: HTTP ${response.status}`, { hint: 'check the mirror URL and the server logs' });
    }
    return response;
  };
  return {
    async read(path) {
      const response = await get(path);
      return response ? readBodyLimited(response, MAX_METADATA_BYTES, url(path)) : undefined;
    },
    async hash(path) {
      const response = await get(path);
      if (!response?.body) return undefined;
      return hashStream(Readable.fromWeb(response.body as WebReadableStream<Uint8Array>));
    },
    async list() {
      return undefined;
    },
    describe: url,
  };
}

function unreadable(path: string, error: unknown): EicBuildError {
  return new EicBuildError('input-unreadable', `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
    hint: 'check the mirror path and its permissions',
    cause: error,
  });
}
