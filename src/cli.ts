import { formatError, isEicBuildError, type ErrorCode } from './errors.js';
import { processIo, type CliIo } from './cli-io.js';

/** A subcommand: parses its own argv, returns the process exit code. */
export type Command = (argv: string[], io: CliIo) => Promise<number>;

interface CommandEntry {
  summary: string;
  load: () => Promise<Command>;
}

// Loaded lazily so that `eic-build scan` never pays for the build machinery and vice versa.
const COMMANDS: Record<string, CommandEntry> = {
  scan: { summary: 'prove that no private key material is in an image', load: async () => (await import('./commands/scan.js')).scanCommand },
  audit: { summary: 'find which tags of a registry repository ship private key material', load: async () => (await import('./commands/audit.js')).auditCommand },
  key: { summary: 'generate, inspect and export signing keys', load: async () => (await import('./commands/key.js')).keyCommand },
  render: { summary: 'render mirrors.yaml and the Dockerfile from templates', load: async () => (await import('./commands/render.js')).renderCommand },
  build: { summary: 'resolve key, render, build with BuildKit, scan, then push', load: async () => (await import('./commands/build.js')).buildCommand },
  doctor: { summary: 'show which Docker/BuildKit capabilities were found', load: async () => (await import('./commands/doctor.js')).doctorCommand },
  buildcache: { summary: 'verify and sign Spack buildcaches', load: async () => (await import('./commands/buildcache.js')).buildcacheCommand },
};

/** A bug in eic-build: BSD sysexits' EX_SOFTWARE, so scripts never read a bug as bad input (2). */
export const EXIT_INTERNAL_ERROR = 70;

/** Exit codes shared by every command: 0 ok, 1 leak, 2 usage/input, 3 build failed, 4 push failed, 70 a bug. */
export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'internal':
      return EXIT_INTERNAL_ERROR;
    case 'leak-found':
      return 1;
    case 'build-failed':
      return 3;
    case 'push-failed':
      return 4;
    default:
      return 2;
  }
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`);
  return `usage: eic-build <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'eic-build <command> --help' for the options of a command.\n`;
}

/** Entry point: runs one command and maps its outcome to an exit code. Never throws. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    (name ? io.out : io.err)(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    const { version } = await import('./version.js');
    io.out(`${version}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    io.err(`error: unknown command '${name}'\nhint: run 'eic-build --help' for the list of commands.\n`);
    return 2;
  }
  try {
    const command = await entry.load();
    return await command(rest, io);
  } catch (error) {
    io.err(`${formatError(error)}\n`);
    return isEicBuildError(error) ? exitCodeFor(error.code) : EXIT_INTERNAL_ERROR;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === new URL(process.argv[1], 'file://').href;
if (invokedDirectly) {
  process.exitCode = await main(process.argv.slice(2));
}
