// The Spack kit (real Spack v1.1.0, see ../shared/spack-kit/README.md) for the tests of Spack's own test
// keys: found at $EIC_BUILD_SPACK_KIT or ../shared/spack-kit beside the repository. Without it the tests
// are reported as skipped with the reason (never as passed); in CI (CI=true) a missing kit fails them.
import test, { type ExecutionContext } from 'ava';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The kit directory, or why it is not there. */
export type SpackKitLocation = { kind: 'found'; dir: string } | { kind: 'missing'; reason: string };

const DEFAULT_KIT = fileURLToPath(new URL('../../../shared/spack-kit', import.meta.url));
/** The Spack release archive inside the kit; it unpacks to `spack/`. */
const SPACK_ARCHIVE = 'spack-v1.1.0.tar.gz';

/** Where the kit is: $EIC_BUILD_SPACK_KIT when set, else ../shared/spack-kit beside the repository. */
export function locateSpackKit(env: NodeJS.ProcessEnv = process.env): SpackKitLocation {
  const dir = env['EIC_BUILD_SPACK_KIT'] || DEFAULT_KIT;
  const from = env['EIC_BUILD_SPACK_KIT'] ? '$EIC_BUILD_SPACK_KIT' : '../shared/spack-kit beside the repository';
  if (!existsSync(join(dir, SPACK_ARCHIVE))) {
    return { kind: 'missing', reason: `no Spack kit at ${dir} (${from}; needs ${SPACK_ARCHIVE}): set EIC_BUILD_SPACK_KIT to the kit directory` };
  }
  return { kind: 'found', dir };
}

/**
 * Register a test that needs the kit: it runs when the kit is there, fails in CI when it is missing,
 * and is otherwise skipped with the reason in its title and on the console.
 */
export function spackKitTest(title: string, run: (t: ExecutionContext, kitDir: string) => Promise<void> | void): void {
  const kit = locateSpackKit();
  if (kit.kind === 'found') {
    test(title, (t) => run(t, kit.dir));
  } else if (process.env['CI'] === 'true') {
    test(title, (t) => t.fail(`CI=true but ${kit.reason}`));
  } else {
    console.log(`skipped "${title}": ${kit.reason}`);
    test.skip(`${title} (skipped: ${kit.reason})`, () => undefined);
  }
}

/** One file of the Spack tree, read at test time from the kit's release archive (never committed). */
export async function readSpackTreeFile(kitDir: string, path: string): Promise<Buffer> {
  const result = await execa('tar', ['-xzOf', join(kitDir, SPACK_ARCHIVE), `spack/${path}`], { encoding: 'buffer' });
  return Buffer.from(result.stdout);
}

/** Spack's test key file, as every Spack tree ships it. */
export const SPACK_TEST_KEY_PATH = 'var/spack/gpg.mock/keys/package-signing-key';
