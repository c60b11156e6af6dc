// The OpenPGP, S-expression and GnuPG key-file parsers (src/pgp/): garbage and mutated real keys.
import * as openpgp from 'openpgp';
import {
  decodeArmor,
  deriveKeyIdentity,
  identifyGnupgKeyFile,
  KeyIdentityError,
  parseGnupgKeyFile,
  parseKeyPacket,
  parseSexp,
  readPacketHeader,
  splitPackets,
} from '../../../src/pgp/index.js';
import type { FuzzTarget } from '../fuzz-target.js';

const target: FuzzTarget = {
  name: 'pgp/packets-sexp-keyfile',
  ciRounds: 3000,
  async setup() {
    const { privateKey } = await openpgp.generateKey({ type: 'ecc', curve: 'curve25519Legacy', userIDs: [{ name: 'f' }], format: 'binary' });
    return Buffer.from(privateKey);
  },
  makeInput(random, specimens) {
    return random.int(3) === 0 ? random.bytes(random.int(200)) : random.mutate(specimens as Buffer);
  },
  run(bytes) {
    readPacketHeader(bytes, 0);
    splitPackets(bytes);
    parseKeyPacket(5, bytes);
    parseKeyPacket(6, bytes.subarray(1));
    parseSexp(bytes);
    parseGnupgKeyFile(bytes);
    identifyGnupgKeyFile(bytes);
    decodeArmor(bytes.toString('latin1'));
    deriveKeyIdentity(bytes);
  },
  isExpected: (error) => error instanceof KeyIdentityError,
};
export default target;
