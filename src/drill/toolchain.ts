/**
 * The external tools a drill needs, found, built or installed exactly as `npm run tools` does
 * (scripts/tools.mjs): redis-server always, the Temporal CLI only when the drill starts its own dev server.
 */
type ToolsModule = Awaited<ReturnType<typeof loadToolsModule>>;
export type FoundTool = Awaited<ReturnType<ToolsModule['ensureRedisServer']>>;

export interface Toolchain {
  redisServer: FoundTool;
  /** only when asked for (the drill starts its own dev server) */
  temporalCli?: FoundTool;
}

/** scripts/tools.mjs is plain ESM (it runs before `npm ci`): loaded with a dynamic import. */
export function loadToolsModule() {
  return import('../../scripts/tools.mjs');
}

/**
 * Finds (or builds/installs) redis-server and, with `temporalCli`, the Temporal CLI; `log` gets their progress.
 * @throws ToolError (scripts/tools.mjs) saying what to install when a tool cannot be had.
 */
export async function ensureToolchain(options: {
  temporalCli: boolean;
  log: (line: string) => void;
}): Promise<Toolchain> {
  const tools = await loadToolsModule();
  const redisServer = await tools.ensureRedisServer({ log: options.log });
  if (!options.temporalCli) return { redisServer };
  const temporalCli = await tools.ensureTemporalCli({ log: options.log });
  return { redisServer, temporalCli };
}
