import test from 'ava';
import { planImageScans } from '../../src/build/scan-step.js';

const DOCKERFILE = `ARG BASE=debian:bookworm
FROM \${BASE} AS deps
RUN true
FROM deps AS builder
RUN true
FROM busybox:1.36 AS runtime
COPY --from=builder /x /x
`;

test('planImageScans: the final image with its base (FROM ${ARG} resolved by the build args over the global ARG)', (t) => {
  t.deepEqual(planImageScans(DOCKERFILE, undefined, [], []), [{ item: { target: undefined, reason: 'final-image' }, baseImage: 'busybox:1.36' }]);
  t.deepEqual(planImageScans(DOCKERFILE, 'builder', [], [{ name: 'BASE', value: 'debian:trixie' }]), [
    { item: { target: 'builder', reason: 'final-image' }, baseImage: 'debian:trixie' },
  ]);
});

test('planImageScans: a mode=max cache export adds every stage the target depends on, each with its base', (t) => {
  const scans = planImageScans(
    DOCKERFILE,
    'runtime',
    [
      {
        type: 'registry',
        attrs: [
          ['ref', 'r/cache'],
          ['mode', 'max'],
        ],
      },
    ],
    [],
  );
  t.deepEqual(scans.map((s) => [s.item.target, s.item.reason, s.baseImage]).sort(), [
    ['builder', 'cache-export', 'debian:bookworm'],
    ['deps', 'cache-export', 'debian:bookworm'],
    ['runtime', 'final-image', 'busybox:1.36'],
  ]);
});
