// Verify 1,000 signed OCI buildcache entries on a loopback registry (Debian docker-registry):
// entries per second with bounded parallel requests over kept-alive connections. Target ≥ 200/s.
import * as openpgp from 'openpgp';
import os from 'node:os';
import { RegistryClient, MediaTypes } from '../src/registry/client.js';
import { mapLimit } from '../src/registry/pool.js';
import { signOciMirror } from '../src/buildcache/sign/sign-oci.js';
import { loadSigningKey } from '../src/buildcache/sign/signing-key.js';
import { verifyOciMirror } from '../src/buildcache/verify/verify-oci.js';
import { describeKey } from '../src/buildcache/trust.js';
import { startRegistry } from '../test/helpers/registry.js';
import { ociManifest } from '../test/buildcache/fixtures.js';

const ENTRIES = Number(process.env.EIC_BUILD_BENCH_ENTRIES ?? 1000);

export default async function bench(log: (line: string) => void): Promise<void> {
  log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.cpus().length} CPUs (figures scale with the idle CPU left)`,
  );
  const registry = await startRegistry();
  try {
    const client = new RegistryClient({ registry: registry.host, concurrency: 32 });
    const repo = 'bench/cache';
    // A throwaway key made in memory for this run only; RSA like the keys Spack and gpg make by default.
    const armored = await openpgp.generateKey({ type: 'rsa', rsaBits: 3072, userIDs: [{ name: 'bench' }], format: 'armored' });
    const signingKey = await loadSigningKey({ env: { SPACK_SIGNING_KEY: armored.privateKey } });
    const privateKey = signingKey.key;

    let started = Date.now();
    const layer = Buffer.from('tiny tarball stand-in');
    const layerDigest = await client.putBlob(repo, layer);
    await mapLimit(
      Array.from({ length: ENTRIES }, (_, i) => i),
      32,
      async (i) => {
        const hash = i.toString(32).padStart(32, 'a');
        const config = Buffer.from(JSON.stringify({ spec: { _meta: { version: 5 }, nodes: [{ name: `pkg${i}`, version: '1.0', hash }] } }));
        const configDigest = await client.putBlob(repo, config);
        const manifest = ociManifest({ digest: configDigest, size: config.length }, [{ digest: layerDigest, size: layer.length }]);
        await client.putManifest(repo, `pkg${i}-1.0-${hash}.spack`, manifest, MediaTypes.ociManifest);
      },
    );
    log(`push ${ENTRIES} entries: ${((Date.now() - started) / 1000).toFixed(1)} s`);

    started = Date.now();
    const signed = await signOciMirror(client, { repository: repo, signingKey, concurrency: 32 });
    const signSeconds = (Date.now() - started) / 1000;
    log(`sign ${signed.filter((o) => o.kind === 'signed').length} entries: ${signSeconds.toFixed(1)} s (${(ENTRIES / signSeconds).toFixed(0)} entries/s)`);

    const trusted = [describeKey(privateKey.toPublic(), 'bench')];
    for (const concurrency of [1, 8, 32]) {
      const verifier = new RegistryClient({ registry: registry.host, concurrency: Math.max(4, concurrency) });
      started = Date.now();
      const cpu = process.cpuUsage();
      const report = await verifyOciMirror(verifier, { mirror: `oci+http://${registry.host}/${repo}`, repository: repo, trusted, concurrency });
      const seconds = (Date.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const cpuMs = (used.user + used.system) / 1000 / report.entries.length;
      const ok = report.entries.filter((e) => e.kind === 'verified').length;
      log(
        `verify ${report.entries.length} entries (${ok} verified), ${concurrency} at a time: ${seconds.toFixed(2)} s = ${(report.entries.length / seconds).toFixed(0)} entries/s (target >= 200/s); client CPU ${cpuMs.toFixed(2)} ms/entry`,
      );
    }
  } finally {
    await registry.stop();
  }
}
