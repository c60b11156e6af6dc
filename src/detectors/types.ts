import type { KeyIdentity } from '../pgp/key-identity.js';

export type { KeyIdentity };

/** How bad a finding is. */
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** A detector as data: stable id, title, severity and its documentation page. */
export type DetectorInfo = {
  /** Stable kebab-case id, used in reports and suppressions. */
  id: string;
  title: string;
  severity: Severity;
  /** Repository path of the detector's documentation page. */
  docs: string;
};

/** Private key material found in the bytes of one file or value. Never contains key bytes. */
export type ContentFinding = {
  detector: string;
  /** What form was found, e.g. `armored`, `json-escaped-armored`, `base64-armored`, `secret-key-packet`. */
  kind: string;
  severity: Severity;
  /** Byte offset in the scanned file (for a decoded base64 form: where the base64 text starts). */
  offset: number;
  /** OpenPGP fingerprints (upper-case hex) of the secret keys found. */
  fingerprints: string[];
  /** GnuPG keygrips (upper-case hex) of the secret keys found. */
  keygrips: string[];
  /** True when a fingerprint or keygrip belongs to one of the known (`--public-key`) keys. */
  matchesPublicKey: boolean;
  /** Redacted: the marker line or a description, then `[REDACTED n bytes]`. */
  excerpt: string;
  message: string;
};

/** Something worth saying that is not a leak (a bare marker, a smartcard stub, a bounded skip). */
export type ContentNote = { detector: string; offset: number; message: string };

/** Findings and notes of one scanned file or value. */
export type ContentScanResult = { findings: ContentFinding[]; notes: ContentNote[] };

/** A streaming detector for the bytes of one file. */
export type ContentScanner = {
  write(chunk: Uint8Array): void;
  end(): ContentScanResult;
};

/** What a detector's validator concludes about captured bytes (offsets relative to the capture). */
export type Detection =
  | {
      type: 'finding';
      detector: string;
      kind: string;
      severity: Severity;
      fingerprints: string[];
      keygrips: string[];
      excerpt: string;
      message: string;
      /**
       * Identities used ONLY to recognise catalogued well-known keys whose public half cannot be
       * derived here (e.g. GOST PKCS#8): never reported, never matched against user input.
       */
      catalogueIds?: string[];
      /** Offset relative to the capture start (default 0). */
      at?: number;
    }
  | { type: 'note'; detector: string; message: string; at?: number };
