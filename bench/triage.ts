// Provenance triage cost: the "Must show" image of issue 10 (Debian 12 with ~100 developer packages
// and their dependencies, plus a Spack tree; test/helpers/physics-dev-image.ts, made once per machine
// by debootstrap) saved once to $TMPDIR/eic-build-bench-triage, then scanned with triage on and off,
// alternating, each in its own process. Budget: triage adds at most 5% to the scan time.
import { mkdir, rename, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { ensurePhysicsDevImage } from '../test/helpers/physics-dev-image.js';

const ROOT = join(tmpdir(), 'eic-build-bench-triage');
const child = fileURLToPath(new URL('./_triage-child.ts', import.meta.url));
const ROUNDS = Number(process.env.EIC_BUILD_BENCH_TRIAGE_ROUNDS ?? 3);

interface Run {
  seconds: number;
  cpuSeconds: number;
  maxRssKiB: number;
  code: string;
  findings: number;
  published: number;
  bytes: number;
}

async function savedImage(): Promise<string> {
  const image = await ensurePhysicsDevImage();
  const path = join(ROOT, `${image.replace(/[^\w.-]/g, '_')}.tar`);
  if (await stat(path).catch(() => null)) return path;
  await mkdir(ROOT, { recursive: true });
  await execa('/usr/bin/docker', ['save', '-o', `${path}.part`, image]);
  await rename(`${path}.part`, path);
  return path;
}

async function run(mode: 'on' | 'off', target: string): Promise<Run> {
  const { stdout } = await execa(process.execPath, ['--import', 'tsx', child, mode, target]);
  return JSON.parse(stdout.trim().split('\n').pop()!) as Run;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

export default async function triage(log: (line: string) => void): Promise<void> {
  const target = await savedImage();
  const size = (await stat(target)).size;
  log(`image: ${target} (${(size / 1024 ** 3).toFixed(2)} GiB saved), ${ROUNDS} round(s) each, alternating`);
  const runs: Record<'on' | 'off', Run[]> = { on: [], off: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const mode of i % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const result = await run(mode, target);
      runs[mode].push(result);
      log(
        `  ${mode.padEnd(3)} wall ${result.seconds.toFixed(1)} s, CPU ${result.cpuSeconds.toFixed(1)} s, peak RSS ${(result.maxRssKiB / 1024).toFixed(0)} MiB, findings ${result.findings}, published-key notes ${result.published} (${result.code})`,
      );
    }
  }
  const on = { wall: median(runs.on.map((r) => r.seconds)), cpu: median(runs.on.map((r) => r.cpuSeconds)) };
  const off = { wall: median(runs.off.map((r) => r.seconds)), cpu: median(runs.off.map((r) => r.cpuSeconds)) };
  const cpuOverhead = (on.cpu / off.cpu - 1) * 100;
  const wallOverhead = (on.wall / off.wall - 1) * 100;
  log(`triage off: median wall ${off.wall.toFixed(1)} s, CPU ${off.cpu.toFixed(1)} s (${(runs.off[0]!.bytes / 1024 ** 3).toFixed(2)} GiB scanned)`);
  log(`triage on:  median wall ${on.wall.toFixed(1)} s, CPU ${on.cpu.toFixed(1)} s`);
  log(
    `triage overhead: CPU ${cpuOverhead.toFixed(1)}%, wall ${wallOverhead.toFixed(1)}% (budget 5%; CPU is the robust figure on a shared machine) ${cpuOverhead <= 5 ? 'OK' : 'OVER BUDGET'}`,
  );
}
