/**
 * Elliptic curves as OpenPGP names them (by OID) and as libgcrypt describes them (the domain
 * parameters that go into a keygrip). Parameters are copied from libgcrypt's cipher/ecc-curves.c
 * domain table; a leading '-' is kept because libgcrypt hashes the magnitude of such values.
 */
export type CurveInfo = {
  /** libgcrypt's curve name, as gpg-agent writes it in `(curve ...)`. */
  name: string;
  /** Other names gpg-agent or users write. */
  aliases: string[];
  /** OID body bytes as stored in an OpenPGP key packet (hex). */
  oid: string;
  model: 'weierstrass' | 'edwards' | 'montgomery';
  /** Size in bits as gpg reports it. */
  bits: number;
  p: string;
  a: string;
  b: string;
  n: string;
  gx: string;
  gy: string;
};

/** Every curve whose keygrip eic-build can compute. */
export const CURVES: readonly CurveInfo[] = [
  {
    name: 'Ed25519',
    aliases: ['ed25519', '1.3.6.1.4.1.11591.15.1'],
    oid: '2B06010401DA470F01',
    model: 'edwards',
    bits: 255,
    p: '7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFED',
    a: '-01',
    b: '-2DFC9311D490018C7338BF8688861767FF8FF5B2BEBE27548A14B235ECA6874A',
    n: '1000000000000000000000000000000014DEF9DEA2F79CD65812631A5CF5D3ED',
    gx: '216936D3CD6E53FEC0A4E231FDD6DC5C692CC7609525A7B2C9562D608F25D51A',
    gy: '6666666666666666666666666666666666666666666666666666666666666658',
  },
  {
    name: 'Curve25519',
    aliases: ['cv25519', 'X25519', '1.3.6.1.4.1.3029.1.5.1', '1.3.101.110'],
    oid: '2B060104019755010501',
    model: 'montgomery',
    bits: 255,
    p: '7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFED',
    a: '01DB41',
    b: '01',
    n: '1000000000000000000000000000000014DEF9DEA2F79CD65812631A5CF5D3ED',
    gx: '0000000000000000000000000000000000000000000000000000000000000009',
    gy: '20AE19A1B8A086B4E01EDD2C7748D14C923D4D7E6D7C61B229E9C5A27ECED3D9',
  },
  {
    name: 'NIST P-256',
    aliases: ['nistp256', 'prime256v1', 'secp256r1', '1.2.840.10045.3.1.7'],
    oid: '2A8648CE3D030107',
    model: 'weierstrass',
    bits: 256,
    p: 'ffffffff00000001000000000000000000000000ffffffffffffffffffffffff',
    a: 'ffffffff00000001000000000000000000000000fffffffffffffffffffffffc',
    b: '5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b',
    n: 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551',
    gx: '6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296',
    gy: '4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5',
  },
  {
    name: 'NIST P-384',
    aliases: ['nistp384', 'secp384r1', '1.3.132.0.34'],
    oid: '2B81040022',
    model: 'weierstrass',
    bits: 384,
    p: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000ffffffff',
    a: 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffff0000000000000000fffffffc',
    b: 'b3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aef',
    n: 'ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973',
    gx: 'aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a385502f25dbf55296c3a545e3872760ab7',
    gy: '3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c00a60b1ce1d7e819d7a431d7c90ea0e5f',
  },
  {
    name: 'NIST P-521',
    aliases: ['nistp521', 'secp521r1', '1.3.132.0.35'],
    oid: '2B81040023',
    model: 'weierstrass',
    bits: 521,
    p: '01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff',
    a: '01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffc',
    b: '051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00',
    n: '1fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409',
    gx: '00c6858e06b70404e9cd9e3ecb662395b4429c648139053fb521f828af606b4d3dbaa14b5e77efe75928fe1dc127a2ffa8de3348b3c1856a429bf97e7e31c2e5bd66',
    gy: '011839296a789a3bc0045c8a5fb42c7d1bd998f54449579b446817afbd17273e662c97ee72995ef42640c550b9013fad0761353c7086a272c24088be94769fd16650',
  },
  {
    name: 'brainpoolP256r1',
    aliases: ['1.3.36.3.3.2.8.1.1.7'],
    oid: '2B2403030208010107',
    model: 'weierstrass',
    bits: 256,
    p: 'a9fb57dba1eea9bc3e660a909d838d726e3bf623d52620282013481d1f6e5377',
    a: '7d5a0975fc2c3057eef67530417affe7fb8055c126dc5c6ce94a4b44f330b5d9',
    b: '26dc5c6ce94a4b44f330b5d9bbd77cbf958416295cf7e1ce6bccdc18ff8c07b6',
    n: 'a9fb57dba1eea9bc3e660a909d838d718c397aa3b561a6f7901e0e82974856a7',
    gx: '8bd2aeb9cb7e57cb2c4b482ffc81b7afb9de27e1e3bd23c23a4453bd9ace3262',
    gy: '547ef835c3dac4fd97f8461a14611dc9c27745132ded8e545c1d54c72f046997',
  },
  {
    name: 'brainpoolP384r1',
    aliases: ['1.3.36.3.3.2.8.1.1.11'],
    oid: '2B240303020801010B',
    model: 'weierstrass',
    bits: 384,
    p: '8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b412b1da197fb71123acd3a729901d1a71874700133107ec53',
    a: '7bc382c63d8c150c3c72080ace05afa0c2bea28e4fb22787139165efba91f90f8aa5814a503ad4eb04a8c7dd22ce2826',
    b: '04a8c7dd22ce28268b39b55416f0447c2fb77de107dcd2a62e880ea53eeb62d57cb4390295dbc9943ab78696fa504c11',
    n: '8cb91e82a3386d280f5d6f7e50e641df152f7109ed5456b31f166e6cac0425a7cf3ab6af6b7fc3103b883202e9046565',
    gx: '1d1c64f068cf45ffa2a63a81b7c13f6b8847a3e77ef14fe3db7fcafe0cbd10e8e826e03436d646aaef87b2e247d4af1e',
    gy: '8abe1d7520f9c2a45cb1eb8e95cfd55262b70b29feec5864e19c054ff99129280e4646217791811142820341263c5315',
  },
  {
    name: 'brainpoolP512r1',
    aliases: ['1.3.36.3.3.2.8.1.1.13'],
    oid: '2B240303020801010D',
    model: 'weierstrass',
    bits: 512,
    p: 'aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca703308717d4d9b009bc66842aecda12ae6a380e62881ff2f2d82c68528aa6056583a48f3',
    a: '7830a3318b603b89e2327145ac234cc594cbdd8d3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94ca',
    b: '3df91610a83441caea9863bc2ded5d5aa8253aa10a2ef1c98b9ac8b57f1117a72bf2c7b9e7c1ac4d77fc94cadc083e67984050b75ebae5dd2809bd638016f723',
    n: 'aadd9db8dbe9c48b3fd4e6ae33c9fc07cb308db3b3c9d20ed6639cca70330870553e5c414ca92619418661197fac10471db1d381085ddaddb58796829ca90069',
    gx: '81aee4bdd82ed9645a21322e9c4c6a9385ed9f70b5d916c1b43b62eef4d0098eff3b1f78e2d0d48d50d1687b93b97d5f7c6d5047406a5e688b352209bcb9f822',
    gy: '7dde385d566332ecc0eabfa9cf7822fdf209f70024a57b1aa000c55b881f8111b2dcde494a5f485e5bca4bd88a2763aed1ca2b2fa8f0540678cd1e0f3ad80892',
  },
  {
    name: 'secp256k1',
    aliases: ['1.3.132.0.10'],
    oid: '2B8104000A',
    model: 'weierstrass',
    bits: 256,
    p: 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F',
    a: '00',
    b: '07',
    n: 'FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141',
    gx: '79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798',
    gy: '483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8',
  },
];

/** OIDs of curves OpenPGP knows but whose keygrip eic-build does not compute (key is still recognised). */
export const OTHER_CURVE_OIDS: Readonly<Record<string, string>> = {
  '2B6571': 'Ed448',
  '2B656F': 'X448',
};

const byOid = new Map(CURVES.map((curve) => [curve.oid.toUpperCase(), curve]));
const byName = new Map<string, CurveInfo>();
for (const curve of CURVES) {
  byName.set(curve.name.toLowerCase(), curve);
  for (const alias of curve.aliases) byName.set(alias.toLowerCase(), curve);
}

/** The curve an OpenPGP OID (hex, upper-case) names, if known. */
export function curveByOid(oidHex: string): CurveInfo | undefined {
  return byOid.get(oidHex.toUpperCase());
}

/** The curve a gpg-agent `(curve NAME)` names, if known. */
export function curveByName(name: string): CurveInfo | undefined {
  return byName.get(name.toLowerCase());
}
