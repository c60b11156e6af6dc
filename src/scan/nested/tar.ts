// A tar inside a layer: each inner file gets its own file sink, one level deeper.
import type { MemberRange } from '../member-dedupe.js';
import { BLOCK, parseTarHeader } from '../tar-header.js';
import { scanExtendedHeader } from '../pax-scan.js';
import { TarStreamParser, type ExtendedHeader, type TarEntry } from '../tar-parser.js';
import { joinNested, type ScanContext } from './context.js';
import type { NestedFormat, NestedOrigin, NestedReader } from './nested-format.js';

class NestedTarSink implements NestedReader {
  private readonly parser: TarStreamParser;
  private failed = false;
  private readonly ctx: ScanContext;
  /** Body ranges of the members, in the tar's bytes. */
  readonly memberRanges: MemberRange[] = [];

  constructor(private readonly origin: NestedOrigin) {
    const { nestedPath, depth, decodes, openInner } = origin;
    this.ctx = origin.ctx;
    this.parser = new TarStreamParser(
      (entry: TarEntry) => {
        if (entry.type !== 'file' || entry.size === 0) return null;
        const memberPath = joinNested(nestedPath, entry.name);
        // onEntry runs right after the header: the parser's offset is where the body starts.
        const start = this.parser.offset;
        this.memberRanges.push({ start, end: start + entry.size, nestedPath: memberPath });
        return openInner(memberPath, depth + 1, decodes);
      },
      null,
      (header) => this.scanPaxHeader(header),
    );
  }

  /** A PAX header of the inner tar (xattrs and other records) is published bytes too, as in a layer. */
  private scanPaxHeader(header: ExtendedHeader): void {
    const scanned = scanExtendedHeader(header, this.ctx.keys, this.ctx.createScanner);
    const where = (nestedPath: string | null) => joinNested(this.origin.nestedPath, `${nestedPath ?? ''}`);
    // Placed at the inner tar's file in the layer; the nested path names the inner entry and the record.
    for (const finding of scanned.findings) this.ctx.findings.push({ ...finding, path: this.origin.path, nestedPath: where(`${finding.path} (${finding.nestedPath})`) });
    for (const note of scanned.notes) this.ctx.notes.push({ ...note, path: this.origin.path, nestedPath: where(`${note.path} (${note.nestedPath})`) });
  }

  private fail(error: unknown): void {
    this.failed = true;
    this.ctx.notes.push({
      kind: 'nested-unreadable',
      detector: null,
      path: this.origin.path,
      nestedPath: this.origin.nestedPath,
      message: `nested tar could not be read to the end (${error instanceof Error ? error.message : String(error)}); its raw bytes were scanned`,
    });
  }

  write(chunk: Uint8Array): void | Promise<void> {
    if (this.failed) return;
    try {
      const written = this.parser.write(chunk);
      if (written) return written.catch((error: unknown) => this.fail(error));
    } catch (error) {
      this.fail(error);
    }
  }

  end(): void {
    if (this.failed) return;
    try {
      this.parser.end();
    } catch (error) {
      this.fail(error);
    }
  }
}

export const tarFormat: NestedFormat = {
  name: 'tar',
  matches: (head) => head.length >= BLOCK && parseTarHeader(head).kind === 'header',
  open: (origin) => new NestedTarSink(origin),
};
