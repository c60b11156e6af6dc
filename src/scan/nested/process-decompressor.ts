// A decompressor that is a child process (xz, bzip2): Node has neither, and the system tools are
// the reference decoders, stream in constant memory and stop when killed. Bytes go in on stdin,
// come out on stdout, with backpressure both ways; a failure names the tool and its own words.
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

/** The tool and the package that provides it (for the hint when it is missing). */
export interface DecompressorCommand {
  command: string;
  args: string[];
  packageName: string;
}

const STDERR_TAIL = 2048;

/** The tool is not on PATH: the fix is installing its package, not re-exporting the input. */
export class DecompressorMissing extends Error {
  constructor(
    readonly command: string,
    readonly packageName: string,
  ) {
    super(`${command} is not installed (install ${packageName} to unpack these files)`);
  }
}

/** Spawn `command` and wrap it as a Duplex: write compressed bytes, read decompressed ones. */
export function createProcessDecompressor({ command, args, packageName }: DecompressorCommand): Duplex {
  const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let failed = false;
  const duplex = new Duplex({
    readableHighWaterMark: 1 << 20,
    write(chunk: Buffer, _encoding, callback) {
      if (failed || !child.stdin.writable) return callback();
      // Errors (EPIPE after the tool gave up) are reported by its exit status instead.
      child.stdin.write(chunk, () => callback());
    },
    final(callback) {
      if (child.stdin.writable) child.stdin.end();
      callback();
    },
    read() {
      child.stdout.resume();
    },
    destroy(error, callback) {
      failed = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      callback(error);
    },
  });
  child.stdin.on('error', () => undefined);
  child.stdout.on('data', (data: Buffer) => {
    if (!duplex.push(data)) child.stdout.pause();
  });
  child.stderr.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString('utf8')).slice(-STDERR_TAIL);
  });
  child.on('error', (error: NodeJS.ErrnoException) => {
    failed = true;
    duplex.destroy(error.code === 'ENOENT' ? new DecompressorMissing(command, packageName) : new Error(`${command} could not run (${error.message})`));
  });
  child.on('close', (code, signal) => {
    if (duplex.destroyed) return;
    if (code === 0) duplex.push(null);
    else duplex.destroy(new Error(`${command} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').pop() ?? ''}`));
  });
  return duplex;
}
