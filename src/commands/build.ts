import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';

/** `eic-build build`: being written (placeholder so the dispatcher compiles). */
export async function buildCommand(_argv: string[], _io: CliIo): Promise<number> {
  throw new EicBuildError('internal', 'eic-build build is not available in this version');
}
