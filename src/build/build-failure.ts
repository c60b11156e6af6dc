import { EicBuildError } from '../errors.js';
import type { NetworkMode } from './flags.js';

/** A mirror as the build-failure diagnosis needs it. */
export interface MirrorEndpoint {
  name: string;
  url: string;
}

/** A failed build's log read as a known problem: what went wrong and what to do. */
export interface BuildDiagnosis {
  id: 'mirror-unreachable' | 'spack-lock-missing' | 'spack-missing' | 'fingerprint-mismatch';
  message: string;
  hint: string;
}

/** Host (and port) of a mirror URL; undefined for file:// and anything unparsable. */
export function mirrorHost(url: string): string | undefined {
  const match = /^(?:oci(?:\+https?)?|https?|s3|gs):\/\/([^/\s]+)/i.exec(url);
  return match?.[1]?.replace(/^[^@]*@/, '');
}

/** True for a host name that only the machine itself reaches (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  const name = (bracketed ? bracketed[1]! : host.replace(/:\d+$/, '')).toLowerCase();
  return name === 'localhost' || name === '::1' || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/**
 * Pure, before any build: a mirror on loopback is reachable from a build step only with host
 * networking (a step runs in its own network namespace), so without `--network host` the build
 * would fail half-way; refuse it up front, naming the mirror.
 */
export function assertMirrorsReachable(mirrors: readonly MirrorEndpoint[], network: NetworkMode | undefined): void {
  if (network === 'host') return;
  const loopback = mirrors.filter((mirror) => {
    const host = mirrorHost(mirror.url);
    return host !== undefined && isLoopbackHost(host);
  });
  if (loopback.length === 0) return;
  throw new EicBuildError(
    'usage',
    `mirror${loopback.length > 1 ? 's' : ''} ${loopback.map((m) => `${m.name} (${m.url})`).join(', ')} ${loopback.length > 1 ? 'are' : 'is'} on loopback, which build steps reach only with host networking${network ? ` (--network ${network} given)` : ''}`,
    {
      hint: 'add --network host (a registry on this machine), or give the mirror a host name the build steps can reach.',
    },
  );
}

const UNREACHABLE =
  /cannot reach \S+|Connection refused|ECONNREFUSED|Name or service not known|Temporary failure in name resolution|ENOTFOUND|EAI_AGAIN|Network is unreachable|No route to host|urlopen error|Failed to establish a new connection/i;

/**
 * Pure: map a failed build's log to a problem a person can fix. Undefined when nothing known
 * matches (the caller shows the log's tail). The log is already redacted.
 */
export function diagnoseBuildFailure(log: string, context: { mirrors: readonly MirrorEndpoint[]; network: NetworkMode | undefined }): BuildDiagnosis | undefined {
  const lock = /--spack-lock (\S+): cannot read the lockfile \(ENOENT\)/.exec(log);
  if (lock) {
    return {
      id: 'spack-lock-missing',
      message: `the runtime stage has no ${lock[1]}: eic-build buildcache verify selects what the step installs from the environment's lockfile`,
      hint: `concretize the environment where the runtime stage gets it (spack --env DIR concretize, then COPY DIR/spack.lock into the runtime stage before the verify step), or point SPACK_ENV / BUILDCACHE_VERIFY_SELECTION at the lockfile the stage holds.`,
    };
  }
  // Hex values only: BuildKit also echoes the step's command, where the same words carry $variables.
  const fingerprint = /the public key file has fingerprint ([0-9A-Fa-f]*) but build-arg (\S+) is '([0-9A-Fa-f]*)'/.exec(log);
  if (fingerprint) {
    return {
      id: 'fingerprint-mismatch',
      message: `the public key file in the build context has fingerprint ${fingerprint[1] || '(none: not an OpenPGP public key)'} but build-arg ${fingerprint[2]} is ${fingerprint[3]}`,
      hint: `render again with the signing key the build uses (eic-build render, or let eic-build build render), so that .eic-build/spack-signer-public.asc and ${fingerprint[2]} come from the same key; do not set ${fingerprint[2]} by hand.`,
    };
  }
  if (/(?:^|\s|\/)spack: (?:command )?not found/m.test(log)) {
    return {
      id: 'spack-missing',
      message: "a build step ran spack, but the stage's base image has no Spack on PATH",
      hint: "build on an image with Spack (BUILDER_IMAGE and RUNTIME_IMAGE build-args; for tests the spack-kit image eic-build-kit/spack:1.1.0), or put Spack's bin/ on PATH in the base image.",
    };
  }
  const lines = log.split('\n').filter((line) => UNREACHABLE.test(line) && !/^#\d+ \[/.test(line));
  if (lines.length > 0) {
    const remote = context.mirrors.filter((mirror) => mirrorHost(mirror.url) !== undefined);
    const named = remote.filter((mirror) => lines.some((line) => line.includes(mirrorHost(mirror.url)!)));
    const suspects = named.length > 0 ? named : remote;
    if (suspects.length === 0) return undefined;
    const loopback = suspects.some((mirror) => isLoopbackHost(mirrorHost(mirror.url)!));
    return {
      id: 'mirror-unreachable',
      message: `the build could not reach mirror${suspects.length > 1 ? 's' : ''} ${suspects.map((m) => `${m.name} (${m.url})`).join(', ')}: ${lines[0]!.trim().replace(/^#\d+ [\d.]+ /, '')}`,
      hint:
        loopback && context.network !== 'host'
          ? 'the mirror is on loopback: build with --network host.'
          : `check that the registry runs and that build steps can reach it (--network host for a registry on this machine${context.network ? `; --network ${context.network} was given` : ''}, DNS and proxy settings of the builder otherwise).`,
    };
  }
  return undefined;
}
