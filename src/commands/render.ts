import type { CliIo } from '../cli-io.js';
import { EicBuildError } from '../errors.js';

/** `eic-build render`: being written (placeholder so the dispatcher compiles). */
export async function renderCommand(_argv: string[], _io: CliIo): Promise<number> {
  throw new EicBuildError('internal', 'eic-build render is not available in this version');
}
