import type { Writable } from 'node:stream';

/**
 * Resolve when `stream` wants more data, closes, or its consumer (`done`) settles, whichever is
 * first; listeners are removed again so that long streams do not pile them up.
 */
export function waitForDrain(stream: Writable, done: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const finish = () => {
      stream.off('drain', finish);
      stream.off('close', finish);
      resolve();
    };
    stream.on('drain', finish);
    stream.on('close', finish);
    done.then(finish, finish);
  });
}
