import { normalizeIdentity, type PublicIdentity } from './public-identity.js';

/**
 * A private key that is public knowledge: a self-test vector compiled into a library, or a test key
 * file a package ships. Identified ONLY by a public identity (never by path or file name), so the
 * same bytes appended anywhere else, or any other key in the same file, are still judged on their own.
 * No private key text is ever kept here: only hashes of public halves.
 */
export type WellKnownKey = {
  /** Stable kebab-case id. */
  id: string;
  /**
   * Keygrip or OpenPGP fingerprint (hex), `SPKI-SHA256:<b64>` (PEM) or `SHA256:<b64>` (OpenSSH);
   * `DER-SHA256:<b64>` only for a key whose public half node:crypto cannot derive (GOST).
   */
  identity: PublicIdentity;
  /**
   * The GnuPG keygrip of an OpenPGP key catalogued by fingerprint: the same key imported into a GnuPG
   * home (`private-keys-v1.d/<keygrip>.key`, which carries no fingerprint) is recognised too.
   */
  keygrip?: PublicIdentity;
  /** What the key is, in a few words (shown in the note). */
  origin: string;
  /** Where it comes from and how it was found (package and version of the scanned image). */
  reference: string;
};

// Found by `eic-build scan` of debootstrap images eic-build-test/bookworm-gnupg:1 and bookworm-libs:1
// (2026-11), and the same identities in the host's copies (libgcrypt20 1.10.1-3, libgnutls30 3.7.9-2+deb12u6).
const GCRYPT = 'libgcrypt20 1.10.1-3+deb12u1 (Debian bookworm), usr/lib/x86_64-linux-gnu/libgcrypt.so.20.4.1';
const GNUTLS = 'libgnutls30 3.7.9-2+deb12u7 (Debian bookworm), usr/lib/x86_64-linux-gnu/libgnutls.so.30.34.3';
// Found by `eic-build scan docker-daemon:eic-build-kit/spack:1.1.0` (2026-12; Spack v1.1.0, commit 2e907202bcc8,
// at /opt/spack) and cross-checked with `gpg --import` + `gpg -K --with-keygrip --with-subkey-fingerprints`.
// The only private key in the Spack tree: base64 of an armored public block followed by an unprotected
// secret block. Spack's own tests sign with it (lib/spack/spack/test/ci.py, test/cmd/ci.py).
const SPACK = 'Spack v1.1.0, var/spack/gpg.mock/keys/package-signing-key (a test key every Spack tree ships; user ID "Spack Build Pipeline (Demo Key) <key@spack.demo>")';

/** The built-in catalogue: found by scanning debootstrap Debian bookworm images and the Spack kit image (see docs/detectors/well-known-keys.md). */
export const WELL_KNOWN_KEYS: readonly WellKnownKey[] = [
  {
    id: 'libgcrypt-selftest-dsa',
    identity: '6E064B3A0A2050AA63497EBEE1540C074B379AFF',
    origin: 'libgcrypt self-test DSA key',
    reference: `${GCRYPT}; self-test key in libgcrypt cipher/dsa.c (keygrip)`,
  },
  {
    id: 'libgcrypt-selftest-rsa',
    identity: 'E008989BB644A29A833747DD6955DB3AAC896E40',
    origin: 'libgcrypt self-test RSA key',
    reference: `${GCRYPT}; self-test key in libgcrypt cipher/rsa.c (keygrip)`,
  },
  {
    id: 'libgcrypt-selftest-ecdsa-p256',
    identity: '385366619AD11A95F429F38DD1FE3940E8657CE5',
    origin: 'libgcrypt self-test ECDSA NIST P-256 key',
    reference: `${GCRYPT}; self-test key in libgcrypt cipher/ecc.c (keygrip)`,
  },
  {
    id: 'gnutls-selftest-gost2012-512',
    identity: 'DER-SHA256:h+KI3H28KaJCQbWW7IyE+UnZ8J80/Az2kkJIH7InR3A',
    origin: 'GnuTLS self-test GOST R 34.10-2012 512-bit key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM PKCS#8 (GOST: public half not derivable with node:crypto, so recognised by the hash of its well-known DER)`,
  },
  {
    id: 'gnutls-selftest-gost2012-256',
    identity: 'DER-SHA256:0kXlLDQadmReGw5WxY3JZM1PPsrqZKnG1tuYl9SUioo',
    origin: 'GnuTLS self-test GOST R 34.10-2012 256-bit key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM PKCS#8 (GOST: recognised by the hash of its well-known DER)`,
  },
  {
    id: 'gnutls-selftest-gost2001',
    identity: 'DER-SHA256:ApS0QGkC4zuwL4nq9MaRMoeQ16nNAbhz1o7ayZTzEKE',
    origin: 'GnuTLS self-test GOST R 34.10-2001 key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM PKCS#8 (GOST: recognised by the hash of its well-known DER)`,
  },
  {
    id: 'gnutls-selftest-ecdsa-p521',
    identity: 'SPKI-SHA256:IV/eiVwSiD4pA29b04wiRnZX88q7x31+njKKtfSuOfI',
    origin: 'GnuTLS self-test ECDSA secp521r1 key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM EC PRIVATE KEY`,
  },
  {
    id: 'gnutls-selftest-ecdsa-p384',
    identity: 'SPKI-SHA256:bhkA9lTtsuWZkwyKKHxyY+oXDwEIJmMIkyJ+fOwiFYY',
    origin: 'GnuTLS self-test ECDSA secp384r1 key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM EC PRIVATE KEY`,
  },
  {
    id: 'gnutls-selftest-ecdsa-p224',
    identity: 'SPKI-SHA256:llI3ymuoNnM/K2Q21mUW3AHvLViCXTtKprkGGnbHqc4',
    origin: 'GnuTLS self-test ECDSA secp224r1 key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM EC PRIVATE KEY`,
  },
  {
    id: 'gnutls-selftest-ecdsa-p192',
    identity: 'SPKI-SHA256:wwX2MrnxKRPlSAAtXkhDX8z7elT05vIlXAVdm5l5S2k',
    origin: 'GnuTLS self-test ECDSA secp192r1 key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM EC PRIVATE KEY`,
  },
  {
    id: 'gnutls-selftest-ecdsa-p256',
    identity: 'SPKI-SHA256:W9e61AlxvpAeaNm5dAXDo+mWrb7eiFhpsnAYWtSZEI4',
    origin: 'GnuTLS self-test ECDSA secp256r1 key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM EC PRIVATE KEY`,
  },
  {
    id: 'gnutls-selftest-dsa-2048',
    identity: 'SPKI-SHA256:3QcBcVrEG3uWosj+enYrDuBSFfTyHETZRY8dLi1XQn0',
    origin: 'GnuTLS self-test DSA 2048-bit key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM DSA PRIVATE KEY`,
  },
  {
    id: 'gnutls-selftest-rsa-2048',
    identity: 'SPKI-SHA256:WpIUqnif/gIZkmNt0XyjE/NAlI5gTUEic1Fg89RmiKA',
    origin: 'GnuTLS self-test RSA 2048-bit key',
    reference: `${GNUTLS}; gnutls lib/crypto-selftests-pk.c, PEM RSA PRIVATE KEY`,
  },
  {
    id: 'spack-mock-package-signing-key',
    identity: 'EA17D7BAD069C9C51B16683965F19128BF181183',
    keygrip: '1831D15E9A484C8FD6F091F5BF40AC71E898A63B',
    origin: "Spack's test key package-signing-key, RSA-2048 primary key",
    reference: `${SPACK}; primary key (fingerprint; keygrip for an imported copy)`,
  },
  {
    id: 'spack-mock-package-signing-subkey',
    identity: 'E947A28C0BCB3F692DD3F56F65ED2C9625AAAD63',
    keygrip: 'FD753FB53A982B32FEB22F4411C4CE81C5ECE32A',
    origin: "Spack's test key package-signing-key, RSA-2048 subkey",
    reference: `${SPACK}; subkey (fingerprint; keygrip for an imported copy)`,
  },
];

/** What an allow list says about a finding's keys. */
export type AllowMatch = { kind: 'well-known'; origin: string; identity: PublicIdentity; id: string } | { kind: 'allowed'; identity: PublicIdentity };

/** The built-in catalogue plus user-allowed identities, matched by public identity only. */
export type KeyAllowList = {
  /**
   * A match when EVERY key of a finding is known (each fingerprint, or the keygrip in the same
   * position, is catalogued or allowed; for a finding with keygrips only, each keygrip); else null.
   * A finding with no identity at all never matches.
   */
  match(fingerprints: string[], keygrips: string[], catalogueIds?: string[]): AllowMatch | null;
};

/** Malformed `allowKeys` entries, for the caller to report (see `parseAllowKeys`). */
export class AllowKeyError extends Error {
  override readonly name = 'AllowKeyError';
}

/** Normalize user-given identities; throws AllowKeyError naming the first one that is none of the known forms. */
export function parseAllowKeys(values: string[]): PublicIdentity[] {
  return values.map((value) => {
    const identity = normalizeIdentity(value);
    if (!identity || identity.startsWith('DER-SHA256:')) {
      throw new AllowKeyError(
        `allowed key "${value}" is not a public key identity: give a 40-hex keygrip, a 40/64-hex OpenPGP fingerprint, SHA256:<base64> (ssh-keygen -l) or SPKI-SHA256:<base64> (as shown in a finding)`,
      );
    }
    return identity;
  });
}

const CATALOGUE = new Map<PublicIdentity, WellKnownKey>(
  WELL_KNOWN_KEYS.flatMap((key) => [key.identity, ...(key.keygrip ? [key.keygrip] : [])].map((identity) => [normalizeIdentity(identity) ?? identity, key] as const)),
);

/** An allow list of the built-in catalogue and `allowKeys` (identities; malformed ones throw AllowKeyError). */
export function createKeyAllowList(allowKeys: string[]): KeyAllowList {
  const allowed = new Set(parseAllowKeys(allowKeys));
  const lookup = (identity: string): AllowMatch | null => {
    const normal = normalizeIdentity(identity);
    if (!normal) return null;
    const known = CATALOGUE.get(normal);
    if (known) return { kind: 'well-known', origin: known.origin, identity: normal, id: known.id };
    return allowed.has(normal) ? { kind: 'allowed', identity: normal } : null;
  };
  return {
    match(fingerprints, keygrips, catalogueIds = []) {
      const matches: AllowMatch[] = [];
      if (fingerprints.length === 0 && keygrips.length === 0) {
        // Only for keys without a derivable public identity: the built-in catalogue, never allowKeys.
        const id = catalogueIds.length === 1 ? normalizeIdentity(catalogueIds[0]!) : null;
        const known = id ? CATALOGUE.get(id) : undefined;
        return known && id ? { kind: 'well-known', origin: known.origin, identity: known.id, id: known.id } : null;
      }
      if (fingerprints.length > 0) {
        const paired = keygrips.length === fingerprints.length;
        for (let i = 0; i < fingerprints.length; i++) {
          const found = lookup(fingerprints[i]!) ?? (paired ? lookup(keygrips[i]!) : null);
          if (!found) return null;
          matches.push(found);
        }
      } else {
        if (keygrips.length === 0) return null;
        for (const keygrip of keygrips) {
          const found = lookup(keygrip);
          if (!found) return null;
          matches.push(found);
        }
      }
      // Prefer naming the catalogue entry: it says what the key is.
      return matches.find((m) => m.kind === 'well-known') ?? matches[0]!;
    },
  };
}
