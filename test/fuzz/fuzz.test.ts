import test from 'ava';
import { fuzzLoop, fuzzRounds } from '../helpers/seeded-random.js';
import { feedFuzzInput, loadFuzzTargets } from './load-targets.js';

const targets = await loadFuzzTargets();

for (const target of targets) {
  test(`${target.tools?.length ? '[integration] ' : ''}fuzz ${target.name}: seeded inputs end in a result or a named refusal, never a crash`, async (t) => {
    const specimens = await target.setup?.();
    const { seed, rounds } = await fuzzLoop(target.name, fuzzRounds(target.ciRounds), async (random) => {
      const input = await target.makeInput(random, specimens);
      const failure = await feedFuzzInput(target, input);
      if (failure !== null) throw new Error(`${failure} (input ${input.length} bytes, base64 ${input.subarray(0, 256).toString('base64')})`);
    });
    t.log(`seed ${seed}, ${rounds} inputs`);
    t.pass();
  });
}

test('fuzz targets are registered', (t) => {
  t.true(targets.length > 0);
});
