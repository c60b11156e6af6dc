// Every nested format the walker opens, in the order their recognisers are tried.
import { arFormat } from './ar.js';
import { bz2Format } from './bz2.js';
import { gitLooseFormat } from './git-loose.js';
import { gitPackFormat } from './git-pack.js';
import { gzipFormat } from './gzip.js';
import type { NestedFormat } from './nested-format.js';
import { tarFormat } from './tar.js';
import { xzFormat } from './xz.js';
import { zipFormat } from './zip.js';
import { zstdFormat } from './zstd.js';

export type { NestedFormat, NestedOrigin, NestedReader, OpenInnerFile } from './nested-format.js';
export { DEFAULT_NESTED_LIMITS, type NestedLimits, type ScanContext, type ScannerFactory } from './context.js';

/** Compressions first (their magic is exact), then containers. */
export const NESTED_FORMATS: readonly NestedFormat[] = [gzipFormat, zstdFormat, xzFormat, bz2Format, gitLooseFormat, tarFormat, zipFormat, arFormat, gitPackFormat];
