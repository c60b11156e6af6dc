import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CliIo } from '../cli-io.js';
import { ensureBaseImage } from '../docker/base-image.js';
import { connectDocker } from '../docker/endpoint.js';
import { EicBuildError } from '../errors.js';
import { checkOutputPath } from '../io/output-file.js';
import type { ProgressReporter } from '../progress/index.js';
import { parseScanTuning } from '../scan/scan-tuning.js';
import type { BuildOptions } from './build-options.js';
import { assertCapabilities } from './capabilities.js';
import { probeBuildClient, type BuildClient, type ProbeResult } from './probe.js';
import { readBuildProjectConfig, type BuildProjectConfig } from './project-config.js';

/** What is refused before a long build rather than after it, and what the build needs from the machine first. */

/** The context directory and project config; a bad input that would only fail after the build fails now. */
export async function preflight(options: BuildOptions, io: CliIo): Promise<{ contextDir: string; config: BuildProjectConfig }> {
  const contextDir = resolve(options.context);
  const info = await stat(contextDir).catch(() => undefined);
  if (!info?.isDirectory()) throw new EicBuildError('input-not-found', `build context ${contextDir} is not a directory`, { hint: 'give the project directory as CONTEXT.' });
  const config = await readBuildProjectConfig(options.config, contextDir);
  // The scan after the build reads these: a malformed one is refused before a long build, not after.
  parseScanTuning(io.env);
  // The metadata is written after the push: a path that cannot take it must stop the build first.
  if (options.metadataFile) await checkOutputPath(options.metadataFile, '--metadata-file');
  return { contextDir, config };
}

/** The docker client that runs the build (probed unless given), able to do everything the options ask. */
export async function chooseBuildClient(options: BuildOptions, env: NodeJS.ProcessEnv, probe?: ProbeResult): Promise<BuildClient> {
  const probed = probe ?? (await probeBuildClient({ ...(options.docker ? { docker: options.docker } : {}), ...(options.builder ? { builder: options.builder } : {}), env }));
  const client = probed.client;
  if (!client) {
    throw new EicBuildError(
      'docker-unavailable',
      `no docker client here can run a BuildKit build:\n${probed.candidates.map((c) => `  ${c.docker}: ${c.reason}`).join('\n') || '  no docker binary found'}`,
      {
        hint: "install docker with the buildx plugin (apt-get install docker.io docker-buildx), start the engine, and run 'eic-build doctor'.",
      },
    );
  }
  assertCapabilities(options, client);
  return client;
}

/** Pure: how the chosen client is named in the first line of the build's output. */
export function describeBuildClient(client: BuildClient): string {
  return client.kind === 'buildx'
    ? `buildx ${client.buildxVersion}, builder '${client.builder}' (${client.driver})`
    : `${client.docker} ${client.clientVersion} (built-in BuildKit)`;
}

/**
 * The base images the project declares (build.baseImages), made locally in the engine the build uses
 * when missing; only for builds into the engine (a builder outside it could not see them).
 */
export async function ensureBaseImages(
  config: BuildProjectConfig,
  buildsIntoEngine: boolean,
  client: BuildClient,
  env: NodeJS.ProcessEnv,
  reporter: ProgressReporter,
): Promise<void> {
  if (!buildsIntoEngine || !config.build.baseImages.length) return;
  const { docker } = await connectDocker(env, client.docker);
  for (const spec of config.build.baseImages) {
    // Announced before and reported while it runs (a debootstrap takes minutes): by ensureBaseImage.
    await ensureBaseImage(spec, docker, reporter);
  }
}
