// Types for tools.mjs, so TypeScript callers (the drill, the mocha global fixture) can import it.

export const TEMPORAL_CLI_VERSION: string;

export interface FoundTool {
  path: string;
  version: string;
  /** where it came from: TEMPORAL_CLI_PATH, PATH, cache, built, downloaded, REDIS_SERVER_PATH, a directory, apt-get */
  source: string;
  /** how long finding, building or installing it took */
  seconds: number;
}

export interface EnsureOptions {
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export class ToolError extends Error {}

export function cacheDir(env?: NodeJS.ProcessEnv): string;
export function cachedTemporalPath(env?: NodeJS.ProcessEnv): string;
export function ensureTemporalCli(options?: EnsureOptions): Promise<FoundTool>;
export function ensureRedisServer(options?: EnsureOptions): Promise<FoundTool>;
export function logToStderr(line: string): void;
