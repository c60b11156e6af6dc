// Fuzz every parser with at least 100,000 seeded inputs (EIC_BUILD_FUZZ_ROUNDS to change; the seed
// is printed so a failure replays with EIC_BUILD_FUZZ_SEED).
import { fuzzLoop, fuzzRounds, fuzzSeed } from '../test/helpers/seeded-random.js';
import { feedFuzzInput, loadFuzzTargets } from '../test/fuzz/load-targets.js';

export default async function fuzz(log: (line: string) => void): Promise<void> {
  const rounds = fuzzRounds(100_000);
  const seed = fuzzSeed();
  log(`seed ${seed}, ${rounds} inputs per parser`);
  let failures = 0;
  for (const target of await loadFuzzTargets()) {
    const specimens = await target.setup?.();
    const started = performance.now();
    try {
      await fuzzLoop(
        target.name,
        rounds,
        async (random) => {
          const input = await target.makeInput(random, specimens);
          const failure = await feedFuzzInput(target, input);
          if (failure !== null) throw new Error(failure);
        },
        seed,
      );
      const seconds = (performance.now() - started) / 1000;
      log(`${target.name}: ${rounds} inputs, ${(rounds / seconds).toFixed(0)}/s, no crash`);
    } catch (error) {
      failures++;
      log(`${target.name}: FAILED ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (failures > 0) throw new Error(`${failures} fuzz target(s) failed; replay with EIC_BUILD_FUZZ_SEED=${seed}`);
}
