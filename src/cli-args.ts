import { parseArgs, type ParseArgsConfig } from 'node:util';
import { EicBuildError } from './errors.js';

export type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * What parseCommandArgs returns: flag values typed from the option table (a `type: 'string'` flag is
 * `string | undefined`, `multiple: true` makes it `string[] | undefined`), plus positionals.
 */
export interface ParsedArgs<T extends Options = Options> {
  values: ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>>['values'];
  positionals: string[];
}

/**
 * node:util parseArgs with eic-build's error style: an unknown or malformed flag becomes a
 * 'usage' error that names the flag and points at --help.
 */
export function parseCommandArgs<const T extends Options>(command: string, argv: string[], options: T, allowPositionals = true): ParsedArgs<T> {
  try {
    return parseArgs({ args: argv, options, allowPositionals, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new EicBuildError('usage', `eic-build ${command}: ${message}`, {
      hint: `run 'eic-build ${command} --help' for the accepted options.`,
    });
  }
}
