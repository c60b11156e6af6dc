import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EicBuildError } from '../../errors.js';
import type { MirrorFiles } from '../mirror-files.js';
import { OversizedBlobError, receiveStream, type ReceivedFile } from './copy-blob.js';
import type { MirrorLocation } from '../../mirror-url.js';

/** Opens a (maybe large) file of a file-layout mirror as a stream; undefined when it does not exist. */
export type OpenMirrorFile = (path: string) => Promise<Readable | undefined>;

/** A stream opener for a directory or HTTP(S) mirror. */
export function mirrorFileOpener(location: Exclude<MirrorLocation, { kind: 'oci' }>): OpenMirrorFile {
  if (location.kind === 'file') {
    return async (path) => {
      const full = join(location.root, ...path.split('/'));
      try {
        await stat(full);
      } catch (error) {
        if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return undefined;
        throw new EicBuildError('input-unreadable', `cannot read ${full}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
          hint: 'check the mirror path and its permissions',
        });
      }
      return createReadStream(full);
    };
  }
  return async (path) => {
    const url = new URL(path, location.base).toString();
    let response: Response;
    try {
      // No overall timeout: a tarball may take long; a stalled connection fails in the socket.
      response = await fetch(url);
    } catch (error) {
      throw new EicBuildError(
        'input-unreadable',
        `cannot reach ${url}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`,
        {
          hint: 'check the mirror URL and that the server is up',
        },
      );
    }
    if (response.status === 404 || response.status === 403) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      throw new EicBuildError('input-unreadable', `GET ${url}: HTTP ${response.status}`, { hint: 'check the mirror URL and the server logs' });
    }
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  };
}

/** A MirrorFiles that keeps what the verifier read: small files in memory, hashed blobs as files in the copy. */
export interface RecordingMirrorFiles extends MirrorFiles {
  /** Every small file read, by path (each distinct content once). */
  readonly reads: Map<string, Buffer[]>;
  /** Every blob hashed, by path: the very bytes the verifier hashed, already on disk. */
  readonly received: Map<string, ReceivedFile[]>;
}

/**
 * Wrap a mirror so that verifying it also copies it: `hash(path)` streams the file into `incoming` while
 * hashing it (one pass), so what the copy keeps is exactly what the verifier checked, not a second read
 * that could differ.
 */
export function recordingMirrorFiles(inner: MirrorFiles, open: OpenMirrorFile, incoming: string): RecordingMirrorFiles {
  const reads = new Map<string, Buffer[]>();
  const received = new Map<string, ReceivedFile[]>();
  return {
    reads,
    received,
    async read(path) {
      const bytes = await inner.read(path);
      if (bytes) {
        const seen = reads.get(path) ?? [];
        if (!seen.some((b) => b.equals(bytes))) seen.push(bytes);
        reads.set(path, seen);
      }
      return bytes;
    },
    async hash(path, maxBytes) {
      const stream = await open(path);
      if (!stream) return undefined;
      let file: ReceivedFile;
      try {
        file = await receiveStream(stream, incoming, maxBytes);
      } catch (error) {
        if (error instanceof OversizedBlobError) return { sha256: '', size: error.limit + 1, oversized: true };
        if (error instanceof EicBuildError) throw error;
        throw new EicBuildError(
          'input-unreadable',
          `cannot copy ${inner.describe(path)}: ${(error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error))}`,
          {
            hint: 'check the mirror and that the --copy-to file system has room',
            cause: error,
          },
        );
      }
      received.set(path, [...(received.get(path) ?? []), file]);
      return { sha256: file.sha256, size: file.size };
    },
    list: (dir) => inner.list(dir),
    describe: (path) => inner.describe(path),
  };
}
