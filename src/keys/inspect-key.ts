import { deriveKeyIdentity, type KeyIdentity } from '../pgp/key-identity.js';
import { PASSPHRASE_VARIABLE, type KeyFinding } from './key-checks.js';
import type { KeyFacts } from './key-facts.js';
import { loadKey } from './load-key.js';
import { readKeyInput, type KeySource } from './read-key-input.js';

/** What `key inspect` reports: the facts of the key, every finding, and its identity for the scanner. */
export interface KeyInspection {
  source: KeySource;
  inputName: string;
  /** What the key was judged for: signing (secret needed) or just its public half. */
  need: 'secret' | 'public';
  /** Absent when the input is not a readable key (the findings say why). */
  facts?: KeyFacts;
  /** Keys in the input. */
  keyCount: number;
  findings: KeyFinding[];
  identity?: KeyIdentity;
  /** Whether SPACK_SIGNING_KEY_PASSPHRASE decrypted a protected key. */
  passphrase: 'none' | 'accepted' | 'rejected';
  /** The time the checks were run against. */
  checkedAt: Date;
}

/** Options for inspectKey: one of file / envVar. */
export interface InspectKeyOptions {
  file?: string;
  envVar?: string;
  env: NodeJS.ProcessEnv;
  rotationDays?: number;
  /** Default: 'secret' for an environment variable or a secret key, 'public' for a public key file. */
  need?: 'secret' | 'public';
  now?: Date;
}

/** Pick the source from --env VAR or a file, with an error when both or neither are given. */
export function keySourceOf(options: { file?: string; envVar?: string }, defaultVariable?: string): KeySource | undefined {
  if (options.file !== undefined && options.envVar !== undefined) return undefined;
  if (options.file !== undefined) return { kind: 'file', path: options.file };
  const variable = options.envVar ?? defaultVariable;
  return variable === undefined ? undefined : { kind: 'env', variable };
}

/** Read, parse and check a key without using it: the library behind `eic-build key inspect`. */
export async function inspectKey(options: InspectKeyOptions & { source?: KeySource }): Promise<KeyInspection> {
  const source = options.source ?? keySourceOf(options, 'SPACK_SIGNING_KEY');
  if (!source) throw new TypeError('inspectKey: pass either file or envVar, not both');
  const input = await readKeyInput(source, options.env);
  const isPublic = (input.text.kind === 'armored' || input.text.kind === 'binary') && input.text.block === 'public';
  const need = options.need ?? (source.kind === 'env' || !isPublic ? 'secret' : 'public');
  const passphrase = options.env[PASSPHRASE_VARIABLE] || undefined;
  const now = options.now ?? new Date();
  const loaded = await loadKey(input, {
    need,
    now,
    ...(passphrase ? { passphrase } : {}),
    ...(options.rotationDays !== undefined ? { rotationDays: options.rotationDays } : {}),
  });
  const inspection: KeyInspection = {
    source,
    inputName: input.inputName,
    need,
    keyCount: loaded.subject.keyCount,
    findings: loaded.findings,
    passphrase: loaded.subject.passphrase,
    checkedAt: now,
  };
  if (loaded.subject.key) inspection.facts = loaded.subject.key;
  const first = loaded.keys[0];
  // Fingerprints and keygrips come from public parameters only, so the public half is enough.
  if (first) {
    try {
      inspection.identity = deriveKeyIdentity(first.toPublic().write());
    } catch {
      // An algorithm the keygrip code does not know: the facts and findings still stand.
    }
  }
  return inspection;
}
