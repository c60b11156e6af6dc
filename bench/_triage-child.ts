// Child process of bench/triage.ts: one scan with provenance triage on or off; prints one JSON line.
// argv: 'on' | 'off', target.
import { existsSync, readFileSync } from 'node:fs';

// Measure the shipped code (dist/, plain JS workers) when it is built with triage; else the sources via tsx.
const dist = new URL('../dist/scan/index.js', import.meta.url);
const built = existsSync(new URL('../dist/scan/provenance/triage.js', import.meta.url));
const lib = (await import(built ? dist.href : new URL('../src/scan/index.ts', import.meta.url).href)) as typeof import('../src/scan/index.js');

const [mode, target] = process.argv.slice(2);
const started = performance.now();
const report = await lib.scanTarget(target!, { provenance: mode === 'on' });
const seconds = (performance.now() - started) / 1000;
const usage = process.resourceUsage();
const vmHwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
console.log(
  JSON.stringify({
    seconds,
    cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
    maxRssKiB: Number(vmHwm ?? usage.maxRSS),
    code: built ? 'dist' : 'src',
    findings: report.findings.length,
    published: report.notes.filter((note) => note.provenance !== null).length,
    bytes: report.stats.bytesScanned,
  }),
);
