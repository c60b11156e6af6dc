// waitForDrain must leave no listener behind, however many times a long stream fills up.
import test from 'ava';
import { PassThrough } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { waitForDrain } from '../../src/scan/drain.js';

test('thousands of waits on one stream leave no drain/close listener and raise no MaxListeners warning', async (t) => {
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));

  const pass = new PassThrough({ highWaterMark: 16 });
  let consumed = 0;
  const done = (async () => {
    for await (const chunk of pass as AsyncIterable<Buffer>) {
      consumed += chunk.length;
      await tick();
    }
  })();
  // The consumer's async iterator has listeners of its own: only ours must not accumulate.
  const baseClose = pass.listenerCount('close');
  let waits = 0;
  for (let i = 0; i < 3000; i++) {
    if (!pass.write(Buffer.alloc(64, i))) {
      waits++;
      await waitForDrain(pass, done);
      t.is(pass.listenerCount('drain'), 0);
      t.is(pass.listenerCount('close'), baseClose);
    }
  }
  pass.end();
  await done;
  await tick();
  t.true(waits > 1000, `waits: ${waits}`);
  t.is(consumed, 3000 * 64);
  t.deepEqual(
    warnings.map((w) => w.name),
    [],
  );
});

test('a wait ends when the consumer stops (settles or closes the stream), and its listeners go too', async (t) => {
  const pass = new PassThrough({ highWaterMark: 4 });
  pass.write(Buffer.alloc(64));
  let fail: (error: Error) => void = () => undefined;
  const done = new Promise<void>((_resolve, reject) => (fail = reject));
  done.catch(() => undefined);
  const waits = Array.from({ length: 5 }, () => waitForDrain(pass, done));
  t.is(pass.listenerCount('drain'), 5);
  fail(new Error('consumer failed'));
  await Promise.all(waits);
  t.is(pass.listenerCount('drain'), 0);
  t.is(pass.listenerCount('close'), 0);
  // After the consumer settled, a further wait still resolves (no drain will come).
  await waitForDrain(pass, done);
  t.is(pass.listenerCount('drain'), 0);

  const other = new PassThrough({ highWaterMark: 4 });
  other.write(Buffer.alloc(64));
  const waiting = waitForDrain(other, new Promise(() => undefined));
  other.destroy();
  await waiting;
  t.is(other.listenerCount('close'), 0);
});
