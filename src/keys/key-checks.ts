import type { ErrorCode } from '../errors.js';
import type { KeyFacts, KeyPartFacts } from './key-facts.js';
import type { KeyText } from './parse-key-text.js';

/** Days before expiry from which a key draws a warning. */
export const EXPIRY_WARNING_DAYS = 30;
/** Rotation period when none is configured: the seed recommends rotating every 3-6 months. */
export const DEFAULT_ROTATION_DAYS = 180;
/** RSA keys shorter than this draw a warning (NIST SP 800-57: 2048-bit RSA is retired after 2030). */
export const MIN_RSA_BITS = 3072;
/** The environment variable that holds the production signing key (armored, or base64 of armored). */
export const SIGNING_KEY_VARIABLE = 'SPACK_SIGNING_KEY';
/** The variable that may hold the passphrase of a protected signing key. */
export const PASSPHRASE_VARIABLE = 'SPACK_SIGNING_KEY_PASSPHRASE';

/** Stable ids of the key checks (scripts and docs refer to these). */
export type KeyCheckId =
  | 'not-a-key'
  | 'not-armored'
  | 'unreadable-key'
  | 'several-keys'
  | 'public-key-only'
  | 'passphrase-protected'
  | 'passphrase-wrong'
  | 'revoked'
  | 'no-signing-key'
  | 'expired'
  | 'expiring-soon'
  | 'rotation-due'
  | 'rsa-too-short'
  /** Not a check of a given key: the warning of the implicit local fallback to a throw-away key. */
  | 'ephemeral-key';

/** error: the key cannot be used; warning: it can, but should be replaced soon. */
export type KeySeverity = 'error' | 'warning';

/** One problem found with a key: what is wrong, and what to do about it. */
export interface KeyFinding {
  id: KeyCheckId;
  severity: KeySeverity;
  /** Error code to raise when this finding stops a command. */
  code: ErrorCode;
  message: string;
  fix: string;
}

/** A finding that does not stop a build unless --strict. */
export type KeyWarning = KeyFinding & { severity: 'warning' };

/** Everything the checks look at. Built by the loader; plain data so every check is a pure function. */
export interface KeyCheckSubject {
  /** Names the input in messages: "environment variable SPACK_SIGNING_KEY", "file ./key.asc". */
  inputName: string;
  text: KeyText;
  /** Keys found in the input (0 when it could not be parsed). */
  keyCount: number;
  /** Why OpenPGP could not read an input that looked like a key. */
  parseError?: string;
  key?: KeyFacts;
  /** 'secret' to sign with it; 'public' when the public half is enough (inspect, export). */
  need: 'secret' | 'public';
  /** What happened with SPACK_SIGNING_KEY_PASSPHRASE. */
  passphrase: 'none' | 'accepted' | 'rejected';
  now: Date;
  rotationDays: number;
}

/** A check: stable id, severity, and a pure function that returns a finding's text or nothing. */
export interface KeyCheck {
  id: KeyCheckId;
  severity: KeySeverity;
  code: ErrorCode;
  title: string;
  evaluate(subject: KeyCheckSubject): { message: string; fix: string } | undefined;
}

const DAY_MS = 86_400_000;

function day(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function signers(key: KeyFacts): KeyPartFacts[] {
  return [key.primary, ...key.subkeys].filter((part) => part.canSign && !part.revoked);
}

function hasSecret(part: KeyPartFacts): boolean {
  return part.secret === 'present' || part.secret === 'protected';
}

/** The signing (sub)keys a signer could use: with secret material when a secret is needed. */
function usableSigners(subject: KeyCheckSubject, key: KeyFacts): KeyPartFacts[] {
  const all = signers(key);
  return subject.need === 'secret' ? all.filter(hasSecret) : all;
}

/** When the last usable signing key stops being valid; null: never. */
function signingExpiry(subject: KeyCheckSubject, key: KeyFacts): Date | null | undefined {
  const usable = usableSigners(subject, key);
  if (usable.length === 0) return undefined;
  if (usable.some((part) => part.expires === null)) return null;
  return new Date(Math.max(...usable.map((part) => (part.expires as Date).getTime())));
}

function removePassphraseSteps(keyId: string): string {
  return (
    `remove the passphrase: gpg --pinentry-mode loopback --passwd ${keyId} (give the old passphrase, then an empty one), ` +
    `then re-export: gpg --export-secret-keys --armor ${keyId} > spack-signing-key.asc`
  );
}

const NOT_A_KEY_WHAT: Record<string, string> = {
  empty: 'is empty',
  'pgp-message': 'holds an OpenPGP message, not a key',
  'pgp-signature': 'holds an OpenPGP signature or signed text, not a key',
  'other-armor': 'holds an ASCII-armored OpenPGP block that is not a key',
  'pem-or-ssh': 'holds a PEM or SSH key, not an OpenPGP key',
  unknown: 'is not an OpenPGP key (neither ASCII-armored, nor base64 of it, nor binary OpenPGP)',
};

/** Every key check, in the order findings are reported. */
export const KEY_CHECKS: readonly KeyCheck[] = [
  {
    id: 'not-a-key',
    severity: 'error',
    code: 'key-invalid',
    title: 'input is not an OpenPGP key',
    evaluate: (s) =>
      s.text.kind === 'not-a-key'
        ? {
            message: `${s.inputName} ${NOT_A_KEY_WHAT[s.text.reason] ?? NOT_A_KEY_WHAT.unknown}`,
            fix: 'give the ASCII-armored secret key exported by `gpg --export-secret-keys --armor KEYID`, or make one with `eic-build key generate`',
          }
        : undefined,
  },
  {
    id: 'not-armored',
    severity: 'error',
    code: 'key-invalid',
    title: 'key is binary OpenPGP, not ASCII-armored',
    evaluate: (s) =>
      s.text.kind === 'binary'
        ? {
            message: `${s.inputName} holds a binary (unarmored) OpenPGP ${s.text.block === 'private' ? 'secret' : 'public'} key${s.text.encoding === 'base64' ? ' encoded in base64' : ''}; eic-build and Spack's SPACK_SIGNING_KEY take ASCII armor`,
            fix:
              s.text.block === 'private'
                ? 'armor it through a scratch keyring: export GNUPGHOME="$(mktemp -d)"; gpg --batch --import FILE; gpg --export-secret-keys --armor > spack-signing-key.asc (gpg --enarmor does not make a key block)'
                : 'armor it through a scratch keyring: export GNUPGHOME="$(mktemp -d)"; gpg --batch --import FILE; gpg --export --armor > key.pub.asc',
          }
        : undefined,
  },
  {
    id: 'unreadable-key',
    severity: 'error',
    code: 'key-invalid',
    title: 'armored key cannot be read',
    evaluate: (s) =>
      s.text.kind === 'armored' && s.parseError !== undefined
        ? {
            message: `${s.inputName} looks like an armored OpenPGP key but cannot be read: ${s.parseError}`,
            fix: 'copy the whole block again, from the -----BEGIN line to the -----END line inclusive (a truncated or re-wrapped secret is the usual cause)',
          }
        : undefined,
  },
  {
    id: 'several-keys',
    severity: 'error',
    code: 'key-invalid',
    title: 'more than one key',
    evaluate: (s) =>
      s.need === 'secret' && s.keyCount > 1
        ? {
            message: `${s.inputName} holds ${s.keyCount} keys; Spack's autopush signs only when the keyring holds exactly one secret key`,
            fix: 'export just the signing key: gpg --export-secret-keys --armor KEYID > spack-signing-key.asc',
          }
        : undefined,
  },
  {
    id: 'public-key-only',
    severity: 'error',
    code: 'key-public-only',
    title: 'public key given where a secret key is needed',
    evaluate: (s) =>
      s.need === 'secret' && s.key && ![s.key.primary, ...s.key.subkeys].some(hasSecret)
        ? {
            message: `${s.inputName} holds only the public key ${s.key.primary.fingerprint}; signing needs the secret key`,
            fix: `export the secret key instead: gpg --export-secret-keys --armor ${s.key.primary.keyId} (not gpg --export)`,
          }
        : undefined,
  },
  {
    id: 'passphrase-wrong',
    severity: 'error',
    code: 'key-protected',
    title: 'passphrase does not decrypt the key',
    evaluate: (s) =>
      s.passphrase === 'rejected' && s.key
        ? {
            message: `${PASSPHRASE_VARIABLE} does not decrypt the passphrase-protected key in ${s.inputName}`,
            fix: `set ${PASSPHRASE_VARIABLE} to the key's passphrase, or ${removePassphraseSteps(s.key.primary.keyId)}`,
          }
        : undefined,
  },
  {
    id: 'passphrase-protected',
    severity: 'error',
    code: 'key-protected',
    title: 'secret key is passphrase-protected',
    evaluate: (s) => {
      if (s.need !== 'secret' || s.passphrase === 'rejected' || !s.key) return undefined;
      const signing = signers(s.key).filter(hasSecret);
      if (signing.length === 0 || signing.some((part) => part.secret === 'present')) return undefined;
      return {
        message: `the secret key ${s.key.primary.fingerprint} in ${s.inputName} is passphrase-protected and ${PASSPHRASE_VARIABLE} is not set`,
        fix: `Spack's non-interactive gpg cannot use a protected key: set ${PASSPHRASE_VARIABLE} (eic-build then decrypts it in memory only), or ${removePassphraseSteps(s.key.primary.keyId)}`,
      };
    },
  },
  {
    id: 'revoked',
    severity: 'error',
    code: 'key-unusable',
    title: 'key is revoked',
    evaluate: (s) =>
      s.key?.primary.revoked
        ? {
            message: `the key ${s.key.primary.fingerprint} in ${s.inputName} is revoked`,
            fix: 'make a new key (eic-build key generate --algorithm rsa4096), store it in SPACK_SIGNING_KEY, and clear buildcaches signed with the old one',
          }
        : undefined,
  },
  {
    id: 'no-signing-key',
    severity: 'error',
    code: 'key-unusable',
    title: 'no signing-capable key',
    evaluate: (s) => {
      if (!s.key || s.key.primary.revoked) return undefined;
      if (signers(s.key).length === 0) {
        return {
          message: `neither the key ${s.key.primary.fingerprint} in ${s.inputName} nor any of its subkeys may sign (no usable key with the sign flag)`,
          fix: 'use a key made for signing: eic-build key generate --algorithm rsa4096, or add a signing subkey with gpg --quick-add-key FINGERPRINT rsa4096 sign',
        };
      }
      if (s.need === 'secret' && usableSigners(s, s.key).length === 0 && [s.key.primary, ...s.key.subkeys].some(hasSecret)) {
        return {
          message: `${s.inputName} holds secret material, but not for any signing-capable key of ${s.key.primary.fingerprint}`,
          fix: `export the secret of the signing key too: gpg --export-secret-keys --armor ${s.key.primary.keyId}`,
        };
      }
      return undefined;
    },
  },
  {
    id: 'expired',
    severity: 'error',
    code: 'key-unusable',
    title: 'key has expired',
    evaluate: (s) => {
      if (!s.key) return undefined;
      const expiry = signingExpiry(s, s.key);
      if (!expiry || expiry.getTime() > s.now.getTime()) return undefined;
      return {
        message: `the signing key ${s.key.primary.fingerprint} in ${s.inputName} expired on ${day(expiry)}`,
        fix: `extend it (gpg --quick-set-expire ${s.key.primary.fingerprint} 1y '*' and also for the primary key: gpg --quick-set-expire ${s.key.primary.fingerprint} 1y), re-export and update SPACK_SIGNING_KEY; or rotate to a new key`,
      };
    },
  },
  {
    id: 'expiring-soon',
    severity: 'warning',
    code: 'key-unusable',
    title: `key expires within ${EXPIRY_WARNING_DAYS} days`,
    evaluate: (s) => {
      if (!s.key) return undefined;
      const expiry = signingExpiry(s, s.key);
      if (!expiry) return undefined;
      const left = expiry.getTime() - s.now.getTime();
      if (left <= 0 || left > EXPIRY_WARNING_DAYS * DAY_MS) return undefined;
      return {
        message: `the signing key ${s.key.primary.fingerprint} in ${s.inputName} expires on ${day(expiry)} (in ${Math.ceil(left / DAY_MS)} days)`,
        fix: `extend it (gpg --quick-set-expire ${s.key.primary.fingerprint} 1y, and for subkeys '*'), re-export and update SPACK_SIGNING_KEY; or rotate to a new key now`,
      };
    },
  },
  {
    id: 'rotation-due',
    severity: 'warning',
    code: 'key-unusable',
    title: 'key is older than the rotation period',
    evaluate: (s) => {
      if (!s.key) return undefined;
      const age = Math.floor((s.now.getTime() - s.key.primary.created.getTime()) / DAY_MS);
      if (age <= s.rotationDays) return undefined;
      return {
        message: `the key ${s.key.primary.fingerprint} in ${s.inputName} was made on ${day(s.key.primary.created)} (${age} days ago), beyond the ${s.rotationDays}-day rotation period`,
        fix: 'rotate: eic-build key generate --algorithm rsa4096, store it in SPACK_SIGNING_KEY, and clear buildcaches signed with the old key (or pass --rotation-days to change the period)',
      };
    },
  },
  {
    id: 'rsa-too-short',
    severity: 'warning',
    code: 'key-unusable',
    title: `RSA key under ${MIN_RSA_BITS} bits`,
    evaluate: (s) => {
      if (!s.key) return undefined;
      const short = usableSigners(s, s.key).filter((part) => part.algorithm.startsWith('rsa') && (part.bits ?? 0) < MIN_RSA_BITS);
      if (short.length === 0) return undefined;
      return {
        message: `the signing key ${short.map((part) => `${part.fingerprint} (RSA ${part.bits ?? '?'})`).join(', ')} in ${s.inputName} is shorter than ${MIN_RSA_BITS} bits`,
        fix: 'rotate to a stronger key: eic-build key generate --algorithm rsa4096 (or ed25519)',
      };
    },
  },
];

/** Run every check over a subject; findings come back in check order. */
export function runKeyChecks(subject: KeyCheckSubject, checks: readonly KeyCheck[] = KEY_CHECKS): KeyFinding[] {
  const findings: KeyFinding[] = [];
  for (const check of checks) {
    const result = check.evaluate(subject);
    if (result) findings.push({ id: check.id, severity: check.severity, code: check.code, ...result });
  }
  return findings;
}

/** The findings that make a key unusable: errors, and with `strict` warnings too. */
export function blockingFindings(findings: readonly KeyFinding[], strict = false): KeyFinding[] {
  return findings.filter((finding) => finding.severity === 'error' || strict);
}
