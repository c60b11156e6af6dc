import test from 'ava';
import { randomBytes } from 'node:crypto';
import { candidateAt, createReferenceKernel } from '../../src/detectors/candidate-kernel.js';
import { CONTENT_TRIGGERS, getCandidateKernel } from '../../src/detectors/registry.js';

function collect(kernel: ReturnType<typeof getCandidateKernel>, parts: Uint8Array[], from: number, limit: number): number[] {
  const found: number[] = [];
  kernel.scan(parts, from, limit, (position: number) => found.push(position));
  return found;
}

test('the WebAssembly SIMD kernel is available on this Node', (t) => {
  t.is(getCandidateKernel().kind, 'wasm-simd');
});

test('the SIMD kernel finds exactly the positions the JavaScript predicate finds (random data with planted patterns, odd bounds)', (t) => {
  const kernel = getCandidateKernel();
  const reference = createReferenceKernel(CONTENT_TRIGGERS);
  const patterns = [
    '\x94\x58\x04',
    '\x95\x01\x0d\x04',
    '\x96\x00\x00\x01\x00\x04',
    '\xc5\x58\x04',
    '\xc7\xc1\x10\x04',
    '\xc5\xff\x00\x00\x20\x00\x04',
    '-----BEGIN',
    'private-key',
    'LS0tLS1C',
    'PuTTY-User-Key-File-3',
    '-\x00-\x00-\x00-\x00-\x00B\x00E\x00',
    '\xc5\x4b\x06',
    '\xc7\xc2\xda\x06',
  ];
  for (let round = 0; round < 40; round++) {
    const data = randomBytes(1000 + round * 997);
    for (let k = 0; k < 30; k++) {
      const pattern = Buffer.from(patterns[(round + k) % patterns.length]!, 'latin1');
      pattern.copy(data, (k * 7919 + round * 31) % (data.length - pattern.length));
    }
    const head = data.subarray(0, round * 3);
    const tail = data.subarray(round * 3);
    const from = round % 17;
    const limit = data.length - kernel.lookahead - (round % 5);
    const simd = collect(kernel, [head, tail], from, limit);
    const js = collect(reference, [head, tail], from, limit);
    t.deepEqual(simd, js);
    t.true(simd.length >= 15, `${simd.length} candidates`);
    for (const position of simd) t.true(candidateAt(CONTENT_TRIGGERS, data, position) && position >= from && position < limit);
  }
});

test('stale bytes of an earlier window never produce candidates past the end', (t) => {
  const kernel = getCandidateKernel();
  kernel.scan([Buffer.from('x'.repeat(100) + '-----BEGIN PGP')], 0, 0, () => undefined);
  const found = collect(kernel, [Buffer.from('x'.repeat(100))], 0, 100);
  t.deepEqual(found, []);
});
