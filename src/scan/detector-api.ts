// The one place the scanner touches the detectors (owned by another module): the walker only
// needs a streaming per-file scanner, a config-value scanner and the rule table.
export {
  createContentScanner,
  scanConfigValue,
  parseAllowKeys,
  AllowKeyError,
  DETECTORS,
  type ContentScanner,
  type ContentFinding,
  type ContentNote,
  type DetectorInfo,
} from '../detectors/index.js';
import type { KeyIdentity } from '../pgp/key-identity.js';

export type { KeyIdentity };

/** The key identities every detector call gets: the user's public keys (`--public-key`) and allowed identities (`--allow-key`). Plain data (crosses to workers). */
export interface DetectorKeys {
  /** Public keys: a finding that is their secret half says so, and is never allowed away. */
  knownKeys: KeyIdentity[];
  /** Normalized identities (see parseAllowKeys) whose keys are notes, not findings. */
  allowKeys: string[];
}

/** No public keys, nothing allowed. */
export const NO_DETECTOR_KEYS: DetectorKeys = { knownKeys: [], allowKeys: [] };
