// Key layer timings: resolving the production key from SPACK_SIGNING_KEY (RSA-4096, armored and
// base64) with its fingerprints/keygrips, an ephemeral ed25519 key, and one RSA-4096 generation.
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { generateKey } from '../src/keys/generate-key.js';
import { resolveSigningKey } from '../src/keys/resolve-signing-key.js';
import { deriveKeyIdentity } from '../src/pgp/key-identity.js';

const TARGET_MS = 100;

async function time<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const start = performance.now();
  const value = await fn();
  return [performance.now() - start, value];
}

function stats(samples: number[]): { median: number; min: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? NaN, min: sorted[0] ?? NaN, max: sorted.at(-1) ?? NaN };
}

function line(label: string, samples: number[], target?: number): string {
  const s = stats(samples);
  const verdict = target === undefined ? '' : `  target < ${target} ms: ${s.median < target ? 'met' : 'MISSED'} (median/target ${(s.median / target).toFixed(2)})`;
  return `${label}: median ${s.median.toFixed(1)} ms, first (cold) ${(samples[0] ?? NaN).toFixed(1)}, min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)} over ${samples.length} runs${verdict}`;
}

export default async function bench(log: (line: string) => void): Promise<void> {
  const [rsaMs, rsa] = await time(() => generateKey({ algorithm: 'rsa4096', name: 'Bench RSA-4096' }));
  // Two RSA-4096 keys (primary + encryption subkey, like gpg's default); varies a lot with load.
  log(`rsa4096 generation (OpenPGP.js, once; load average ${loadavg()[0]?.toFixed(1)}): ${rsaMs.toFixed(0)} ms`);

  const runs = 15;
  for (const [form, value] of [
    ['armored', rsa.armoredSecretKey],
    ['base64', Buffer.from(rsa.armoredSecretKey).toString('base64')],
  ] as const) {
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const [ms, key] = await time(() => resolveSigningKey({ env: { SPACK_SIGNING_KEY: value } }));
      if (key.fingerprint !== rsa.fingerprint) throw new Error('resolved the wrong key');
      samples.push(ms);
    }
    log(line(`resolve RSA-4096 from SPACK_SIGNING_KEY (${form}) incl. checks + fingerprints/keygrips`, samples, TARGET_MS));
  }

  const identitySamples: number[] = [];
  for (let i = 0; i < runs; i++) identitySamples.push((await time(async () => deriveKeyIdentity(rsa.armoredSecretKey)))[0]);
  log(line('  of which deriveKeyIdentity (fingerprints + keygrips) alone', identitySamples));

  const ephemeralSamples: number[] = [];
  for (let i = 0; i < runs; i++) ephemeralSamples.push((await time(() => resolveSigningKey({ ephemeral: true, env: {} })))[0]);
  log(line('ephemeral ed25519 key (generate + identity)', ephemeralSamples, TARGET_MS));
}
