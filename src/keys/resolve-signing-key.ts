import type * as openpgp from 'openpgp';
import { EicBuildError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { deriveKeyIdentity, type KeyIdentity } from '../pgp/key-identity.js';
import { PASSPHRASE_VARIABLE, SIGNING_KEY_VARIABLE, type KeyWarning } from './key-checks.js';
import { generateKey } from './generate-key.js';
import { loadKey, throwIfBlocked } from './load-key.js';
import { readKeyInput, type KeySource } from './read-key-input.js';

// Defined with the checks (no openpgp import) so that the build pipeline can name it cheaply.
export { SIGNING_KEY_VARIABLE };

/** Where the signing key of a build came from. */
export type SigningKeySource = 'file' | 'env' | 'ephemeral';

/** The key a build signs with, ready to hand to gpg through a BuildKit secret. */
export interface SigningKey {
  source: SigningKeySource;
  /** Unprotected armored secret key. Memory only; registered with the redactor. */
  armoredSecretKey: string;
  armoredPublicKey: string;
  /** Primary key fingerprint, upper-case hex. */
  fingerprint: string;
  /** Fingerprints and keygrips of the primary key and every subkey: what the scanner looks for. */
  identity: KeyIdentity;
  /** Findings that did not stop the build (all of them stop it with `strict`). */
  warnings: KeyWarning[];
}

/** Options for resolveSigningKey (the CLI maps its flags onto these). */
export interface ResolveSigningKeyOptions {
  /** --signing-key FILE */
  signingKeyFile?: string;
  /** --ephemeral-key: make a throw-away key even if none is configured. */
  ephemeral?: boolean;
  /** Local (developer) mode: without a key, fall back to an ephemeral one with a loud warning. */
  local?: boolean;
  /** --strict: warnings fail too. */
  strict?: boolean;
  /** --rotation-days (default 180). */
  rotationDays?: number;
  env: NodeJS.ProcessEnv;
  /** Receives each warning as one line for a person. */
  warn?: (message: string) => void;
  /** Clock for the expiry and rotation checks (tests). */
  now?: Date;
}

/** The loud warning of the implicit local fallback. */
export const EPHEMERAL_FALLBACK_WARNING: KeyWarning = {
  id: 'ephemeral-key',
  severity: 'warning',
  code: 'key-unusable',
  message:
    `WARNING: no signing key given (${SIGNING_KEY_VARIABLE} is unset and no --signing-key): signing with a THROW-AWAY key made for this build only. ` +
    'Buildcaches signed with it CANNOT be verified or reused by any other build.',
  fix: `for reusable buildcaches set ${SIGNING_KEY_VARIABLE} (eic-build key generate --algorithm rsa4096 makes one); pass --ephemeral-key to silence this warning`,
};

/** The scanner cannot look for a key it cannot identify, so a key without an identity is refused. */
function identityOf(armored: string, inputName: string): KeyIdentity {
  try {
    return deriveKeyIdentity(armored);
  } catch (error) {
    throw new EicBuildError('key-invalid', `the key from ${inputName} cannot be identified for the leak scanner: ${error instanceof Error ? error.message : String(error)}`, {
      hint: 'use an RSA, EdDSA or ECDSA key made by gpg or eic-build key generate',
      cause: error,
    });
  }
}

async function ephemeralKey(warnings: KeyWarning[]): Promise<SigningKey> {
  const generated = await generateKey({ algorithm: 'ed25519', name: 'eic-build ephemeral signing key' });
  return {
    source: 'ephemeral',
    armoredSecretKey: generated.armoredSecretKey,
    armoredPublicKey: generated.armoredPublicKey,
    fingerprint: generated.fingerprint,
    identity: identityOf(generated.armoredSecretKey, 'the ephemeral key'),
    warnings,
  };
}

/**
 * Resolve the key a build signs with: --signing-key FILE, else $SPACK_SIGNING_KEY, else an
 * ephemeral key (only when asked for, or in local mode with a loud warning). Every check that
 * fails stops here with an EicBuildError naming the input and the fix.
 */
export async function resolveSigningKey(options: ResolveSigningKeyOptions): Promise<SigningKey> {
  const { env } = options;
  const passphrase = env[PASSPHRASE_VARIABLE] || undefined;
  registerSecret(passphrase);
  registerSecret(env[SIGNING_KEY_VARIABLE]);
  const warn = options.warn ?? (() => undefined);

  if (options.ephemeral && options.signingKeyFile) {
    throw new EicBuildError('usage', '--ephemeral-key and --signing-key exclude each other', { hint: 'pass one of them' });
  }
  let source: KeySource | undefined;
  if (options.signingKeyFile) source = { kind: 'file', path: options.signingKeyFile };
  else if (!options.ephemeral && env[SIGNING_KEY_VARIABLE]?.trim()) source = { kind: 'env', variable: SIGNING_KEY_VARIABLE };

  if (!source) {
    if (options.ephemeral) {
      // Asked for explicitly, so no warning; but a configured production key being passed over is worth a line.
      if (env[SIGNING_KEY_VARIABLE]?.trim()) warn(`note: --ephemeral-key given, so ${SIGNING_KEY_VARIABLE} is not used for this build`);
      return ephemeralKey([]);
    }
    if (options.local) {
      if (options.strict) {
        throw new EicBuildError('config', `no signing key given and --strict refuses the implicit throw-away key`, {
          hint: `set ${SIGNING_KEY_VARIABLE}, pass --signing-key FILE, or ask for a throw-away key with --ephemeral-key`,
        });
      }
      warn(`${EPHEMERAL_FALLBACK_WARNING.message}\nhint: ${EPHEMERAL_FALLBACK_WARNING.fix}`);
      return ephemeralKey([EPHEMERAL_FALLBACK_WARNING]);
    }
    throw new EicBuildError('config', `no signing key: ${SIGNING_KEY_VARIABLE} is not set and no --signing-key was given`, {
      hint: `set ${SIGNING_KEY_VARIABLE} to the ASCII-armored secret key (or its base64), pass --signing-key FILE, or pass --ephemeral-key for a throw-away key (buildcaches signed with it cannot be reused)`,
    });
  }

  const input = await readKeyInput(source, env);
  const loaded = await loadKey(input, {
    need: 'secret',
    ...(passphrase ? { passphrase } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.rotationDays !== undefined ? { rotationDays: options.rotationDays } : {}),
  });
  throwIfBlocked(loaded, options.strict);
  const key = loaded.keys[0] as openpgp.PrivateKey;
  let armoredSecretKey: string;
  if (loaded.subject.passphrase === 'accepted') {
    // The decrypted copy lives in memory only; it is a new secret text, so register it first.
    armoredSecretKey = key.armor();
    registerSecret(armoredSecretKey);
  } else {
    armoredSecretKey = input.text.kind === 'armored' ? input.text.armored : key.armor();
  }
  const warnings = loaded.findings.filter((finding): finding is KeyWarning => finding.severity === 'warning');
  for (const warning of warnings) warn(`warning: ${warning.message}\nhint: ${warning.fix}`);
  return {
    source: source.kind,
    armoredSecretKey,
    armoredPublicKey: key.toPublic().armor(),
    fingerprint: key.getFingerprint().toUpperCase(),
    identity: identityOf(armoredSecretKey, input.inputName),
    warnings,
  };
}
