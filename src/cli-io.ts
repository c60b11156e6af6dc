import { redact } from './redact.js';

/** Where a command writes. Every byte passes through the redactor first. */
export interface CliIo {
  /** Data output (reports, JSON): what a script pipes on. */
  out(text: string): void;
  /** Messages for people: progress, warnings, errors. */
  err(text: string): void;
  /** Environment the command reads (tests pass their own). */
  env: NodeJS.ProcessEnv;
  /** True when stderr is a terminal (local use), false in CI or pipes. */
  isTty: boolean;
}

/** The real terminal. */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(redact(text)),
    err: (text) => process.stderr.write(redact(text)),
    env: process.env,
    isTty: Boolean(process.stderr.isTTY),
  };
}

/** An in-memory io for tests: collects what a command printed. */
export function memoryIo(env: NodeJS.ProcessEnv = {}): CliIo & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    env,
    isTty: false,
    out(text: string) {
      io.stdout += redact(text);
    },
    err(text: string) {
      io.stderr += redact(text);
    },
  };
  return io;
}
