import { execa, type ResultPromise } from 'execa';
import { redact } from '../redact.js';
import { createLineRedactor } from './line-redactor.js';

/** How a client run's output is shown. */
export type StreamMode =
  /** Each line passes through the redactor to `err`. */
  | 'stream'
  /** BuildKit draws its own terminal UI on our stderr (local, interactive). */
  | 'terminal'
  /** Kept only for error messages. */
  | 'silent';

/** Result of one client run; `log` is the redacted tail of its output. */
export interface ClientRun {
  exitCode: number;
  log: string;
  stdout: string;
}

const TAIL_BYTES = 64 * 1024;

// Children still running, so that an interrupted eic-build can stop its build too.
const live = new Set<ResultPromise>();

/** Send `signal` to every docker client eic-build started that is still running. */
export function killLiveClients(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const child of live) child.kill(signal);
}

/** Runs one client process: runClient here, a recorder in tests of the pipeline's decisions. */
export type ProcessRunner = typeof runClient;

/**
 * Run a docker client command. Secrets come in through `env` only (the child's environment), never
 * argv. Everything shown or kept has passed the redactor. Rejects only when the client cannot be started.
 */
export async function runClient(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; baseEnv?: NodeJS.ProcessEnv; mode: StreamMode; err?: (text: string) => void; cwd?: string },
): Promise<ClientRun> {
  let tail = '';
  let stdout = '';
  // Redact whole lines: a secret split across two chunks would slip past a per-chunk redactor.
  const lines = (keepStdout: boolean) => {
    const redactLine = createLineRedactor();
    return {
      // A transform that yields nothing: the lines are kept (tail, stdout) and shown through err only.
      // eslint-disable-next-line require-yield
      *transform(line: unknown) {
        const text = String(line);
        const shown = redactLine(text);
        // The redacted line, not the raw one: a tail cut after a BEGIN line must not show the body.
        if (keepStdout) stdout = (stdout + shown).slice(-TAIL_BYTES * 4);
        tail = (tail + shown).slice(-TAIL_BYTES);
        if (options.mode === 'stream') options.err?.(shown.endsWith('\n') ? shown : `${shown}\n`);
      },
      preserveNewlines: true,
    };
  };
  const child = execa(command, args, {
    env: { ...(options.baseEnv ?? process.env), ...options.env },
    extendEnv: false,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    stdin: 'ignore',
    stdout: lines(true),
    // terminal: BuildKit draws its own UI on our stderr.
    stderr: options.mode === 'terminal' ? 'inherit' : lines(false),
    reject: false,
    // Not execa's own exit hook (signal-exit): exit-cleanup stops live clients, and a second signal
    // listener would keep it from re-raising the signal.
    cleanup: false,
  });
  live.add(child);
  const result = await child.finally(() => live.delete(child));
  if (result.exitCode === undefined && !result.isTerminated) throw result.cause ?? result;
  return { exitCode: result.exitCode ?? (result.isTerminated ? 128 : 1), log: tail, stdout: redact(stdout) };
}

/** A known failure in a client log, with what a person can do about it. */
export interface FailureHint {
  id: string;
  pattern: RegExp;
  hint: string;
}

/** Known daemon/BuildKit errors mapped to hints (as buildx does for its own errors). */
export const FAILURE_HINTS: readonly FailureHint[] = [
  {
    id: 'no-daemon',
    pattern: /Cannot connect to the Docker daemon|Is the docker daemon running/i,
    hint: "start the Docker engine (or set DOCKER_HOST), then run 'eic-build doctor'.",
  },
  {
    id: 'buildx-missing',
    pattern: /BuildKit is enabled but the buildx component is missing/i,
    hint: "this client needs the buildx plugin; eic-build picks another client automatically unless --docker/EIC_BUILD_DOCKER forces one: run 'eic-build doctor'.",
  },
  {
    id: 'image-missing',
    pattern: /pull access denied|repository does not exist|failed to resolve source metadata|not found: manifest unknown|failed to do request: Head/i,
    hint: "a base image is neither in the engine nor pullable: declare it under build.baseImages in eic-build.yaml so eic-build makes it, or load it with 'docker load'.",
  },
  {
    id: 'secret-missing',
    pattern: /secret [^\s]+ not found|required secret/i,
    hint: 'a RUN --mount=type=secret,required=true step asked for a secret id that was not given: pass it with --secret id=ID,env=VAR or id=ID,src=FILE.',
  },
  { id: 'dockerfile-parse', pattern: /dockerfile parse error|failed to parse dockerfile|unknown instruction/i, hint: 'fix the Dockerfile at the line named above.' },
  { id: 'no-space', pattern: /no space left on device/i, hint: "free disk space ('docker builder prune', 'docker image prune')." },
  {
    id: 'unknown-flag',
    pattern: /unknown flag: --(\S+)/i,
    hint: "this docker client is too old for a flag eic-build passed; run 'eic-build doctor' and upgrade the client or install buildx.",
  },
  {
    id: 'push-denied',
    pattern: /denied: requested access|unauthorized: authentication required|insufficient_scope/i,
    hint: "log in to the registry first ('docker login REGISTRY'), with a token that may push to that repository.",
  },
  {
    id: 'frontend-capability',
    pattern: /unsupported frontend capability (\S+)/i,
    hint: "the builder's BuildKit is too old for a Dockerfile feature this build uses (e.g. named contexts need BuildKit 0.10): run 'eic-build doctor', and use a newer builder ('docker buildx create --use --driver docker-container') or Docker Engine 23+.",
  },
  {
    id: 'http-registry',
    pattern: /server gave HTTP response to HTTPS client/i,
    hint: "the registry speaks plain HTTP: add it to the engine's insecure-registries (loopback addresses are allowed by default).",
  },
];

/** Pure: the hints that apply to a failed run's log. */
export function hintsForLog(log: string): FailureHint[] {
  return FAILURE_HINTS.filter((h) => h.pattern.test(log));
}

/** The last lines of a log, for an error message. */
export function lastLines(log: string, count = 12): string {
  return log.trimEnd().split('\n').slice(-count).join('\n');
}
