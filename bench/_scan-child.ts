// Child process of bench/scan.ts: runs one measurement so that its peak RSS is its own.
// argv: mode ('scan' | 'gunzip' | 'kernel') and target; prints one JSON line.
// kernel: the tar walk and the detectors alone over an uncompressed tar file: reading and hashing run
// in the decode helper thread, so the main thread's CPU time (mainCpuSeconds) is the kernel's.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

// Measure the shipped code (dist/, plain JS workers) when it is built; else the sources via tsx.
const dist = new URL('../dist/scan/index.js', import.meta.url);
const built = existsSync(dist);
const lib = (await import(built ? dist.href : new URL('../src/scan/index.ts', import.meta.url).href)) as typeof import('../src/scan/index.js');
const detectors = (await import(new URL(built ? '../dist/detectors/index.js' : '../src/detectors/index.ts', import.meta.url).href)) as typeof import('../src/detectors/index.js');

const [mode, target] = process.argv.slice(2);
const cpuNow = () => {
  const usage = process.resourceUsage();
  return (usage.userCPUTime + usage.systemCPUTime) / 1e6;
};
/** CPU seconds of the main thread alone (/proc/self/task/<pid>/stat: utime + stime, in ticks). */
const mainCpuNow = () => {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const cpuAtStart = cpuNow();
const mainCpuAtStart = mainCpuNow();
const started = performance.now();
let detail: Record<string, unknown>;
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
} else if (mode === 'kernel') {
  const job = { label: 'bench layer', format: 'tar' as const, check: null, expectedSize: null, keys: { knownKeys: [], allowKeys: [] }, decodeOffThread: true };
  const result = await lib.scanLayerBlob({ file: target!, offset: 0, size: statSync(target!).size }, job, detectors.createContentScanner);
  detail = { code: built ? 'dist' : 'src', findings: result.findings.length, bytes: result.bytesScanned };
} else {
  const report = await lib.scanTarget(target!);
  detail = {
    code: built ? 'dist' : 'src',
    leaked: report.leaked,
    findings: report.findings.length,
    layers: report.stats.layers,
    layersReadTwice: report.stats.layersReadTwice,
    bytes: report.stats.bytesScanned,
  };
}
const seconds = (performance.now() - started) / 1000;
// CPU seconds of all threads (main, zlib pool, workers; not child processes such as igzip), from
// the start of the measurement: robust against a busy machine, unlike wall time.
const cpuSeconds = cpuNow() - cpuAtStart;
const mainCpuSeconds = mainCpuNow() - mainCpuAtStart;
const usage = process.resourceUsage();
// Peak RSS of this process image: VmHWM, not ru_maxrss, which Linux carries over an exec from the
// (forked) parent, so a child of a big bench process would report the parent's size.
// CPU of waited-for child processes (igzip, zstd): utime+stime of the children in /proc/self/stat.
const stat = readFileSync('/proc/self/stat', 'utf8');
const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
const childCpuSeconds = (Number(fields[13]) + Number(fields[14])) / 100;
const vmHwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
console.log(JSON.stringify({ seconds, cpuSeconds, mainCpuSeconds, childCpuSeconds, maxRssKiB: vmHwm === undefined ? usage.maxRSS : Number(vmHwm), ...detail }));
