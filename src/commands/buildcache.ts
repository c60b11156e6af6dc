import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';

/** `eic-build buildcache`: being written (placeholder so the dispatcher compiles). */
export async function buildcacheCommand(_argv: string[], _io: CliIo): Promise<number> {
  throw new EicBuildError('internal', 'eic-build buildcache is not available in this version');
}
