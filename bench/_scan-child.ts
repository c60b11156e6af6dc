// Child process of bench/scan.ts: runs one measurement so that its peak RSS is its own.
// argv: mode ('scan' | 'gunzip') and target; prints one JSON line.
import { createReadStream, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { existsSync } from 'node:fs';

// Measure the shipped code (dist/, plain JS workers) when it is built; else the sources via tsx.
const dist = new URL('../dist/scan/index.js', import.meta.url);
const lib = (await import(existsSync(dist) ? dist.href : new URL('../src/scan/index.ts', import.meta.url).href)) as typeof import('../src/scan/index.js');
const { scanTarget } = lib;

const [mode, target] = process.argv.slice(2);
const started = performance.now();
let detail: Record<string, unknown> = {};
if (mode === 'gunzip') {
  let bytes = 0;
  await pipeline(
    createReadStream(target!, { highWaterMark: 1 << 20 }),
    createGunzip({ chunkSize: 1 << 20 }),
    new Writable({
      highWaterMark: 1 << 20,
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback();
      },
    }),
  );
  detail = { bytes };
} else {
  const report = await scanTarget(target!);
  detail = { code: existsSync(dist) ? 'dist' : 'src', leaked: report.leaked, findings: report.findings.length, layers: report.stats.layers, bytes: report.stats.bytesScanned };
}
const seconds = (performance.now() - started) / 1000;
const usage = process.resourceUsage();
// CPU seconds of all threads (main, zlib pool, workers): robust against a busy machine, unlike wall time.
const cpuSeconds = (usage.userCPUTime + usage.systemCPUTime) / 1e6;
// Peak RSS of this process image: VmHWM, not ru_maxrss, which Linux carries over an exec from the
// (forked) parent, so a child of a big bench process would report the parent's size.
const vmHwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
console.log(JSON.stringify({ seconds, cpuSeconds, maxRssKiB: vmHwm === undefined ? usage.maxRSS : Number(vmHwm), ...detail }));
