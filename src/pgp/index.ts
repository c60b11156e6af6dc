// OpenPGP and GnuPG key parsing: re-exports only.
export { deriveKeyIdentity, readKeyPackets, KeyIdentityError, type KeyIdentity } from './key-identity.js';
export { computeKeygrip, keygripOfParams, type KeygripInput } from './keygrip.js';
export { parseKeyPacket, isKeyPacket, computeFingerprint, PublicKeyAlgorithm, type KeyPacket, type PublicParams, type SecretProtection } from './key-packet.js';
export { readPacketHeader, PacketTag, type PacketHeader } from './packet-header.js';
export { splitPackets, type PacketSlice } from './packets.js';
export { decodeArmor, decodeArmorLoose, isArmored, type Armored } from './armor.js';
export { parseSexp, formatCanonicalSexp, atomText, findList, type Sexp, type SexpParse } from './sexp.js';
export { parseGnupgKeyFile, findKeyFileSexp, readKeyFileExpression, identifyGnupgKeyFile, type GnupgKeyFile, type GnupgKeyFileParse } from './gnupg-key-file.js';
export { CURVES, curveByName, curveByOid, type CurveInfo } from './curves.js';
export { toHex } from './hex.js';
