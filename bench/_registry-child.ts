// Child process of bench/registry.ts: streams one file blob to a registry so that its peak RSS is
// its own. argv: registry host, repository, file, digest, size ('-' as file: only load the client).
import { readFileSync } from 'node:fs';

const { RegistryClient } = (await import(new URL('../src/registry/client.ts', import.meta.url).href)) as typeof import('../src/registry/client.js');

const [host, repository, path, digest, size] = process.argv.slice(2);
const client = new RegistryClient({ registry: host! });
await client.ping();
const started = performance.now();
if (path !== '-') await client.putBlobFile(repository!, path!, { digest: digest!, size: Number(size) });
const seconds = (performance.now() - started) / 1000;
const usage = process.resourceUsage();
// VmHWM, not ru_maxrss, which Linux carries over an exec from the (forked) parent.
const vmHwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
console.log(JSON.stringify({ seconds, maxRssKiB: vmHwm === undefined ? usage.maxRSS : Number(vmHwm) }));
