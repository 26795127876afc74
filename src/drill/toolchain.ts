import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The external tools a drill needs, found, built or installed exactly as `npm run tools` does
 * (src/toolchain/tools.mjs): redis-server always, the Temporal CLI only when the drill starts its own dev server.
 */
type ToolsModule = Awaited<ReturnType<typeof loadToolsModule>>;
export type FoundTool = Awaited<ReturnType<ToolsModule['ensureRedisServer']>>;

export interface Toolchain {
  redisServer: FoundTool;
  /** only when asked for (the drill starts its own dev server) */
  temporalCli?: FoundTool;
}

/** tools.mjs is plain ESM (`npm run tools` runs it before `npm ci`): loaded with a dynamic import. */
export function loadToolsModule() {
  return import('../toolchain/tools.mjs');
}

/** How long the last ensureToolchain of this process took: the drill reports setup apart from its own time. */
let lastToolchainMs = 0;
export function toolchainMs(): number {
  return lastToolchainMs;
}

/**
 * Finds (or builds/installs) redis-server and, with `temporalCli`, the Temporal CLI; `log` gets one line per tool
 * (and a progress line every 30 s while one is built); the tools' own output goes to the setup log.
 * @throws ToolError (src/toolchain/tools.mjs) saying what to install when a tool cannot be had.
 */
export async function ensureToolchain(options: {
  temporalCli: boolean;
  log: (line: string) => void;
}): Promise<Toolchain> {
  const startedAt = performance.now();
  const tools = await loadToolsModule();
  try {
    const redisServer = await tools.ensureRedisServer({ log: options.log });
    if (!options.temporalCli) return { redisServer };
    const temporalCli = await tools.ensureTemporalCli({ log: options.log });
    return { redisServer, temporalCli };
  } finally {
    lastToolchainMs = performance.now() - startedAt;
  }
}

/** What `npm run drill` set up right before this drill (scripts/ensure-deps.mjs writes it), if it did. */
export interface RecentSetup {
  ms: number;
  /** e.g. "npm ci 52.1 s", "Temporal CLI 6 min 10 s" */
  parts: string[];
}

/**
 * The setup that finished within `withinMs` before now, from the tool cache's last-setup.json; read once (the file
 * goes), so the next drill does not report it again.
 */
export async function recentSetup(withinMs = 120_000): Promise<RecentSetup | undefined> {
  const tools = await loadToolsModule();
  const file = join(tools.cacheDir(), 'last-setup.json');
  try {
    const text = readFileSync(file, 'utf8');
    rmSync(file, { force: true });
    const raw = JSON.parse(text) as {
      finishedAt?: string;
      ms?: number;
      parts?: unknown;
    };
    const at = Date.parse(raw.finishedAt ?? '');
    if (!Number.isFinite(at) || Date.now() - at > withinMs || typeof raw.ms !== 'number') return undefined;
    const parts = Array.isArray(raw.parts) ? raw.parts.filter((p): p is string => typeof p === 'string') : [];
    return { ms: raw.ms, parts };
  } catch {
    return undefined;
  }
}
