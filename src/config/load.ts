import { readFileSync } from 'node:fs';
import path from 'node:path';
import { configSchema, type GeofailoverConfig } from './schema';

export const DEFAULT_CONFIG_FILE = 'geofailover.config.json';

/** Thrown when the configuration file is missing, not JSON, or fails its schema. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly file: string,
    readonly issues: { path: string; message: string }[] = [],
  ) {
    super(message);
  }
}

/** Where the configuration lives: --config, then GEOFAILOVER_CONFIG, then ./geofailover.config.json. */
export function resolveConfigPath(explicit?: string): string {
  return path.resolve(explicit ?? process.env.GEOFAILOVER_CONFIG ?? DEFAULT_CONFIG_FILE);
}

/** Parses and validates configuration text; errors name the file, the field and what was expected. */
export function parseConfig(text: string, file: string): GeofailoverConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`, file);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({
      path: i.path.length ? i.path.map(String).join('.') : '(root)',
      message: i.message,
    }));
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    throw new ConfigError(`${file}: invalid configuration\n${lines}`, file, issues);
  }
  return result.data;
}

export function loadConfig(explicitPath?: string): GeofailoverConfig {
  const file = resolveConfigPath(explicitPath);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(
      code === 'ENOENT'
        ? `${file}: no such file. Pass --config FILE, set GEOFAILOVER_CONFIG, or copy geofailover.config.example.json`
        : `${file}: cannot read (${(e as Error).message})`,
      file,
    );
  }
  return parseConfig(text, file);
}
