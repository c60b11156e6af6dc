import { readFile } from 'node:fs/promises';
import { EicBuildError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { parseKeyText, type KeyText } from './parse-key-text.js';

/** Where a key comes from, as the user named it. */
export type KeySource = { kind: 'file'; path: string } | { kind: 'env'; variable: string };

/** A key input read from its source, classified, and (when secret) registered with the redactor. */
export interface KeyInput {
  source: KeySource;
  /** Names the input in messages: "file ./key.asc", "environment variable SPACK_SIGNING_KEY". */
  inputName: string;
  text: KeyText;
}

/** How a source is named in messages (never its contents). */
export function describeKeySource(source: KeySource): string {
  return source.kind === 'file' ? `file ${source.path}` : `environment variable ${source.variable}`;
}

/**
 * Everything that could be a secret is registered before anything else happens with it, so no
 * later message, log or report can contain it. Public keys are not: they are printed on purpose.
 */
function registerUnlessPublic(raw: string | Uint8Array, text: KeyText): void {
  const isPublic = (text.kind === 'armored' || text.kind === 'binary') && text.block === 'public';
  if (isPublic) return;
  if (typeof raw === 'string') registerSecret(raw);
  else if (text.kind === 'binary') registerSecret(Buffer.from(raw).toString('base64'));
  else registerSecret(Buffer.from(raw).toString('utf8'));
  if (text.kind === 'armored') registerSecret(text.armored);
}

/** Read a key from a file or an environment variable. Throws when the source is missing. */
export async function readKeyInput(source: KeySource, env: NodeJS.ProcessEnv): Promise<KeyInput> {
  const inputName = describeKeySource(source);
  let raw: string | Uint8Array;
  if (source.kind === 'env') {
    const value = env[source.variable];
    if (value === undefined || value.trim() === '') {
      throw new EicBuildError('input-not-found', `${inputName} is not set or empty`, {
        hint: `put the ASCII-armored secret key (or its base64) in ${source.variable}, or pass a key file instead`,
      });
    }
    raw = value;
  } else {
    try {
      raw = new Uint8Array(await readFile(source.path));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        throw new EicBuildError('input-not-found', `key ${inputName} does not exist`, { hint: 'check the path, or make a key with `eic-build key generate`' });
      }
      if (code === 'EISDIR') throw new EicBuildError('input-unreadable', `key ${inputName} is a directory`, { hint: 'give the path of the armored key file' });
      throw new EicBuildError('input-unreadable', `key ${inputName} cannot be read (${code ?? 'error'})`, {
        hint: 'check the file permissions (a key file should be 0600 and owned by you)',
        cause: error,
      });
    }
  }
  const text = parseKeyText(raw);
  registerUnlessPublic(raw, text);
  return { source, inputName, text };
}
