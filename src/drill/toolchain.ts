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

/**
 * Finds (or builds/installs) redis-server and, with `temporalCli`, the Temporal CLI; `log` gets their progress.
 * @throws ToolError (src/toolchain/tools.mjs) saying what to install when a tool cannot be had.
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
