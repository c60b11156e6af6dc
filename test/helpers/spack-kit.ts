import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from './cli.js';
import { requireIntegration } from './unit-only.js';

// The spack-kit (real Spack v1.1.0, clingo, a small package repo; see its README) found at
// $EIC_BUILD_SPACK_KIT or ../shared/spack-kit beside the repository. Tests that drive real Spack
// use it; without it they are SKIPPED with the reason (never passed), and in CI they fail loudly.

/** The kit, or why it is not there. */
export type SpackKitLookup = { found: true; dir: string } | { found: false; reason: string };

/** Pure apart from existsSync: where the kit is, from the environment and the repository's location. */
export function findSpackKit(env: NodeJS.ProcessEnv = process.env, root: string = repoRoot): SpackKitLookup {
  const configured = env.EIC_BUILD_SPACK_KIT;
  const dir = configured ? resolve(configured) : resolve(root, '..', 'shared', 'spack-kit');
  const script = join(dir, 'make-base-image.sh');
  if (existsSync(script)) return { found: true, dir };
  return {
    found: false,
    reason: configured ? `EIC_BUILD_SPACK_KIT=${configured} has no make-base-image.sh` : `no spack-kit at ${dir} (set EIC_BUILD_SPACK_KIT to the kit's directory)`,
  };
}

/**
 * The `test` to register real-Spack tests with, chosen at load time: `test.serial` when the kit is
 * there; `test.skip` (and one console line naming the reason) when it is not; a thrown error when
 * CI=true, so a CI run without the kit fails instead of passing by skipping.
 */
export function spackKitTest<T extends { serial: unknown; skip: unknown }>(test: T, lookup: SpackKitLookup = findSpackKit()): T['serial'] | T['skip'] {
  if (lookup.found) return test.serial;
  if (process.env.CI === 'true') throw new Error(`real-Spack tests cannot run: ${lookup.reason}. CI must provide the spack-kit (.ci/run checks for it).`);
  console.log(`real-Spack tests SKIPPED: ${lookup.reason}`);
  return test.skip;
}

/** Make (or reuse: the script is idempotent, about 20 s once the OS image exists) the kit image; returns its name. */
export async function ensureSpackKitImage(dir: string): Promise<string> {
  requireIntegration('Spack (the spack-kit image)');
  const made = await execa('bash', [join(dir, 'make-base-image.sh')], { env: { DOCKER: '/usr/bin/docker' }, reject: false, all: true });
  if (made.exitCode !== 0) throw new Error(`${join(dir, 'make-base-image.sh')} failed (exit ${made.exitCode}):\n${String(made.all).slice(-4000)}`);
  const image = made.stdout.trim().split('\n').pop() ?? '';
  if (!image) throw new Error(`${join(dir, 'make-base-image.sh')} printed no image name`);
  return image;
}
