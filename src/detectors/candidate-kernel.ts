/**
 * The hot loop of the content scanner: find the few byte positions where private key material
 * could start, at memory speed. Random and compressed data must pass through at well over
 * 1.5 GB/s, which a JavaScript byte loop cannot do (~0.4 GB/s measured) and several
 * Buffer.indexOf passes cannot either (~2.7 GB/s each, one per marker). So the loop is a small
 * WebAssembly SIMD function, assembled below from readable parts, that tests 16 positions at once:
 *
 * - binary OpenPGP secret-key packet headers: a tag-5/tag-7 CTB (old format 0x94-0x96/0x9C-0x9E,
 *   new format 0xC5/0xC7; an indeterminate length is never used for keys) followed, where its length field ends, by key version 4 (v5/v6 binary
 *   packets are left out: testing {4,5,6} costs a third of the speed; armored v5/v6 keys are found);
 * - `-....B` (`-----BEGIN`: armored blocks: PGP, OpenSSH, PEM; also inside JSON strings);
 * - `p.....e` (`private-key` in gpg-agent key files, canonical and extended);
 * - `L..t` (`LS0t`, base64 of `---`, which any base64-wrapped armored block contains whatever its
 *   alignment).
 * Each pattern tests only two bytes: the fewer vector operations, the faster (measured).
 * The kernel reads up to 38 bytes past `limit`; callers keep `limit` <= length - LOOKAHEAD and the
 * window is zero-padded by 64 bytes.
 *
 * Candidates are only hints: every one is validated by a parser. `candidateAt` is the same
 * predicate in plain JavaScript (the fallback when WebAssembly SIMD is missing, and the reference
 * the tests compare the kernel with).
 */

/** Bytes a candidate test may look ahead of its position. */
export const LOOKAHEAD = 7;

/** True when the predicate holds at `pos` (bytes past the end read as 0). */
export function candidateAt(bytes: Uint8Array, pos: number): boolean {
  const at = (k: number): number => bytes[pos + k] ?? 0;
  const b0 = at(0);
  const ver = (k: number): boolean => at(k) === 4;
  const c = b0 & 0xf7;
  if (c === 0x94 && ver(2)) return true;
  if (c === 0x95 && ver(3)) return true;
  if (c === 0x96 && ver(5)) return true;
  if ((b0 & 0xfd) === 0xc5 && (ver(2) || ver(3) || ver(6))) return true;
  if (b0 === 0x2d && at(5) === 0x42) return true;
  if (b0 === 0x70 && at(6) === 0x65) return true;
  if (b0 === 0x4c && at(3) === 0x74) return true;
  return false;
}

// ---- a tiny WebAssembly assembler: just what the kernel needs ----
type Code = number[];
const SIMD = 0xfd;
const op = (code: number): Code => [SIMD, code];
const splat = (byte: number): Code => [SIMD, 0x0c, ...new Array<number>(16).fill(byte)];
const get = (index: number): Code => [0x20, index];
const set = (index: number): Code => [0x21, index];
const tee = (index: number): Code => [0x22, index];
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

function assemble(): Uint8Array {
  // Params: 0 = position, 1 = end, 2 = output cursor. v128 locals from 3: lanes at +0,+2,+3,+5,+6,
  // two masks, two shared version tests, then one local per splatted constant (hoisted out of the
  // loop: materialising v128 constants inside it halves the speed). Two 16-byte blocks per
  // iteration share one branch.
  const LANE: Record<number, number> = { 0: 3, 2: 4, 3: 5, 5: 6, 6: 7 };
  const MA = 8;
  const MB = 9;
  const VER2 = 10;
  const VER3 = 11;
  const constants = [0xf7, 0x94, 0x95, 0x96, 0xfd, 0xc5, 4, 0x2d, 0x42, 0x70, 0x65, 0x4c, 0x74];
  const K = (byte: number): Code => get(12 + constants.indexOf(byte));
  const v = (k: number): Code => get(LANE[k]!);
  const eqK = (x: Code, byte: number): Code => [...x, ...K(byte), ...op(0x23)];
  const maskK = (x: Code, bits: number): Code => [...x, ...K(bits), ...op(0x4e)];
  const c = maskK(v(0), 0xf7);
  const binary = or(
    and(eqK(c, 0x94), [...eqK(v(2), 4), ...tee(VER2)]),
    and(eqK(c, 0x95), [...eqK(v(3), 4), ...tee(VER3)]),
    and(eqK(c, 0x96), eqK(v(5), 4)),
    and(eqK(maskK(v(0), 0xfd), 0xc5), or(get(VER2), get(VER3), eqK(v(6), 4))),
  );
  const text = or(
    and(eqK(v(0), 0x2d), eqK(v(5), 0x42)),
    and(eqK(v(0), 0x70), eqK(v(6), 0x65)),
    and(eqK(v(0), 0x4c), eqK(v(3), 0x74)),
  );
  const load = (offset: number, local: number): Code => [...get(0), SIMD, 0x00, 0x00, ...uleb(offset), ...set(local)];
  const block = (base: number, mask: number): Code => [
    ...Object.entries(LANE).flatMap(([k, local]) => load(base + Number(k), local)),
    ...or(binary, text),
    ...set(mask),
  ];
  const record = (delta: number, mask: number): Code => [
    ...get(2), ...get(0), ...(delta ? [...i32const(delta), 0x6a] : []), 0x36, 0x02, 0x00, // i32.store position
    ...get(2), ...get(mask), ...op(0x64), 0x36, 0x02, 0x04, // i32.store bitmask at +4
    ...get(2), ...i32const(8), 0x6a, ...set(2),
  ];
  const init: Code = constants.flatMap((byte, index) => [...splat(byte), ...set(12 + index)]);
  const body: Code = [
    ...init,
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...get(0), ...get(1), 0x4f, 0x0d, 0x01, // if pos >= end: break
    ...block(0, MA),
    ...block(16, MB),
    ...get(MA), ...get(MB), ...op(0x50), ...op(0x53), // v128.any_true(a | b)
    0x04, 0x40, // if
    ...record(0, MA),
    ...record(16, MB),
    0x0b, // end if
    ...get(0), ...i32const(32), 0x6a, ...set(0),
    0x0c, 0x00, // br loop
    0x0b, 0x0b, // end loop, end block
    ...get(2),
    0x0b,
  ];
  const locals: Code = [0x01, ...uleb(9 + constants.length), 0x7b];
  const func = [...locals, ...body];
  const bytes: Code = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
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

function createWasmKernel(): CandidateKernel | null {
  const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
  const bytes = assemble();
  if (!wasm || !wasm.validate(bytes)) return null;
  const instance = new wasm.Instance(new wasm.Module(bytes), {});
  const memory = instance.exports['memory'] as { buffer: ArrayBuffer };
  const scanFn = instance.exports['scan'] as (start: number, end: number, out: number) => number;
  const heap = new Uint8Array(memory.buffer);
  const records = new Int32Array(memory.buffer, OUT_BASE);
  let length = 0;
  return {
    kind: 'wasm-simd',
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

function createJavaScriptKernel(): CandidateKernel {
  const heap = new Uint8Array(WINDOW_MAX + 64);
  let length = 0;
  return {
    kind: 'javascript',
    scan(parts, from, limit, found) {
      length = copyParts(heap, parts);
      for (let position = from; position < limit; position++) if (candidateAt(heap, position)) found(position);
      return length;
    },
    view() {
      return heap.subarray(0, length);
    },
  };
}

let shared: CandidateKernel | undefined;

/** The fastest kernel this Node supports (one per thread; scanners call it synchronously in turn). */
export function getCandidateKernel(): CandidateKernel {
  shared ??= createWasmKernel() ?? createJavaScriptKernel();
  return shared;
}

/** A fresh plain-JavaScript kernel (tests compare it with the WebAssembly one). */
export function createReferenceKernel(): CandidateKernel {
  return createJavaScriptKernel();
}
