// An image in the local Docker engine: `docker save` streamed through dockerode. The stream is
// never buffered: layer blobs are scanned as they pass; manifest.json/index.json come last, so the
// image structure is reconciled against what was scanned at the end.
import Docker from 'dockerode';
import { Readable, PassThrough } from 'node:stream';
import { posix } from 'node:path';
import { describeEndpoint, type DockerEndpoint } from '../docker/endpoint.js';
import { EicBuildError } from '../errors.js';
import { createContentScanner, type DetectorKeys } from './detector-api.js';
import { sniffCompression } from './compression.js';
import type { BlobStore, ImageRef } from './image.js';
import { readImages } from './layout.js';
import { scanLayerBlob, type LayerScanResult } from './layer-scan.js';
import { waitForDrain } from './drain.js';
import { BLOCK, parseTarHeader } from './tar-header.js';
import { TarFormatError, TarStreamParser, type EntrySink } from './tar-parser.js';

const SMALL_LIMIT = 64 * 1024 * 1024;

/** What streaming the daemon's image gave: its images and every layer scanned, by blob name. */
export interface DaemonScan {
  images: ImageRef[];
  results: Map<string, LayerScanResult>;
}

function looksLikeLayer(head: Uint8Array): boolean {
  if (sniffCompression(head) !== 'none') return true;
  return head.length >= BLOCK && parseTarHeader(head.subarray(0, BLOCK)).kind === 'header';
}

/** Sink for one member of the save stream: decides from its first block whether it is a layer. */
class MemberSink implements EntrySink {
  private head: Buffer[] = [];
  private headLength = 0;
  private mode: 'undecided' | 'memory' | 'stream' = 'undecided';
  private pass: PassThrough | null = null;
  private scan: Promise<LayerScanResult> | null = null;

  constructor(
    private readonly label: string,
    private readonly keys: DetectorKeys,
    private readonly onSmall: (bytes: Buffer) => void,
    private readonly onScan: (scan: Promise<LayerScanResult>) => void,
  ) {}

  private startStream(format: 'tar' | 'raw'): void {
    this.mode = 'stream';
    this.pass = new PassThrough({ highWaterMark: 1 << 20 });
    // After a failed scan the pass-through is destroyed; later writes are dropped, the failure is reported at reconcile.
    this.pass.on('error', () => undefined);
    this.scan = scanLayerBlob(
      this.pass,
      {
        label: this.label,
        format,
        check: null,
        alwaysDiff: true,
        expectedSize: null,
        keys: this.keys,
      },
      createContentScanner,
    );
    // Keep a failure from being unhandled until reconcile awaits it.
    this.scan.catch(() => undefined);
    this.onScan(this.scan);
  }

  private push(chunk: Uint8Array): void | Promise<void> {
    const pass = this.pass!;
    if (pass.destroyed) return;
    if (pass.write(chunk)) return;
    return waitForDrain(pass, this.scan!);
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.mode === 'stream') return this.push(chunk);
    this.head.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.headLength += chunk.length;
    if (this.mode === 'undecided' && this.headLength >= BLOCK) {
      const first = Buffer.concat(this.head, this.headLength);
      if (looksLikeLayer(first)) {
        this.head = [];
        this.headLength = 0;
        this.startStream('tar');
        return this.push(first);
      }
      this.mode = 'memory';
    }
    if (this.mode === 'memory' && this.headLength > SMALL_LIMIT) {
      // Too big for a manifest or config: scan it as a document while it passes.
      const held = Buffer.concat(this.head, this.headLength);
      this.head = [];
      this.headLength = 0;
      this.startStream('raw');
      return this.push(held);
    }
  }

  end(): void {
    if (this.mode === 'stream') {
      this.pass!.end();
      return;
    }
    this.onSmall(Buffer.concat(this.head, this.headLength));
    this.head = [];
  }
}

/** Stream `docker save REF` and scan every layer as it passes; `onProgress` hears of bytes read (of about the image size) and layers done. */
export async function scanDaemonImage(
  reference: string,
  keys: DetectorKeys,
  engine: { docker: Docker; endpoint?: DockerEndpoint } = { docker: new Docker() },
  onProgress?: (progress: { layersDone: number; layersTotal: undefined; bytesDone: number; bytesTotal: number | undefined }) => void,
): Promise<DaemonScan> {
  const { docker } = engine;
  const where = engine.endpoint ? `the Docker engine at ${describeEndpoint(engine.endpoint)}` : 'the local Docker engine';
  const target = `docker-daemon:${reference}`;
  let bytesTotal: number | undefined;
  try {
    // The save stream is about the image's uncompressed size: a total for the progress bar.
    bytesTotal = ((await docker.getImage(reference).inspect()) as { Size?: number }).Size;
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status === 404) {
      throw new EicBuildError('input-not-found', `image '${reference}' is not in ${where}`, {
        hint: 'build or load it first (docker images lists what is there), or scan a docker save archive instead.',
      });
    }
    throw new EicBuildError('docker-unavailable', `cannot reach ${where} to read '${reference}': ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'is dockerd running there, and do DOCKER_HOST / DOCKER_CONTEXT (docker context ls) name the engine you mean? Or scan a docker save archive (docker-archive:FILE).',
    });
  }
  let layersDone = 0;
  let bytesDone = 0;
  let reported = 0;
  // At most ~10 reports a second while bytes stream, and one per finished layer.
  const report = (always: boolean) => {
    if (!onProgress || (!always && Date.now() - reported < 100)) return;
    reported = Date.now();
    onProgress({ layersDone, layersTotal: undefined, bytesDone, bytesTotal });
  };
  const small = new Map<string, Buffer>();
  const scans = new Map<string, Promise<LayerScanResult>>();
  const links = new Map<string, string>();
  const parser = new TarStreamParser((entry) => {
    if (entry.type === 'symlink') links.set(entry.name, posix.normalize(posix.join(posix.dirname(entry.name), entry.linkname)));
    if (entry.type === 'hardlink') links.set(entry.name, posix.normalize(entry.linkname));
    if (entry.type !== 'file') return null;
    return new MemberSink(
      `${target}: blob '${entry.name}'`,
      keys,
      (bytes) => small.set(entry.name, bytes),
      (scan) => {
        scans.set(entry.name, scan);
        scan.then(
          () => {
            layersDone++;
            report(true);
          },
          () => undefined,
        );
      },
    );
  });
  try {
    const stream = (await docker.getImage(reference).get()) as NodeJS.ReadableStream;
    for await (const chunk of Readable.from(stream as AsyncIterable<Buffer>)) {
      bytesDone += (chunk as Buffer).length;
      report(false);
      const written = parser.write(chunk as Buffer);
      if (written) await written;
    }
    parser.end();
  } catch (error) {
    if (error instanceof EicBuildError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new EicBuildError(error instanceof TarFormatError ? 'input-corrupt' : 'input-unreadable', `${target}: the docker save stream broke: ${reason}`, {
      hint: 'retry; if it persists, docker save the image to a file and scan that.',
    });
  }

  const resolve = (name: string): string => {
    let current = name;
    for (let hops = 0; hops < 16 && links.has(current); hops++) current = links.get(current)!;
    return current;
  };
  const store: BlobStore = {
    target,
    has: (name) => small.has(resolve(name)) || scans.has(resolve(name)),
    async read(name) {
      const bytes = small.get(resolve(name));
      if (!bytes) throw new EicBuildError('input-corrupt', `${target}: '${name}' is not a small document in the save stream`);
      return bytes;
    },
    location: () => null,
  };
  const images = await readImages(store);
  const results = new Map<string, LayerScanResult>();
  for (const image of images) {
    for (const layer of image.layers) {
      if (results.has(layer.blobName)) continue;
      const name = resolve(layer.blobName);
      const label = `${target}: layer ${layer.digest} ('${layer.blobName}')`;
      let result: LayerScanResult;
      const scan = scans.get(name);
      if (scan) {
        result = await scan;
        const actual = layer.check?.kind === 'diff' ? (result.diffDigest ?? result.blobDigest) : result.blobDigest;
        if (layer.check && actual !== layer.check.digest) {
          throw new EicBuildError('digest-mismatch', `${label}: content hashes to ${actual}, not ${layer.check.digest}`, {
            hint: 'the image in the engine is damaged; do not trust it.',
          });
        }
        if (layer.size !== null && layer.size !== result.blobBytes) {
          throw new EicBuildError('input-corrupt', `${label}: blob has ${result.blobBytes} bytes, the manifest says ${layer.size}`);
        }
      } else {
        const bytes = small.get(name);
        if (!bytes) throw new EicBuildError('input-corrupt', `${label}: blob missing from the save stream`);
        result = await scanLayerBlob(Readable.from([bytes]), { label, format: layer.format, check: layer.check, expectedSize: layer.size, keys }, createContentScanner);
      }
      results.set(layer.blobName, result);
    }
  }
  // Any scan that failed but was not referenced still means the stream was not read whole.
  for (const [name, scan] of scans) {
    try {
      await scan;
    } catch (error) {
      if (error instanceof EicBuildError) throw error;
      throw new EicBuildError('input-corrupt', `${target}: blob '${name}' could not be read: ${String(error)}`);
    }
  }
  return { images, results };
}
