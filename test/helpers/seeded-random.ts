/**
 * A seeded pseudo-random generator for fuzz loops, so that a failure can be replayed exactly.
 * The seed comes from EIC_BUILD_FUZZ_SEED when set (replay), else it is drawn once and printed by
 * `fuzzLoop` on failure. `EIC_BUILD_FUZZ_ROUNDS` scales every loop (CI runs the defaults; the bench
 * runs at least 100,000 inputs per parser).
 */

/** mulberry32: small, fast, good enough to make test inputs; never for keys. */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const int = (below: number): number => Math.floor(next() * below);
  const bytes = (length: number): Buffer => {
    const out = Buffer.allocUnsafe(length);
    for (let i = 0; i < length; i++) out[i] = int(256);
    return out;
  };
  /** A copy of `base` cut at a random length with up to `flips` random bytes replaced. */
  const mutate = (base: Uint8Array, flips = 3): Buffer => {
    const out = Buffer.from(base.subarray(0, int(base.length + 1)));
    for (let k = 0; k < flips && out.length > 0; k++) out[int(out.length)] = int(256);
    return out;
  };
  return { seed: seed >>> 0, next, int, bytes, mutate };
}

export interface Random {
  readonly seed: number;
  /** uniform in [0, 1) */
  next(): number;
  /** uniform integer in [0, below) */
  int(below: number): number;
  bytes(length: number): Buffer;
  mutate(base: Uint8Array, flips?: number): Buffer;
}

/** The seed for this run: EIC_BUILD_FUZZ_SEED to replay, else a fresh one. */
export function fuzzSeed(): number {
  const fixed = process.env['EIC_BUILD_FUZZ_SEED'];
  if (fixed !== undefined && fixed !== '') {
    const seed = Number(fixed);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`EIC_BUILD_FUZZ_SEED=${fixed} is not an integer 0..4294967295`);
    return seed;
  }
  return (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** Rounds for a fuzz loop: `defaultRounds` scaled by EIC_BUILD_FUZZ_ROUNDS (an absolute count) when set. */
export function fuzzRounds(defaultRounds: number): number {
  const fixed = process.env['EIC_BUILD_FUZZ_ROUNDS'];
  if (fixed === undefined || fixed === '') return defaultRounds;
  const rounds = Number(fixed);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`EIC_BUILD_FUZZ_ROUNDS=${fixed} is not a positive integer`);
  return rounds;
}

/**
 * Runs `body` for `rounds` inputs from one seeded generator. On the first failure it rethrows with the
 * seed and round in the message, so `EIC_BUILD_FUZZ_SEED=<seed>` replays it.
 */
export async function fuzzLoop(
  name: string,
  rounds: number,
  body: (random: Random, round: number) => void | Promise<void>,
  seed = fuzzSeed(),
): Promise<{ seed: number; rounds: number }> {
  const random = createRandom(seed);
  for (let round = 0; round < rounds; round++) {
    try {
      await body(random, round);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`fuzz ${name}: round ${round} failed (replay with EIC_BUILD_FUZZ_SEED=${seed}): ${reason}`, { cause: error });
    }
  }
  return { seed, rounds };
}
