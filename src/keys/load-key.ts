import * as openpgp from 'openpgp';
import { EicBuildError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { DEFAULT_ROTATION_DAYS, blockingFindings, runKeyChecks, type KeyCheckSubject, type KeyFinding } from './key-checks.js';
import { keyFactsOf } from './key-facts.js';
import type { KeyInput } from './read-key-input.js';

/** A key input parsed, decrypted when a passphrase was given, and checked. */
export interface LoadedKey {
  input: KeyInput;
  subject: KeyCheckSubject;
  findings: KeyFinding[];
  /** Every key in the input (usually one); secret ones decrypted when the passphrase was accepted. */
  keys: openpgp.Key[];
}

/** Options for loadKey. */
export interface LoadKeyOptions {
  need: 'secret' | 'public';
  /** SPACK_SIGNING_KEY_PASSPHRASE, if set. */
  passphrase?: string;
  now?: Date;
  rotationDays?: number;
}

const ARMORED_BLOCK = /-----BEGIN PGP [A-Z ]+-----[\s\S]*?-----END PGP [A-Z ]+-----/g;

function isProtected(key: openpgp.Key): boolean {
  return key.isPrivate() && !key.isDecrypted();
}

/** Parse and check a key input. Never throws for a bad key: problems come back as findings. */
export async function loadKey(input: KeyInput, options: LoadKeyOptions): Promise<LoadedKey> {
  registerSecret(options.passphrase);
  const rotationDays = options.rotationDays ?? DEFAULT_ROTATION_DAYS;
  if (!Number.isInteger(rotationDays) || rotationDays <= 0) {
    throw new EicBuildError('usage', `rotation period ${String(rotationDays)} is not a positive whole number of days`, { hint: 'pass e.g. --rotation-days 180' });
  }
  const subject: KeyCheckSubject = {
    inputName: input.inputName,
    text: input.text,
    keyCount: 0,
    need: options.need,
    passphrase: 'none',
    now: options.now ?? new Date(),
    rotationDays,
  };
  const keys: openpgp.Key[] = [];
  if (input.text.kind === 'armored') {
    try {
      // OpenPGP.js reads only the first armored block; gpg would import them all, so count them all.
      const blocks = input.text.armored.match(ARMORED_BLOCK) ?? [input.text.armored];
      for (const block of blocks) keys.push(...(await openpgp.readKeys({ armoredKeys: block })));
    } catch (error) {
      // OpenPGP.js messages name the packet problem, never key bytes; the redactor covers the rest.
      subject.parseError = error instanceof Error ? error.message : String(error);
    }
  }
  subject.keyCount = keys.length;
  const first = keys[0];
  if (first) {
    const wasProtected = isProtected(first);
    if (wasProtected && options.passphrase) {
      try {
        keys[0] = await openpgp.decryptKey({ privateKey: first as openpgp.PrivateKey, passphrase: options.passphrase });
        subject.passphrase = 'accepted';
      } catch {
        subject.passphrase = 'rejected';
      }
    }
    subject.key = await keyFactsOf(keys[0] as openpgp.Key, wasProtected);
  }
  return { input, subject, findings: runKeyChecks(subject), keys };
}

/** Throw the findings that stop a command (errors; warnings too with `strict`) as one EicBuildError. */
export function throwIfBlocked(loaded: Pick<LoadedKey, 'findings' | 'input'>, strict = false, what = 'signing key'): void {
  const blocking = blockingFindings(loaded.findings, strict);
  const first = blocking[0];
  if (!first) return;
  const strictNote = strict && blocking.every((finding) => finding.severity === 'warning') ? ' (warnings count as errors with --strict)' : '';
  throw new EicBuildError(
    first.code,
    `${what} from ${loaded.input.inputName} cannot be used${strictNote}: ${blocking.map((finding) => `${finding.message} [${finding.id}]`).join('; ')}`,
    { hint: blocking.map((finding) => finding.fix).join('\n') },
  );
}
