// The parsers behind single detectors, on mutated real keys: .ppk (putty-private-key), OpenPGP v6
// packets and identities (src/pgp), armor, OpenSSH and PEM block validators, and the config-value
// scanner (base64 tokens, NAME=value) that image configs and annotations go through.
import { parsePpk, scanConfigValue } from '../../../src/detectors/index.js';
import { validateOpensshBlock } from '../../../src/detectors/openssh-private-key.js';
import { validatePemBlock } from '../../../src/detectors/pem-private-key.js';
import { validatePgpArmoredBlock } from '../../../src/detectors/pgp-armored-private-key.js';
import { summariseSecretKeys, validateSecretKeyPacket } from '../../../src/detectors/pgp-binary-secret-key.js';
import { decodeArmor, deriveKeyIdentity, KeyIdentityError, parseKeyPacket, splitPackets } from '../../../src/pgp/index.js';
import { decodeArmorLoose } from '../../../src/pgp/armor.js';
import type { FuzzTarget } from '../fuzz-target.js';
import { KEY_SPECIMEN_TOOLS, keySpecimens, type KeySpecimens } from '../key-specimens.js';

const textOf = (input: Buffer): string => input.toString('latin1');

const targets: FuzzTarget[] = [
  {
    name: 'detectors/ppk',
    tools: KEY_SPECIMEN_TOOLS,
    ciRounds: 3000,
    setup: keySpecimens,
    makeInput: (random, specimens) => {
      const { ppk } = specimens as KeySpecimens;
      if (!ppk || random.int(4) === 0) return random.bytes(random.int(300));
      // Cut, flip, or change one line's count: the line-counted blocks are the risky part.
      const lines = ppk.split('\n');
      const at = random.int(lines.length);
      lines[at] = lines[at]!.replace(/\d+/, String(random.int(2000)));
      return random.mutate(Buffer.from(lines.join(random.int(2) ? '\n' : '\r\n')), random.int(4));
    },
    run: (input) => parsePpk(textOf(input)),
  },
  {
    name: 'pgp/v6-packets',
    tools: KEY_SPECIMEN_TOOLS,
    ciRounds: 3000,
    setup: keySpecimens,
    makeInput: (random, specimens) => random.mutate((specimens as KeySpecimens).v6Binary, 1 + random.int(6)),
    run: (input) => {
      for (const packet of splitPackets(input).packets) parseKeyPacket(packet.header.tag, packet.body);
      summariseSecretKeys(input);
      validateSecretKeyPacket(input);
      deriveKeyIdentity(input);
    },
    isExpected: (error) => error instanceof KeyIdentityError,
  },
  {
    name: 'detectors/armor-openssh-pem',
    tools: KEY_SPECIMEN_TOOLS,
    ciRounds: 3000,
    setup: keySpecimens,
    makeInput: (random, specimens) => {
      const { texts } = specimens as KeySpecimens;
      return random.mutate(Buffer.from(texts[random.int(texts.length)]!), 1 + random.int(6));
    },
    run: (input) => {
      const text = textOf(input);
      decodeArmor(text);
      decodeArmorLoose(text);
      validatePgpArmoredBlock(text);
      validateOpensshBlock(text);
      validatePemBlock(text, 'PRIVATE KEY');
      validatePemBlock(text, 'EC PRIVATE KEY');
    },
  },
  {
    name: 'detectors/config-value',
    tools: KEY_SPECIMEN_TOOLS,
    ciRounds: 2000,
    setup: keySpecimens,
    makeInput: (random, specimens) => {
      const { texts, binaries } = specimens as KeySpecimens;
      const all = [...texts.map((t) => Buffer.from(t)), ...binaries];
      const base64 = all[random.int(all.length)]!.toString(random.int(2) ? 'base64' : 'base64url');
      const forms = [`KEY=${base64}`, `echo ${base64} | base64 -d > /k`, base64, texts[random.int(texts.length)]!];
      return random.mutate(Buffer.from(forms[random.int(forms.length)]!), random.int(6));
    },
    run: (input) => scanConfigValue(input.toString('utf8'), []),
  },
];
export default targets;
