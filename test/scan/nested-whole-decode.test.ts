// Small nested compressed inputs are decoded at once (gunzipSync, inflateRawSync) instead of through a
// stream: the inner file must get the same bytes and the layer the same notes either way, for valid,
// multi-member, padded, truncated, damaged and bomb inputs, and under every bound. Compares the two
// paths of DecompressSink on the same bytes (made by Node's zlib), and checks the
// fast path is the one taken for a plain small member (no stream object made).
import test from 'ava';
import { createInflateRaw, deflateRawSync, gzipSync, inflateRawSync, gunzipSync } from 'node:zlib';
import type { Duplex } from 'node:stream';
import { createDecompressor } from '../../src/scan/compression.js';
import { DEFAULT_NESTED_LIMITS, type NestedLimits, type ScanContext } from '../../src/scan/nested/context.js';
import { DecompressSink, WHOLE_INPUT_MAX, type WholeDecoder } from '../../src/scan/nested/decompress.js';
import type { EntrySink } from '../../src/scan/tar-parser.js';
import { createRandom } from '../helpers/seeded-random.js';

interface Outcome {
  bytes: Buffer;
  ended: boolean;
  notes: string[];
  inflated: number;
  streams: number;
  wholeCalls: number;
}

type Kind = 'gzip' | 'deflate';

const MAKE: Record<Kind, () => Duplex> = {
  gzip: () => createDecompressor('gzip')!,
  deflate: () => createInflateRaw({ chunkSize: 1 << 20 }),
};
const WHOLE: Record<Kind, WholeDecoder> = {
  gzip: (input, maxOutputLength) => gunzipSync(input, { maxOutputLength }),
  deflate: (input, maxOutputLength) => inflateRawSync(input, { maxOutputLength }),
};

/** Run `input` (in `chunks` pieces) through a DecompressSink, with the whole-input path or without. */
async function run(kind: Kind, input: Buffer, whole: boolean, limits: Partial<NestedLimits> = {}, chunks = 3): Promise<Outcome> {
  const ctx: ScanContext = {
    createScanner: () => {
      throw new Error('not used');
    },
    keys: { knownKeys: [], allowKeys: [] },
    findings: [],
    notes: [],
    limits: { ...DEFAULT_NESTED_LIMITS, ...limits },
    inflated: 0,
    bytesScanned: 0,
  };
  const parts: Buffer[] = [];
  let ended = false;
  const inner: EntrySink = {
    write: (chunk) => void parts.push(Buffer.from(chunk)),
    end: () => {
      ended = true;
    },
  };
  let streams = 0;
  let wholeCalls = 0;
  const factory = () => {
    streams++;
    return MAKE[kind]();
  };
  const decoder: WholeDecoder = (bytes, max) => {
    wholeCalls++;
    return WHOLE[kind](bytes, max);
  };
  const sink = whole ? new DecompressSink(ctx, factory, inner, 'layer/file', null, kind, decoder) : new DecompressSink(ctx, factory(), inner, 'layer/file', null, kind);
  const step = Math.max(1, Math.ceil(input.length / chunks));
  for (let at = 0; at < input.length; at += step) {
    const written = sink.write(input.subarray(at, at + step));
    if (written) await written;
  }
  await sink.end();
  return { bytes: Buffer.concat(parts), ended, notes: ctx.notes.map((n) => `${n.kind}: ${n.message}`), inflated: ctx.inflated, streams, wholeCalls };
}

/**
 * The stream is fed the input in one piece: how much of a damaged stream's output comes out before
 * zlib's error depends on where the writes were cut (the output of the failing write is dropped),
 * and a replay hands the stream the held input in one piece. The whole-input path gets it in pieces.
 */
async function sameBothWays(t: import('ava').ExecutionContext, kind: Kind, input: Buffer, limits: Partial<NestedLimits> = {}): Promise<Outcome> {
  const streamed = await run(kind, input, false, limits, 1);
  const whole = await run(kind, input, true, limits, 3);
  t.true(whole.ended && streamed.ended, 'the inner file is ended either way');
  t.deepEqual(whole.notes, streamed.notes);
  t.is(whole.bytes.length, streamed.bytes.length);
  t.true(whole.bytes.equals(streamed.bytes), 'the inner file gets the same bytes');
  t.is(whole.inflated, streamed.inflated);
  return whole;
}

const random = createRandom(20261202);
const text = Buffer.from(Array.from({ length: 4000 }, (_, i) => `line ${i} ${random.int(1e9)}\n`).join(''));

test('a small valid gzip is decoded at once: no stream is made, same bytes as the stream', async (t) => {
  const whole = await sameBothWays(t, 'gzip', gzipSync(text));
  t.is(whole.streams, 0);
  t.is(whole.wholeCalls, 1);
  t.true(whole.bytes.equals(text));
});

test('a small deflated zip member is decoded at once; an empty one gives an empty inner file', async (t) => {
  const whole = await sameBothWays(t, 'deflate', deflateRawSync(text));
  t.is(whole.streams, 0);
  const empty = await sameBothWays(t, 'deflate', deflateRawSync(Buffer.alloc(0)));
  t.is(empty.bytes.length, 0);
});

test('multi-member gzip and trailing zero padding give the same bytes both ways', async (t) => {
  const one = gzipSync(text);
  const multi = await sameBothWays(t, 'gzip', Buffer.concat([one, one]));
  t.is(multi.bytes.length, 2 * text.length);
  await sameBothWays(t, 'gzip', Buffer.concat([one, Buffer.alloc(512)]));
});

test('a truncated small gzip: what inflated before the cut still reaches the inner file, with the same note', async (t) => {
  const noisy = Buffer.concat([text, random.bytes(100_000)]);
  const cut = gzipSync(noisy).subarray(0, 60_000);
  const whole = await sameBothWays(t, 'gzip', cut);
  t.true(whole.bytes.length > text.length, 'the part before the cut (holding the text) was handed on');
  t.true(whole.bytes.subarray(0, text.length).equals(text));
  t.is(whole.notes.length, 1);
  t.regex(whole.notes[0]!, /^nested-unreadable: gzip data could not be decompressed/);
  t.is(whole.streams, 1, 'replayed through the stream');
});

test('damaged gzip (bit flips, garbage after the stream) gives the same notes and bytes both ways', async (t) => {
  const good = gzipSync(text);
  for (let i = 0; i < 40; i++) await sameBothWays(t, 'gzip', random.mutate(good, 1 + random.int(4)));
  await sameBothWays(t, 'gzip', Buffer.concat([good, Buffer.from('not gzip at all')]));
});

test('a small input that inflates past the ratio floor (a bomb) is replayed: the same ratio-bound note', async (t) => {
  const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024));
  t.true(bomb.length <= WHOLE_INPUT_MAX);
  const whole = await sameBothWays(t, 'gzip', bomb);
  t.regex(whole.notes.join('\n'), /maxRatio/);
});

test('the inflate budget and the time bound give the same notes both ways', async (t) => {
  const input = gzipSync(text);
  const budget = await sameBothWays(t, 'gzip', input, { maxInflatedBytes: 1000 });
  t.regex(budget.notes.join('\n'), /maxInflatedBytes/);
  const time = await sameBothWays(t, 'gzip', input, { maxSeconds: 0 });
  t.regex(time.notes.join('\n'), /maxSeconds/);
});

test('an input larger than WHOLE_INPUT_MAX is streamed (the held part replayed first), same bytes', async (t) => {
  const big = random.bytes(WHOLE_INPUT_MAX + 50_000);
  const whole = await sameBothWays(t, 'gzip', gzipSync(big));
  t.is(whole.streams, 1);
  t.is(whole.wholeCalls, 0);
  t.true(whole.bytes.equals(big));
});
