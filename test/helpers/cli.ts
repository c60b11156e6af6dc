import { execa, type Options } from 'execa';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliSource = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));

/** Run the CLI from source (through tsx) as a real child process, the way users run it. */
export async function runCli(args: string[], options: Options = {}) {
  return execa(process.execPath, ['--import', 'tsx', cliSource, ...args], {
    cwd: repoRoot,
    reject: false,
    all: false,
    ...options,
  });
}

export { repoRoot };
