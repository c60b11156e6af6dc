// The image config is part of the image: environment, labels, commands and the build history
// (where build-arg values end up) are checked value by value.
import { scanConfigValue, type ContentFinding, type ContentNote, type DetectorKeys } from './detector-api.js';

/** A config value worth scanning, and where it sits (`config.Env[2]`, `history[3].created_by`). */
export interface ConfigValue {
  field: string;
  value: string;
}

/** A finding in the config, with the field it came from. */
export interface ConfigFinding extends ContentFinding {
  field: string;
}

/** A note about a config value. */
export interface ConfigNote extends ContentNote {
  field: string;
}

interface ContainerConfig {
  Env?: unknown;
  Labels?: unknown;
  Cmd?: unknown;
  Entrypoint?: unknown;
  OnBuild?: unknown;
  Healthcheck?: { Test?: unknown } | null;
  WorkingDir?: unknown;
  User?: unknown;
}

function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

function fieldsOf(prefix: string, config: ContainerConfig | null | undefined): ConfigValue[] {
  if (!config || typeof config !== 'object') return [];
  const out: ConfigValue[] = [];
  strings(config.Env).forEach((value, i) => out.push({ field: `${prefix}.Env[${i}]`, value }));
  if (config.Labels && typeof config.Labels === 'object') {
    for (const [key, value] of Object.entries(config.Labels as Record<string, unknown>)) {
      if (typeof value === 'string') out.push({ field: `${prefix}.Labels[${JSON.stringify(key)}]`, value: `${key}=${value}` });
    }
  }
  for (const name of ['Cmd', 'Entrypoint', 'OnBuild'] as const) {
    strings(config[name]).forEach((value, i) => out.push({ field: `${prefix}.${name}[${i}]`, value }));
  }
  strings(config.Healthcheck?.Test).forEach((value, i) => out.push({ field: `${prefix}.Healthcheck.Test[${i}]`, value }));
  return out;
}

/** Every scannable value of an image config (pure). */
export function listConfigValues(configJson: unknown): ConfigValue[] {
  if (!configJson || typeof configJson !== 'object') return [];
  const root = configJson as { config?: ContainerConfig; container_config?: ContainerConfig; history?: unknown };
  const out = [...fieldsOf('config', root.config), ...fieldsOf('container_config', root.container_config)];
  if (Array.isArray(root.history)) {
    root.history.forEach((entry: unknown, i) => {
      if (!entry || typeof entry !== 'object') return;
      const { created_by: createdBy, comment } = entry as { created_by?: unknown; comment?: unknown };
      if (typeof createdBy === 'string') out.push({ field: `history[${i}].created_by`, value: createdBy });
      if (typeof comment === 'string') out.push({ field: `history[${i}].comment`, value: comment });
    });
  }
  return out;
}

/** Scan every config value with the detectors, and `extra` values (the image's OCI annotations) alike. */
export function scanConfig(configJson: unknown, keys: DetectorKeys, extra: readonly ConfigValue[] = []): { findings: ConfigFinding[]; notes: ConfigNote[] } {
  const findings: ConfigFinding[] = [];
  const notes: ConfigNote[] = [];
  for (const { field, value } of [...listConfigValues(configJson), ...extra]) {
    const result = scanConfigValue(value, keys.knownKeys, keys.allowKeys);
    for (const finding of result.findings) findings.push({ ...finding, field });
    for (const note of result.notes) notes.push({ ...note, field });
  }
  return { findings, notes };
}

/** Index into `history` of each non-empty layer, in layer order; null when history and layers do not line up. */
export function historyIndexPerLayer(configJson: unknown, layerCount: number): (number | null)[] {
  const history = (configJson as { history?: unknown } | null)?.history;
  const none = () => Array.from({ length: layerCount }, () => null);
  if (!Array.isArray(history)) return none();
  const indices: number[] = [];
  history.forEach((entry, i) => {
    if (entry && typeof entry === 'object' && (entry as { empty_layer?: boolean }).empty_layer !== true) indices.push(i);
  });
  return indices.length === layerCount ? indices : none();
}

const MAX_CREATED_BY = 400;

/**
 * The Dockerfile instruction of history entry `index`, safe to print: an instruction that itself
 * carries key material (a build arg, an inline key) is replaced by a pointer to its field.
 */
export function describeCreatedBy(configJson: unknown, index: number | null, tainted: Set<number>): string | null {
  if (index === null) return null;
  if (tainted.has(index)) return `[redacted: history[${index}].created_by itself carries key material]`;
  const entry = ((configJson as { history?: unknown[] } | null)?.history ?? [])[index] as { created_by?: unknown } | undefined;
  const text = typeof entry?.created_by === 'string' ? entry.created_by : null;
  if (text === null) return null;
  return text.length > MAX_CREATED_BY ? `${text.slice(0, MAX_CREATED_BY)}…` : text;
}
