// Throughput of the content scanner's write() on random bytes, text and binaries, and how it compares
// with gunzip (the scanner must keep up with decompressing a layer). Figures are printed, not asserted.
import { randomFillSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync, gzipSync } from 'node:zlib';
import { createContentScanner, getCandidateKernel } from '../src/detectors/index.js';

const SIZE = 256 << 20;

function fill(source: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SIZE);
  for (let offset = 0; offset < SIZE; offset += source.length) out.set(source.subarray(0, Math.min(source.length, SIZE - offset)), offset);
  return out;
}

function textCorpus(): Buffer {
  // Real text: TypeScript's declaration files and JavaScript sources from node_modules.
  const dir = new URL('../node_modules/typescript/lib/', import.meta.url).pathname;
  const parts: Buffer[] = [];
  let size = 0;
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (!/\.(d\.ts|js)$/.test(name) || !statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    parts.push(bytes);
    size += bytes.length;
    if (size > 32 << 20) break;
  }
  return Buffer.concat(parts);
}

/** Throughput by wall time and by CPU time of this process (steadier when other jobs share the cores). */
function scanSpeed(data: Buffer, chunkSize: number): { mbps: number; cpuMbps: number; findings: number } {
  const start = performance.now();
  const cpu = process.cpuUsage();
  let findings = 0;
  // One scanner per 16 MiB "file", as a layer walk would create per file.
  for (let file = 0; file < data.length; file += 16 << 20) {
    const scanner = createContentScanner({ path: null, knownKeys: [] });
    const end = Math.min(data.length, file + (16 << 20));
    for (let offset = file; offset < end; offset += chunkSize) scanner.write(data.subarray(offset, Math.min(end, offset + chunkSize)));
    findings += scanner.end().findings.length;
  }
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return { mbps: data.length / 1e6 / seconds, cpuMbps: data.length / 1e6 / ((used.user + used.system) / 1e6), findings };
}

function kernelSpeed(data: Buffer): number {
  const kernel = getCandidateKernel();
  const start = performance.now();
  for (let offset = 0; offset + (1 << 20) <= data.length; offset += 1 << 20) kernel.scan([data.subarray(offset, offset + (1 << 20))], 0, (1 << 20) - 7, () => undefined);
  return data.length / 1e6 / ((performance.now() - start) / 1000);
}

function memcpySpeed(data: Buffer): number {
  const target = Buffer.allocUnsafe(1 << 20);
  const start = performance.now();
  for (let offset = 0; offset + (1 << 20) <= data.length; offset += 1 << 20) target.set(data.subarray(offset, offset + (1 << 20)));
  return data.length / 1e6 / ((performance.now() - start) / 1000);
}

export default async function detectorsBench(log: (line: string) => void): Promise<void> {
  log(
    `candidate kernel: ${getCandidateKernel().kind}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} (figures scale with a busy machine)`,
  );
  const random = Buffer.allocUnsafe(SIZE);
  for (let offset = 0; offset < SIZE; offset += 65536) randomFillSync(random, offset, 65536);
  const inputs: Array<[string, () => Buffer]> = [
    ['random bytes', () => random],
    ['text (typescript/lib sources)', () => fill(textCorpus())],
    // The UTF-16 decoder's trigger must not make UTF-16 files (PowerShell output) slow to scan.
    ['UTF-16LE text (the same sources, as PowerShell writes them)', () => fill(Buffer.from(textCorpus().toString('latin1'), 'utf16le'))],
    ['ELF binary (/usr/bin/gpg repeated)', () => fill(readFileSync('/usr/bin/gpg'))],
  ];
  scanSpeed(random.subarray(0, 32 << 20), 65536); // warm-up (tier-up of the WebAssembly and JS code)
  log(`baselines on random bytes: memcpy ${memcpySpeed(random).toFixed(0)} MB/s, candidate kernel alone ${kernelSpeed(random).toFixed(0)} MB/s`);
  let elf: Buffer | undefined;
  for (const [name, make] of inputs) {
    const data = make();
    for (const chunk of [16384, 65536, 1 << 20]) {
      const { mbps, cpuMbps, findings } = scanSpeed(data, chunk);
      log(`write() ${name}, ${chunk / 1024} KiB chunks: ${mbps.toFixed(0)} MB/s wall, ${cpuMbps.toFixed(0)} MB/s per CPU second (${findings} findings)`);
    }
    elf = data;
  }
  // The scanner runs behind gunzip: compare with the speed of gunzip itself on the same bytes.
  const binary = elf!.subarray(0, 128 << 20);
  const gz = gzipSync(binary, { level: 6 });
  const t0 = performance.now();
  gunzipSync(gz);
  const gunzipSeconds = (performance.now() - t0) / 1000;
  const scan = scanSpeed(binary, 65536);
  const scanSeconds = binary.length / 1e6 / scan.mbps;
  log(
    `gunzip of 128 MiB ELF data: ${(binary.length / 1e6 / gunzipSeconds).toFixed(0)} MB/s; scanning the same bytes takes ${((scanSeconds / gunzipSeconds) * 100).toFixed(0)}% of the gunzip time (ratio (gunzip+scan)/gunzip = ${((gunzipSeconds + scanSeconds) / gunzipSeconds).toFixed(2)})`,
  );
  log(`rss after bench: ${(process.memoryUsage().rss / (1 << 20)).toFixed(0)} MiB (inputs held in memory: up to ${(2 * SIZE) >> 20} MiB)`);
}
