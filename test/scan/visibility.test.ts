import test from 'ava';
import { ancestorsOf, decideVisibility, type LayerChanges } from '../../src/scan/visibility.js';

const layer = (changes: Partial<LayerChanges>): LayerChanges => ({ files: [], whiteouts: [], opaqueDirs: [], ...changes });

const cases: { name: string; layers: LayerChanges[]; path: string; at: number; expected: ReturnType<typeof decideVisibility> }[] = [
  { name: 'nothing later', layers: [layer({ files: ['k'] })], path: 'k', at: 0, expected: { visible: true } },
  {
    name: 'whiteout of the file',
    layers: [layer({ files: ['root/.gnupg/k.key'] }), layer({}), layer({ whiteouts: ['root/.gnupg/k.key'] })],
    path: 'root/.gnupg/k.key',
    at: 0,
    expected: { visible: false, layerIndex: 2, how: 'whiteout' },
  },
  {
    name: 'whiteout of a parent directory',
    layers: [layer({ files: ['root/.gnupg/k.key'] }), layer({ whiteouts: ['root/.gnupg'] })],
    path: 'root/.gnupg/k.key',
    at: 0,
    expected: { visible: false, layerIndex: 1, how: 'whiteout' },
  },
  {
    name: 'opaque parent directory',
    layers: [layer({ files: ['home/u/k'] }), layer({ opaqueDirs: ['home'] })],
    path: 'home/u/k',
    at: 0,
    expected: { visible: false, layerIndex: 1, how: 'opaque-directory' },
  },
  {
    name: 'opaque directory in the same layer does not hide its own files',
    layers: [layer({ files: ['home/u/k'], opaqueDirs: ['home/u'] })],
    path: 'home/u/k',
    at: 0,
    expected: { visible: true },
  },
  {
    name: 'overwritten by the same path',
    layers: [layer({ files: ['etc/key'] }), layer({ files: ['etc/key'] })],
    path: 'etc/key',
    at: 0,
    expected: { visible: false, layerIndex: 1, how: 'overwritten' },
  },
  {
    name: 'parent replaced by a file',
    layers: [layer({ files: ['etc/ssl/key'] }), layer({ files: ['etc/ssl'] })],
    path: 'etc/ssl/key',
    at: 0,
    expected: { visible: false, layerIndex: 1, how: 'overwritten' },
  },
  {
    name: 'whiteout of a sibling with a common prefix does not hide',
    layers: [layer({ files: ['etc/key'] }), layer({ whiteouts: ['etc/ke', 'etc/key2'], opaqueDirs: ['et'] })],
    path: 'etc/key',
    at: 0,
    expected: { visible: true },
  },
  {
    name: 'earlier layers never hide later ones',
    layers: [layer({ whiteouts: ['k'] }), layer({ files: ['k'] })],
    path: 'k',
    at: 1,
    expected: { visible: true },
  },
  {
    name: 'the first hiding layer is named',
    layers: [layer({ files: ['k'] }), layer({ files: ['k'] }), layer({ whiteouts: ['k'] })],
    path: 'k',
    at: 0,
    expected: { visible: false, layerIndex: 1, how: 'overwritten' },
  },
];

for (const c of cases) {
  test(`visibility: ${c.name}`, (t) => {
    t.deepEqual(decideVisibility(c.path, c.at, c.layers), c.expected);
  });
}

test('ancestorsOf lists every parent directory', (t) => {
  t.deepEqual(ancestorsOf('a/b/c'), ['a', 'a/b']);
  t.deepEqual(ancestorsOf('a'), []);
});
