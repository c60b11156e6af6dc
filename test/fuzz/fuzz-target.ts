/**
 * One fuzz target per parser: how to make an input from a seeded generator, and how to feed it.
 * `test/fuzz/fuzz.test.ts` runs every file in `test/fuzz/targets/` for `ciRounds` inputs (CI);
 * `npm run bench -- fuzz` runs each for at least 100,000. A target file's default export is a
 * `FuzzTarget` or an array of them. Adding a parser's fuzzing = adding one file there.
 */
import type { Random } from '../helpers/seeded-random.js';

export interface FuzzTarget {
  /** stable name, e.g. 'scan/nested/xz' */
  readonly name: string;
  /**
   * programs from outside Node that setup() runs (ssh-keygen, zstd …): the target's test is then
   * `[integration]` (`npm run test:unit` fails a target that runs one without naming it here)
   */
  readonly tools?: readonly string[];
  /** inputs per CI run (a few thousand for cheap parsers) */
  readonly ciRounds: number;
  /** built once per run: valid specimens to mutate (keys made at run time, real tools' output) */
  setup?(): Promise<unknown>;
  /** one input: garbage, or a specimen from setup() cut and flipped */
  makeInput(random: Random, specimens: unknown): Buffer | Promise<Buffer>;
  /**
   * Feeds one input. It must return (any result) or throw an error `isExpected` accepts
   * (a typed, named refusal); anything else — TypeError, RangeError, a hang — is a bug.
   */
  run(input: Buffer): unknown;
  isExpected?(error: unknown): boolean;
}
