// The one interface every nested format (compression or container) implements: recognise a file
// from its first block, then read it as a sink that opens a file sink per inner file.
import type { MemberRange } from '../member-dedupe.js';
import type { EntrySink } from '../tar-parser.js';
import type { ScanContext } from './context.js';

/** Opens the sink of an inner file (the walker's createFileSink, bound to the layer path). */
export type OpenInnerFile = (nestedPath: string, depth: number, decodes: number) => EntrySink;

/** The file a nested reader reads: where it sits and how deep. */
export interface NestedOrigin {
  ctx: ScanContext;
  /** The layer entry the bytes belong to (null: bytes outside any entry). */
  path: string | null;
  /** This file's nested path (null: the layer entry itself). */
  nestedPath: string | null;
  /** Containers already entered. */
  depth: number;
  /** Decompressions already applied. */
  decodes: number;
  openInner: OpenInnerFile;
}

/** A reader of one nested file. */
export interface NestedReader extends EntrySink {
  /** Where members sit verbatim in the file's bytes (uncompressed containers), for de-duplication. */
  readonly memberRanges?: readonly MemberRange[];
}

/** One nested format. */
export interface NestedFormat {
  /** Stable name, e.g. 'gzip', 'tar'. */
  readonly name: string;
  /** True when `head` (the first 512 bytes, fewer for a shorter file) starts like this format. `name` is the file's innermost path (its nested path, else its layer path). */
  matches(head: Uint8Array, name: string): boolean;
  open(origin: NestedOrigin): NestedReader;
}
