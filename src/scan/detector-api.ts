// The one place the scanner touches the detectors (owned by another module): the walker only
// needs a streaming per-file scanner, a config-value scanner and the rule table.
export {
  createContentScanner,
  scanConfigValue,
  DETECTORS,
  type ContentScanner,
  type ContentFinding,
  type ContentNote,
  type DetectorInfo,
} from '../detectors/index.js';
export type { KeyIdentity } from '../pgp/key-identity.js';
