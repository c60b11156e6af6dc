// The package-record parsers of provenance triage (src/scan/provenance/): dpkg md5sums and status,
// Python RECORD, Spack's version file, the armored-block identity, and the package index over them. They read image content, so
// any bytes must parse to something or nothing, never throw.
import { createHash } from 'node:crypto';
import { parseDpkgMd5sums, parseDpkgStatus, parseMd5sumsName } from '../../../src/scan/provenance/dpkg.js';
import { armoredBlockIdentity } from '../../../src/scan/provenance/block-identity.js';
import { PackageIndex } from '../../../src/scan/provenance/package-index.js';
import { parseDistInfoName, parsePythonRecord } from '../../../src/scan/provenance/python-record.js';
import { parseSpackVersion } from '../../../src/scan/provenance/spack-tree.js';
import type { FuzzTarget } from '../fuzz-target.js';

const md5 = createHash('md5').update('x').digest('hex');
const sha = createHash('sha256').update('x').digest('base64url');
const SPECIMEN = Buffer.from(
  [
    `${md5}  usr/share/doc/a/examples/key.pem`,
    '--',
    'Package: a',
    'Status: install ok installed',
    'Architecture: amd64',
    'Version: 1:2.3-4',
    'Conffiles:',
    ` /etc/a.conf ${md5}`,
    '',
    '--',
    `a/tests/k.pem,sha256=${sha},1`,
    '"a/b,c.py",sha256=x,2',
    '../../../bin/a,,',
    '__version__ = "1.1.0"',
  ].join('\n'),
);

const target: FuzzTarget = {
  name: 'scan/provenance/records',
  ciRounds: 3000,
  makeInput(random) {
    return random.int(3) === 0 ? random.bytes(random.int(300)) : random.mutate(SPECIMEN);
  },
  run(bytes) {
    const text = bytes.toString('utf8');
    parseDpkgMd5sums(text);
    parseDpkgStatus(text);
    parseMd5sumsName(`var/lib/dpkg/info/${text.slice(0, 20)}.md5sums`);
    parsePythonRecord('usr/lib/python3/dist-packages/a-1.dist-info/RECORD', text);
    parseDistInfoName(`${text.slice(0, 30)}/RECORD`);
    parseSpackVersion(text);
    armoredBlockIdentity(bytes, 0);
    armoredBlockIdentity(Buffer.concat([Buffer.from('-----BEGIN RSA PRIVATE KEY-----\n'), bytes, Buffer.from('\n-----END RSA PRIVATE KEY-----\n')]), 0);
    const wanted = new Set(['usr/share/doc/a/examples/key.pem', 'etc/a.conf', 'usr/lib/python3/dist-packages/a/tests/k.pem']);
    const index = new PackageIndex(
      [
        {
          files: [],
          whiteouts: [],
          opaqueDirs: [],
          records: [
            { path: 'var/lib/dpkg/info/a:amd64.md5sums', kind: 'dpkg-md5sums', text },
            { path: 'var/lib/dpkg/status', kind: 'dpkg-status', text },
            { path: 'usr/lib/python3/dist-packages/a-1.dist-info/RECORD', kind: 'python-record', text },
            { path: 'opt/spack/lib/spack/spack/__init__.py', kind: 'spack-version', text },
          ],
        },
      ],
      wanted,
    );
    for (const path of wanted) index.recordsOf(path);
  },
};
export default target;
