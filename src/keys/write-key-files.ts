import { access, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { EicBuildError } from '../errors.js';
import { checkOutputPath, writeOutputFile } from '../io/output-file.js';

/** Where `key generate` puts the public key: next to the secret one, FILE.asc -> FILE.pub.asc. */
export function publicKeyPathFor(secretPath: string): string {
  return `${secretPath.replace(/\.(asc|gpg|key)$/, '')}.pub.asc`;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Write a file atomically with the given mode (see writeOutputFile): the target never exists with
 * wider permissions or half written; a failure is an output-unwritable EicBuildError naming it.
 */
export async function writeFileAtomic(path: string, contents: string, mode: number): Promise<void> {
  await writeOutputFile(path, contents, { mode });
}

/** Write a generated key pair: secret 0600, public 0644. Refuses to overwrite either unless `force`. */
export async function writeKeyFiles(
  key: { armoredSecretKey: string; armoredPublicKey: string },
  options: { output: string; force?: boolean },
): Promise<{ secretPath: string; publicPath: string }> {
  const secretPath = options.output;
  const publicPath = publicKeyPathFor(secretPath);
  if ((await stat(secretPath).catch(() => undefined))?.isDirectory()) {
    throw new EicBuildError('usage', `--output ${secretPath} is a directory`, { hint: `give a file name, e.g. --output ${join(secretPath, 'spack-signing-key.asc')}` });
  }
  if (!options.force) {
    for (const path of [secretPath, publicPath]) {
      if (await exists(path)) {
        throw new EicBuildError('usage', `${path} already exists; not overwriting a key`, {
          hint: 'pass --force to replace it (the old key is lost unless you kept a copy), or choose another --output',
        });
      }
    }
  }
  await checkOutputPath(secretPath);
  await writeFileAtomic(secretPath, key.armoredSecretKey, 0o600);
  try {
    await writeOutputFile(publicPath, key.armoredPublicKey, { mode: 0o644, flag: 'the public key file' });
  } catch (error) {
    // No half-done pair: without its public key file the secret one is removed again.
    await rm(secretPath, { force: true });
    throw error;
  }
  return { secretPath, publicPath };
}
