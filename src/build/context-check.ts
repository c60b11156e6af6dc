import { open, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { EicBuildError } from '../errors.js';

/** Limits of the build-context check (the scanner is the real gate; this is the early, cheap one). */
export interface ContextCheckLimits {
  maxFiles: number;
  maxBytesPerFile: number;
}

const DEFAULT_LIMITS: ContextCheckLimits = { maxFiles: 50_000, maxBytesPerFile: 4 * 1024 * 1024 };
const SKIP_DIRS = new Set(['.git', 'node_modules']);

/**
 * Pure: needles that identify this signing key's secret text: long body lines from the middle of
 * its armor (any copy of the armored key carries them). Not the generic armor header: source trees
 * (eic-build's own) legitimately contain that string.
 */
export function secretNeedles(armoredSecretKey: string): string[] {
  const body = armoredSecretKey
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 40 && !l.startsWith('-----') && !l.includes(':'));
  // A few lines from the middle: the first lines of the body are public-key packets shared with the public armor.
  const middle = body.slice(Math.floor(body.length / 2), Math.floor(body.length / 2) + 2);
  return middle;
}

/**
 * Refuse a build context that holds this signing key's armored text: BuildKit would
 * send it to the builder, and one careless COPY would put it in a layer.
 */
export async function assertContextHasNoKey(contextDir: string, armoredSecretKey: string, limits: ContextCheckLimits = DEFAULT_LIMITS): Promise<{ files: number }> {
  const needles = secretNeedles(armoredSecretKey).map((n) => Buffer.from(n));
  let files = 0;
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) await walk(path);
        continue;
      }
      if (!entry.isFile()) continue;
      if (++files > limits.maxFiles) return;
      const handle = await open(path, 'r').catch(() => undefined);
      if (!handle) continue;
      try {
        const buffer = Buffer.alloc(limits.maxBytesPerFile);
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
        const head = buffer.subarray(0, bytesRead);
        if (needles.some((needle) => head.includes(needle))) {
          throw new EicBuildError('config', `the build context ${contextDir} contains private key material in ${relative(contextDir, path)}`, {
            hint: 'move the key out of the build context (eic-build passes it to BuildKit as a secret) and rotate it if it was ever committed or built.',
          });
        }
      } finally {
        await handle.close();
      }
    }
  };
  await walk(contextDir);
  return { files };
}
