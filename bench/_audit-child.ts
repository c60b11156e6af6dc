// Child of bench/audit.ts: one measured run in a fresh process, printing its time and peak RSS.
//   audit TARGET              runAudit over every tag
//   blobs DIR                 scan the distinct blobs saved in DIR (layers.json) alone, as scan does
//   stream TARGET DIR         stream the same distinct blobs from the registry and scan them, no audit around
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { runAudit } from '../src/audit/index.js';
import { configFacts } from '../src/audit/blob-facts.js';
import { scanLayers } from '../src/scan/worker-pool.js';
import { openRegistryClient, parseRegistryTarget, registryScanConcurrency, scanRegistryLayer } from '../src/scan/registry-source.js';

const [mode, arg, dir] = process.argv.slice(2);
const keys = { knownKeys: [], allowKeys: [] };
const started = performance.now();
let detail: string;
if (mode === 'audit') {
  const report = await runAudit(arg!, {});
  detail = `${report.tags.length} tags, ${report.stats.blobs} blobs, ${report.tags.filter((tag) => tag.status === 'leaked').length} leaked`;
} else if (mode === 'stream') {
  const target = parseRegistryTarget(arg!, { repositoryOnly: true });
  const client = await openRegistryClient(target, process.env);
  const list = JSON.parse(await readFile(join(dir!, 'layers.json'), 'utf8')) as { layers: { size: number; digest: string; format?: 'raw' }[]; configDigests: string[] };
  const jobs: (() => Promise<unknown>)[] = [
    ...list.layers.map(
      (layer) => () => scanRegistryLayer(client, target.repository, { digest: layer.digest, size: layer.size, mediaType: null, format: layer.format ?? 'tar' }, keys, layer.digest),
    ),
    ...list.configDigests.map((digest) => async () => configFacts(digest, await client.getBlobBytes(target.repository, digest), keys)),
  ];
  let next = 0;
  await Promise.all(
    Array.from({ length: registryScanConcurrency(process.env) }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  detail = `${list.layers.length} layers, ${list.configDigests.length} configs`;
} else {
  const list = JSON.parse(await readFile(join(arg!, 'layers.json'), 'utf8')) as { layers: { file: string; size: number; digest: string; format?: 'raw' }[]; configs: string[] };
  await scanLayers(
    list.layers.map((layer) => ({
      location: { file: layer.file, offset: 0, size: layer.size },
      job: { label: layer.digest, format: layer.format ?? 'tar', check: { kind: 'blob', digest: layer.digest }, expectedSize: layer.size, keys },
    })),
  );
  for (const file of list.configs) configFacts('sha256:x', await readFile(file), keys);
  detail = `${list.layers.length} layers, ${list.configs.length} configs`;
}
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ seconds, maxRssKiB: process.resourceUsage().maxRSS, detail }));
