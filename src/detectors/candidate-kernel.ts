/**
 * The hot loop of the content scanner: find the few byte positions where private key material
 * could start, at memory speed. Random and compressed data must pass through at well over
 * 1.5 GB/s, which a JavaScript byte loop cannot do (~0.4 GB/s measured) and several
 * Buffer.indexOf passes cannot either (~2.7 GB/s each, one per marker). So the loop is a small
 * WebAssembly SIMD function, assembled below from the detectors' triggers (trigger.ts; each tests
 * two bytes), that tests 16 positions at once. Each distinct byte test is computed once per block
 * and triggers that share a first-byte test share its AND: the fewer vector operations, the faster
 * (measured). The kernel reads up to 32 + lookahead bytes past `limit`; callers keep
 * `limit` <= length - lookahead and the window is zero-padded by 64 bytes.
 *
 * Candidates are only hints: every one is validated by a detector. `candidateAt` is the same
 * predicate in plain JavaScript (the fallback when WebAssembly SIMD is missing, and the reference
 * the tests compare the kernel with).
 */

import { triggerHolds, triggerLookahead, type Trigger } from './trigger.js';

/** True when any trigger holds at `pos` (bytes past the end read as 0): the kernel's predicate in plain JavaScript. */
export function candidateAt(triggers: readonly Trigger[], bytes: Uint8Array, pos: number): boolean {
  for (const trigger of triggers) if (triggerHolds(trigger, bytes, pos)) return true;
  return false;
}

// ---- a tiny WebAssembly assembler: just what the kernel needs ----
type Code = number[];
const SIMD = 0xfd;
const op = (code: number): Code => [SIMD, code];
const splat = (byte: number): Code => [SIMD, 0x0c, ...new Array<number>(16).fill(byte)];
const get = (index: number): Code => [0x20, index];
const set = (index: number): Code => [0x21, index];
const and = (...xs: Code[]): Code => xs.slice(1).reduce<Code>((acc, x) => [...acc, ...x, ...op(0x4e)], xs[0]!);
const or = (...xs: Code[]): Code => xs.slice(1).reduce<Code>((acc, x) => [...acc, ...x, ...op(0x50)], xs[0]!);
const i32const = (value: number): Code => [0x41, ...sleb(value)];
function uleb(value: number): Code {
  const out: Code = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    out.push(byte);
  } while (value !== 0);
  return out;
}
function sleb(value: number): Code {
  const out: Code = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}
const section = (id: number, content: Code): Code => [id, ...uleb(content.length), ...content];
const name = (text: string): Code => [...uleb(text.length), ...Buffer.from(text, 'latin1')];

/** Memory layout of the kernel: the window at 0, candidate records at OUT_BASE. */
export const WINDOW_MAX = (1 << 20) + 256;
const OUT_BASE = 2 << 20;
const PAGES = 48;

const key = (mask: number, value: number): string => `${mask}:${value}`;

function assemble(triggers: readonly Trigger[]): Uint8Array {
  // Params: 0 = position, 1 = end, 2 = output cursor; then v128 locals, allocated below: one per
  // splatted constant (hoisted out of the loop: materialising v128 constants inside it halves the
  // speed), one per loaded lane, per masked first byte, per distinct byte test, and two block masks.
  // Two 16-byte blocks per iteration share one branch.
  let nextLocal = 3;
  const constants = new Map<number, number>();
  const constant = (byte: number): number => {
    if (!constants.has(byte)) constants.set(byte, nextLocal++);
    return constants.get(byte)!;
  };
  const lanes = new Map<number, number>([[0, -1]]);
  for (const trigger of triggers) {
    if (trigger.at < 1 || trigger.at > 15) throw new RangeError(`trigger offset ${trigger.at} outside 1..15`);
    lanes.set(trigger.at, -1);
  }
  for (const offset of lanes.keys()) lanes.set(offset, nextLocal++);
  const maskedFirst = new Map<number, number>();
  for (const trigger of triggers) {
    const mask = trigger.firstMask ?? 0xff;
    if (mask !== 0xff && !maskedFirst.has(mask)) maskedFirst.set(mask, nextLocal++);
  }
  // Group the triggers by their first-byte test: (first test) AND (any of its second-byte tests).
  const groups = new Map<string, { mask: number; value: number; local: number; seconds: string[] }>();
  const seconds = new Map<string, { at: number; mask: number; value: number; local: number }>();
  for (const trigger of triggers) {
    const firstKey = key(trigger.firstMask ?? 0xff, trigger.first);
    if (!groups.has(firstKey)) groups.set(firstKey, { mask: trigger.firstMask ?? 0xff, value: trigger.first, local: nextLocal++, seconds: [] });
    const secondKey = `${trigger.at}:${key(trigger.mask ?? 0xff, trigger.equals)}`;
    if (!seconds.has(secondKey)) seconds.set(secondKey, { at: trigger.at, mask: trigger.mask ?? 0xff, value: trigger.equals, local: nextLocal++ });
    const group = groups.get(firstKey)!;
    if (!group.seconds.includes(secondKey)) group.seconds.push(secondKey);
  }
  const MA = nextLocal++;
  const MB = nextLocal++;
  for (const group of groups.values()) {
    constant(group.value);
    if (group.mask !== 0xff) constant(group.mask);
  }
  for (const second of seconds.values()) {
    constant(second.value);
    if (second.mask !== 0xff) constant(second.mask);
  }
  const vectorLocals = nextLocal - 3;
  const K = (byte: number): Code => get(constants.get(byte)!);
  const masked = (x: Code, mask: number): Code => (mask === 0xff ? x : [...x, ...K(mask), ...op(0x4e)]);
  const eqK = (x: Code, byte: number): Code => [...x, ...K(byte), ...op(0x23)];
  const load = (offset: number, local: number): Code => [...get(0), SIMD, 0x00, 0x00, ...uleb(offset), ...set(local)];
  const block = (base: number, out: number): Code => [
    ...[...lanes].flatMap(([offset, local]) => load(base + offset, local)),
    ...[...maskedFirst].flatMap(([mask, local]) => [...masked(get(lanes.get(0)!), mask), ...set(local)]),
    ...[...groups.values()].flatMap((group) => [...eqK(group.mask === 0xff ? get(lanes.get(0)!) : get(maskedFirst.get(group.mask)!), group.value), ...set(group.local)]),
    ...[...seconds.values()].flatMap((second) => [...eqK(masked(get(lanes.get(second.at)!), second.mask), second.value), ...set(second.local)]),
    ...or(...[...groups.values()].map((group) => and(get(group.local), or(...group.seconds.map((s) => get(seconds.get(s)!.local)))))),
    ...set(out),
  ];
  const record = (delta: number, mask: number): Code => [
    ...get(2),
    ...get(0),
    ...(delta ? [...i32const(delta), 0x6a] : []),
    0x36,
    0x02,
    0x00, // i32.store position
    ...get(2),
    ...get(mask),
    ...op(0x64),
    0x36,
    0x02,
    0x04, // i32.store bitmask at +4
    ...get(2),
    ...i32const(8),
    0x6a,
    ...set(2),
  ];
  const init: Code = [...constants].flatMap(([byte, local]) => [...splat(byte), ...set(local)]);
  const body: Code = [
    ...init,
    0x02,
    0x40, // block
    0x03,
    0x40, // loop
    ...get(0),
    ...get(1),
    0x4f,
    0x0d,
    0x01, // if pos >= end: break
    ...block(0, MA),
    ...block(16, MB),
    ...get(MA),
    ...get(MB),
    ...op(0x50),
    ...op(0x53), // v128.any_true(a | b)
    0x04,
    0x40, // if
    ...record(0, MA),
    ...record(16, MB),
    0x0b, // end if
    ...get(0),
    ...i32const(32),
    0x6a,
    ...set(0),
    0x0c,
    0x00, // br loop
    0x0b,
    0x0b, // end loop, end block
    ...get(2),
    0x0b,
  ];
  const locals: Code = [0x01, ...uleb(vectorLocals), 0x7b];
  const func = [...locals, ...body];
  const bytes: Code = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f]),
    ...section(3, [0x01, 0x00]),
    ...section(5, [0x01, 0x00, ...uleb(PAGES)]),
    ...section(7, [0x02, ...name('memory'), 0x02, 0x00, ...name('scan'), 0x00, 0x00]),
    ...section(10, [0x01, ...uleb(func.length), ...func]),
  ];
  return new Uint8Array(bytes);
}

/**
 * Scans one window of bytes for candidates. The window is given in parts (the carried tail of
 * the previous chunk, then the new bytes) and copied once into the kernel's memory; `view()` is
 * that copy, valid until the next `scan`, so candidates are inspected without another copy.
 */
export type CandidateKernel = {
  readonly kind: 'wasm-simd' | 'javascript';
  /** Bytes a candidate test looks ahead of its position: keep `limit` <= window length - lookahead. */
  readonly lookahead: number;
  /** Calls `found(position)` for every candidate position in [from, limit), ascending. Returns the window length. */
  scan(parts: readonly Uint8Array[], from: number, limit: number, found: (position: number) => void): number;
  /** The window of the last `scan` (bytes past its length read as 0 up to 32 bytes). */
  view(): Uint8Array;
};

function copyParts(heap: Uint8Array, parts: readonly Uint8Array[]): number {
  let length = 0;
  for (const part of parts) {
    heap.set(part, length);
    length += part.length;
  }
  // Zero the lookahead past the end so stale bytes of an earlier window never match.
  heap.fill(0, length, length + 64);
  return length;
}

// The WebAssembly global as far as this file uses it (the project's lib settings do not declare it).
type WasmApi = {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

function createWasmKernel(triggers: readonly Trigger[]): CandidateKernel | null {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  const bytes = assemble(triggers);
  if (!wasm || !wasm.validate(bytes)) return null;
  const instance = new wasm.Instance(new wasm.Module(bytes), {});
  const memory = instance.exports['memory'] as { buffer: ArrayBuffer };
  const scanFn = instance.exports['scan'] as (start: number, end: number, out: number) => number;
  const heap = new Uint8Array(memory.buffer);
  const records = new Int32Array(memory.buffer, OUT_BASE);
  let length = 0;
  return {
    kind: 'wasm-simd',
    lookahead: triggerLookahead(triggers),
    scan(parts, from, limit, found) {
      let total = 0;
      for (const part of parts) total += part.length;
      if (total > WINDOW_MAX) throw new RangeError('window too large for the candidate kernel');
      length = copyParts(heap, parts);
      if (limit <= from) return length;
      const end = scanFn(from, limit, OUT_BASE);
      const count = (end - OUT_BASE) >> 3;
      for (let r = 0; r < count; r++) {
        const base = records[2 * r]!;
        let bits = records[2 * r + 1]!;
        while (bits !== 0) {
          const low = bits & -bits;
          const position = base + 31 - Math.clz32(low);
          bits ^= low;
          if (position >= limit) break;
          found(position);
        }
      }
      return length;
    },
    view() {
      return heap.subarray(0, length);
    },
  };
}

function createJavaScriptKernel(triggers: readonly Trigger[]): CandidateKernel {
  const heap = new Uint8Array(WINDOW_MAX + 64);
  let length = 0;
  return {
    kind: 'javascript',
    lookahead: triggerLookahead(triggers),
    scan(parts, from, limit, found) {
      length = copyParts(heap, parts);
      for (let position = from; position < limit; position++) if (candidateAt(triggers, heap, position)) found(position);
      return length;
    },
    view() {
      return heap.subarray(0, length);
    },
  };
}

/** The fastest kernel this Node supports for `triggers` (the registry keeps one per thread). */
export function createCandidateKernel(triggers: readonly Trigger[]): CandidateKernel {
  return createWasmKernel(triggers) ?? createJavaScriptKernel(triggers);
}

/** A plain-JavaScript kernel (tests compare it with the WebAssembly one). */
export function createReferenceKernel(triggers: readonly Trigger[]): CandidateKernel {
  return createJavaScriptKernel(triggers);
}
