/** Run at most `limit` of the given tasks at a time (a tiny p-limit). */
export type Limiter = <T>(task: () => Promise<T>) => Promise<T>;

/** Make a limiter that lets `limit` tasks run together and queues the rest in order. */
export function createLimiter(limit: number): Limiter {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  let active = 0;
  const queue: (() => void)[] = [];
  const next = () => {
    active -= 1;
    queue.shift()?.();
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      const run = () => {
        active += 1;
        task().then(resolve, reject).finally(next);
      };
      if (active < limit) run();
      else queue.push(run);
    });
}

/**
 * Map over items with bounded concurrency, keeping order. After the first failure no new item starts, and
 * the promise rejects (with that first error) only once every running task has settled: a caller that
 * cleans up on error must not race tasks still writing.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let index = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && index < items.length) {
      const i = index++;
      try {
        results[i] = await fn(items[i]!, i);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
