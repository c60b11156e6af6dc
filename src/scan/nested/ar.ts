// An ar archive inside a layer — a Debian package (`.deb`: debian-binary, control.tar.*, data.tar.*)
// or a static library. Read front to back: each member gets its own file sink, one level deeper,
// so data.tar.xz is unpacked by the xz reader and its tar by the tar reader. GNU (`//` name table,
// `/N`) and BSD (`#1/len`) long names are understood.
import type { MemberRange } from '../member-dedupe.js';
import type { EntrySink } from '../tar-parser.js';
import { addNestedNote, joinNested } from './context.js';
import type { NestedFormat, NestedOrigin, NestedReader } from './nested-format.js';

const MAGIC = '!<arch>\n';
const HEADER = 60;
const MAX_NAME_TABLE = 1 << 20;

class ArSink implements NestedReader {
  private state: 'magic' | 'header' | 'bsd-name' | 'body' | 'pad' | 'done' = 'magic';
  private buf: number[] = [];
  private need = MAGIC.length;
  private remaining = 0;
  private member: EntrySink | null = null;
  private nameTable: number[] | null = null;
  private collectingNames = false;
  private bsdNameLength = 0;
  private position = 0;
  readonly memberRanges: MemberRange[] = [];

  constructor(private readonly origin: NestedOrigin) {}

  private fail(message: string): void {
    this.state = 'done';
    addNestedNote(this.origin.ctx, 'nested-unreadable', this.origin.path, this.origin.nestedPath, `ar archive ${message}; its raw bytes were scanned`);
  }

  private field(header: string, start: number, length: number): string {
    return header.slice(start, start + length).trim();
  }

  /** A complete 60-byte header is in `buf`. */
  private onHeader(): void {
    const header = Buffer.from(this.buf).toString('latin1');
    this.buf = [];
    if (header.slice(58, 60) !== '`\n') return this.fail(`member header at byte ${this.position - HEADER} is damaged`);
    const sizeText = this.field(header, 48, 10);
    if (!/^\d+$/.test(sizeText)) return this.fail(`member size '${sizeText}' at byte ${this.position - HEADER} is not a number`);
    const size = Number(sizeText);
    const rawName = this.field(header, 0, 16);
    this.remaining = size;
    this.collectingNames = false;
    if (rawName === '//') {
      if (size > MAX_NAME_TABLE) return this.fail(`name table of ${size} bytes is implausible`);
      this.nameTable = [];
      this.collectingNames = true;
      return this.startBody(null);
    }
    if (rawName === '/' || rawName === '/SYM64/') return this.startBody(null);
    if (rawName.startsWith('#1/')) {
      this.bsdNameLength = Number(rawName.slice(3));
      if (!Number.isSafeInteger(this.bsdNameLength) || this.bsdNameLength > size || this.bsdNameLength > 4096) return this.fail(`BSD long name '${rawName}' is damaged`);
      this.state = 'bsd-name';
      this.need = this.bsdNameLength;
      if (this.need === 0) return this.startBody('');
      return;
    }
    let name = rawName;
    if (/^\/\d+$/.test(rawName)) {
      const at = Number(rawName.slice(1));
      const table = this.nameTable ?? [];
      const end = table.indexOf(0x0a, at);
      name = Buffer.from(table.slice(at, end < 0 ? table.length : end)).toString('utf8');
    }
    this.startBody(name.replace(/\/$/, ''));
  }

  private startBody(name: string | null): void {
    this.member = null;
    if (name !== null && name !== '' && this.remaining > 0) {
      const memberPath = joinNested(this.origin.nestedPath, name);
      this.memberRanges.push({ start: this.position, end: this.position + this.remaining, nestedPath: memberPath });
      this.member = this.origin.openInner(memberPath, this.origin.depth + 1, this.origin.decodes);
    }
    this.state = 'body';
    // An empty body opened no member, so afterBody has nothing to wait for here.
    if (this.remaining === 0) void this.afterBody();
  }

  private afterBody(): void | Promise<void> {
    const member = this.member;
    this.member = null;
    this.state = 'header';
    this.need = HEADER;
    // Bodies are padded to an even offset.
    if (this.position % 2 === 1) this.state = 'pad';
    return member ? member.end() : undefined;
  }

  write(chunk: Uint8Array): void | Promise<void> {
    let at = 0;
    while (at < chunk.length && this.state !== 'done') {
      if (this.state === 'body') {
        const n = Math.min(this.remaining, chunk.length - at);
        const piece = chunk.subarray(at, at + n);
        at += n;
        this.position += n;
        this.remaining -= n;
        if (this.collectingNames) for (const byte of piece) this.nameTable!.push(byte);
        const written = this.member ? this.member.write(piece) : undefined;
        const rest = chunk.subarray(at);
        if (this.remaining === 0) {
          if (written) return written.then(() => this.afterBody()).then(() => this.write(rest));
          const ended = this.afterBody();
          if (ended) return ended.then(() => this.write(rest));
        } else if (written) {
          return written.then(() => this.write(rest));
        }
        continue;
      }
      if (this.state === 'pad') {
        at++;
        this.position++;
        this.state = 'header';
        this.need = HEADER;
        continue;
      }
      this.buf.push(chunk[at++]!);
      this.position++;
      if (this.buf.length < this.need) continue;
      if (this.state === 'magic') {
        if (Buffer.from(this.buf).toString('latin1') !== MAGIC) return this.fail('has no !<arch> magic');
        this.buf = [];
        this.state = 'header';
        this.need = HEADER;
      } else if (this.state === 'header') {
        this.onHeader();
      } else if (this.state === 'bsd-name') {
        const name = Buffer.from(this.buf).toString('utf8').replace(/\0+$/, '');
        this.buf = [];
        this.remaining -= this.bsdNameLength;
        this.startBody(name);
      }
    }
  }

  end(): void | Promise<void> {
    if (this.state === 'done') return;
    if (this.state === 'body' && this.remaining > 0) {
      const member = this.member;
      this.member = null;
      this.fail(`ends inside a member (truncated)`);
      return member ? member.end() : undefined;
    }
    if (this.state === 'header' && this.buf.length > 0) this.fail('ends inside a member header (truncated)');
  }
}

export const arFormat: NestedFormat = {
  name: 'ar',
  matches: (head) => head.length >= MAGIC.length && Buffer.from(head.subarray(0, MAGIC.length)).toString('latin1') === MAGIC,
  open: (origin) => new ArSink(origin),
};
