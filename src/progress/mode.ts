import { EicBuildError } from '../errors.js';

/** `--progress` as asked: auto picks tty on a terminal (outside CI) and plain otherwise. */
export type ProgressRequest = 'auto' | 'tty' | 'plain' | 'quiet';

/** How progress is shown: a live bar, periodic log lines, or nothing. */
export type ProgressMode = 'tty' | 'plain' | 'quiet';

/** Parse a `--progress` value (`flag` names the option in the error). */
export function parseProgressRequest(value: string, flag = '--progress'): ProgressRequest {
  if (value === 'auto' || value === 'tty' || value === 'plain' || value === 'quiet') return value;
  throw new EicBuildError('usage', `${flag} '${value}' is not a progress mode`, { hint: 'use auto, tty, plain or quiet.' });
}

/** Pure: the mode for a request, given whether stderr is a terminal and the environment (CI set: plain). */
export function resolveProgressMode(request: ProgressRequest | 'json', isTty: boolean, env: NodeJS.ProcessEnv): ProgressMode {
  if (request === 'tty' || request === 'plain' || request === 'quiet') return request;
  // json: stdout carries the summary; progress still goes to stderr, as lines.
  if (request === 'json') return 'plain';
  return isTty && !env.CI ? 'tty' : 'plain';
}
