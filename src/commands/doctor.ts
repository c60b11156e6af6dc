import type { CliIo } from '../cli-io.js';
import { parseCommandArgs } from '../cli-args.js';
import { EicBuildError } from '../errors.js';
import { capabilitiesOf } from '../build/capabilities.js';
import { probeBuildClient } from '../build/probe.js';

const HELP = `usage: eic-build doctor [--builder NAME] [--docker PATH] [--format text|json]

Probe every docker client on this machine (PATH order is not trusted) and show which can run a
BuildKit build, through buildx (any driver) or the built-in BuildKit of docker < 23, and what each
supports: env secrets, named contexts, multi-platform, output types, cache export, provenance.
Exit 0 when a usable client was found, 2 otherwise.
`;

/** `eic-build doctor`: what Docker/BuildKit capabilities this machine has. */
export async function doctorCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(
    'doctor',
    argv,
    {
      builder: { type: 'string' },
      docker: { type: 'string' },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    false,
  );
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') throw new EicBuildError('usage', `--format '${format}' is not text or json`, { hint: 'use --format text or --format json.' });
  const result = await probeBuildClient({
    ...(typeof values.docker === 'string' ? { docker: values.docker } : {}),
    ...(typeof values.builder === 'string' ? { builder: values.builder } : {}),
    env: io.env,
  });
  const capabilities = result.client ? capabilitiesOf(result.client) : undefined;
  if (format === 'json') {
    io.out(`${JSON.stringify({ usable: Boolean(result.client), client: result.client ?? null, capabilities: capabilities ?? null, candidates: result.candidates }, null, 2)}\n`);
  } else {
    const lines = ['docker clients found:'];
    for (const c of result.candidates) lines.push(`  ${c.usable ? 'ok ' : 'no '} ${c.docker}: ${c.reason}`);
    if (!result.candidates.length) lines.push('  (none on PATH, /usr/local/bin or /usr/bin)');
    if (result.client && capabilities) {
      const c = result.client;
      lines.push(
        '',
        `eic-build build will use: ${c.docker} ${c.kind === 'buildx' ? `buildx ${c.buildxVersion}, builder '${c.builder}' (driver ${c.driver}${c.buildkitVersion ? `, BuildKit ${c.buildkitVersion}` : ''})` : `${c.clientVersion} with built-in BuildKit`}`,
      );
      const yes = (b: boolean) => (b ? 'yes' : 'no');
      lines.push(
        `  secrets by environment (env=)  ${yes(capabilities.secretEnv)}${capabilities.secretEnv ? '' : ' (a 0600 temp file is used instead)'}`,
        `  named build contexts           ${yes(capabilities.namedContexts)}`,
        `  multi-platform                 ${yes(capabilities.multiPlatform)}`,
        `  --output types                 ${capabilities.outputTypes.join(', ')}`,
        `  --cache-to types               ${capabilities.cacheExportTypes.join(', ')}`,
        `  provenance attestations        ${yes(capabilities.provenance)}`,
        `  image lands in                 ${capabilities.buildsIntoEngine ? 'the local engine (scanned there, pushed with docker push)' : 'an OCI layout (scanned, then pushed by eic-build)'}`,
      );
    } else {
      lines.push(
        '',
        'no client can run a BuildKit build here.',
        'fix: install the buildx plugin (apt-get install docker-buildx) or a docker client older than 23 with an engine, and start the engine.',
      );
    }
    io.out(`${lines.join('\n')}\n`);
  }
  return result.client ? 0 : 2;
}
