import type { AttrSpec, BuildArgSpec, BuildContextSpec, NetworkMode, ProgressMode, ProvenanceSpec, SecretSpec } from './flags.js';

/**
 * What `eic-build build` was asked to do, as the pipeline reads it. The command line that produces it
 * (flags, help, usage errors) is src/commands/build.ts.
 */

/** Where the built image goes. `--push`, `--load` and `--output` are mutually exclusive. */
export type Destination = { kind: 'load' } | { kind: 'push' } | { kind: 'output'; spec: AttrSpec };

/** Everything `eic-build build` was asked to do, typed. */
export interface BuildOptions {
  context: string;
  config: string | undefined;
  file: string | undefined;
  target: string | undefined;
  platforms: string[];
  tags: string[];
  buildArgs: BuildArgSpec[];
  buildContexts: BuildContextSpec[];
  secrets: SecretSpec[];
  cacheFrom: AttrSpec[];
  cacheTo: AttrSpec[];
  signingKeyFile: string | undefined;
  ephemeralKey: boolean;
  strict: boolean;
  /**
   * `--allow-inherited-keys`: private keys in the base image's layers that are not the signing key
   * warn instead of blocking (by default every scan finding blocks).
   */
  allowInheritedKeys: boolean;
  /** `--allow-key IDENTITY`: key identities the scanner reports as notes (validated, as given; passed to scanTarget). */
  allowKeys: string[];
  /** false with `--no-provenance`: the scan gate triages no key as published package content. */
  keyProvenance: boolean;
  destination: Destination;
  /** True when the user chose the destination; false when it is the default (load). */
  destinationExplicit: boolean;
  builder: string | undefined;
  metadataFile: string | undefined;
  /** undefined: not given; eic-build then picks min where supported, else off. */
  provenance: ProvenanceSpec | undefined;
  progress: ProgressMode;
  noCache: boolean;
  /** `--var NAME=VALUE` for the renderer (templates only). */
  vars: Record<string, string>;
  /** `--network MODE` for RUN steps; undefined: the builder's default. */
  network: NetworkMode | undefined;
  /** Forced docker client binary (also EIC_BUILD_DOCKER). */
  docker: string | undefined;
}
