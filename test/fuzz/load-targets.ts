// Loads every fuzz target in test/fuzz/targets/ (shared by the CI test and the bench).
import { readdir } from 'node:fs/promises';
import type { FuzzTarget } from './fuzz-target.js';

export async function loadFuzzTargets(): Promise<FuzzTarget[]> {
  const dir = new URL('./targets/', import.meta.url);
  const files = (await readdir(dir)).filter((name) => name.endsWith('.ts')).sort();
  const targets: FuzzTarget[] = [];
  for (const file of files) {
    const module = (await import(new URL(file, dir).href)) as { default: FuzzTarget | FuzzTarget[] };
    targets.push(...(Array.isArray(module.default) ? module.default : [module.default]));
  }
  return targets;
}

/** Feeds one input; returns a failure message, or null when the target behaved. */
export async function feedFuzzInput(target: FuzzTarget, input: Buffer): Promise<string | null> {
  try {
    await target.run(input);
    return null;
  } catch (error) {
    if (target.isExpected?.(error)) return null;
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}
