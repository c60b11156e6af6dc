import type { Writable } from 'node:stream';

// One reaction per consumer promise, however often a writer waits on it: a `done.then(...)` per
// wait would pile up closures (one per full buffer of a long daemon stream) until the scan ends.
const waiters = new WeakMap<Promise<unknown>, Set<() => void>>();

function onSettled(done: Promise<unknown>, callback: () => void): () => void {
  let set = waiters.get(done);
  if (!set) {
    const fresh = new Set<() => void>();
    waiters.set(done, fresh);
    const fire = () => {
      // Later waiters register anew and fire on the next tick (the promise is settled).
      waiters.delete(done);
      for (const waiting of [...fresh]) waiting();
      fresh.clear();
    };
    done.then(fire, fire);
    set = fresh;
  }
  const mine = set;
  mine.add(callback);
  return () => mine.delete(callback);
}

/**
 * Resolve when `stream` wants more data, closes, or its consumer (`done`) settles, whichever is
 * first; every listener is removed again so that long streams do not pile them up
 * (MaxListenersExceededWarning).
 */
export function waitForDrain(stream: Writable, done: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    let forget: () => void = () => undefined;
    const finish = () => {
      stream.off('drain', finish);
      stream.off('close', finish);
      forget();
      resolve();
    };
    stream.on('drain', finish);
    stream.on('close', finish);
    forget = onSettled(done, finish);
  });
}
