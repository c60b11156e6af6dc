import { randomBytes } from 'node:crypto';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { EicBuildError } from '../errors.js';

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
 * Write a file atomically with the given mode: a fresh sibling opened O_EXCL with `mode`, then a
 * rename over the target, so the target never exists with wider permissions or half written.
 */
export async function writeFileAtomic(path: string, contents: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(contents, 'utf8');
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
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
  if (!(await exists(dirname(secretPath)))) {
    throw new EicBuildError('input-not-found', `directory ${dirname(secretPath)} of --output does not exist`, { hint: 'create it first, or choose another --output' });
  }
  await writeFileAtomic(secretPath, key.armoredSecretKey, 0o600);
  try {
    await writeFileAtomic(publicPath, key.armoredPublicKey, 0o644);
  } catch (error) {
    // No half-done pair: without its public key file the secret one is removed again.
    await rm(secretPath, { force: true });
    throw new EicBuildError('input-unreadable', `cannot write the public key to ${publicPath}`, { cause: error, hint: 'check that the directory is writable' });
  }
  return { secretPath, publicPath };
}
