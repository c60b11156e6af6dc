// eic-build build: re-exports only.
export { type BuildOptions, type Destination } from './build-options.js';
export {
  parseSecretSpec,
  formatSecretSpec,
  parseBuildContextSpec,
  formatBuildContextSpec,
  parseCacheSpec,
  formatCacheSpec,
  parseOutputSpec,
  formatOutputSpec,
  parsePlatforms,
  formatPlatforms,
  parseProvenanceSpec,
  formatProvenanceSpec,
  parseProgressMode,
  parseBuildArg,
  formatBuildArg,
  isMaxModeCacheExport,
  type SecretSpec,
  type BuildContextSpec,
  type AttrSpec,
  type ProvenanceSpec,
  type ProgressMode,
  type BuildArgSpec,
} from './flags.js';
export {
  probeBuildClient,
  probeDockerClient,
  findDockerClients,
  parseBuildxVersion,
  parseBuildxInspect,
  parseDockerVersionJson,
  hasBuiltinBuildKit,
  type BuildClient,
  type BuildxDriver,
  type ProbeResult,
  type CandidateReport,
} from './probe.js';
export { capabilitiesOf, missingCapabilities, assertCapabilities, effectiveProvenance, type Capabilities, type MissingCapability } from './capabilities.js';
export {
  buildInvocation,
  planScans,
  decidePublish,
  buildMetadata,
  chooseScanRoute,
  effectiveProgress,
  secretEnvName,
  type Invocation,
  type InvocationInput,
  type ScanItem,
  type PublishDecision,
  type ResolvedSecret,
} from './plan.js';
export { gateFindings, findingOrigin, describeFindings, type GateFinding, type GateResult, type GatePolicy, type FindingOrigin } from './scan-gate.js';
export { engineLayerDigests, registryLayerDigests } from './base-layers.js';
export { parseDockerfileStages, stageClosure, externalBaseOf, parseGlobalArgs, type DockerfileStage } from './dockerfile-stages.js';
export { runBuildPipeline, totalsOf, type PipelineDeps, type PipelineResult, type PipelineKey, type ScannedImage } from './pipeline.js';
export { defaultPipelineDeps } from './default-deps.js';
export { pushFromEngine, pushOciLayout, verifyPushed, parsePushDigest, type PushedTag } from './publish.js';
export { formatSummary, summaryJson } from './summary.js';
export { readBuildProjectConfig, parseBuildSection, type BuildSection, type BuildProjectConfig } from './project-config.js';
