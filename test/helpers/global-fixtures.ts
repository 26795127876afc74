// Mocha fixtures (registered in .mocharc.json): the tools, and a Temporal dev server per test process, shared by
// that process's test files through TEMPORAL_TEST_ADDRESS; REDIS_SERVER_PATH for the emulator.
//
// The tests run in parallel (.mocharc.json: two worker processes). Each worker starts its own dev server before its
// first file, so files in different workers never share a server: the contract's fixed task queue names
// (geofailover-probe-<region>) never cross between two stacks running at once. Run serially (`--no-parallel`), the
// one process starts one server the same way.
//
// - TEMPORAL_TEST_ADDRESS already set: that server is used and nothing is started (use --jobs 1 with it).
// - GEOFAILOVER_TEST_SERVER=off: no dev server and no tool lookup.
// The tools are found (or built/installed) exactly as `npm run tools` does (scripts/tools.mjs), once, in the main
// process (workers inherit REDIS_SERVER_PATH and TEMPORAL_CLI_PATH); the server is started, health-checked and
// stopped by src/drill/dev-server.ts, as `geofailover drill` does.
import { startDevServer, type DevServer } from '../../src/drill/dev-server';

const log = (line: string): void => void process.stderr.write(`[test-env] ${line}\n`);

/** Set by mochaGlobalSetup when the user named a server: nothing is started then. */
const GIVEN = 'GEOFAILOVER_TEST_SERVER_GIVEN';

let server: DevServer | undefined;
let starting: Promise<void> | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.GEOFAILOVER_TEST_SERVER === 'off') return;
  const tools = await import('../../scripts/tools.mjs');
  const redis = await tools.ensureRedisServer({ log });
  process.env.REDIS_SERVER_PATH = redis.path;
  if (process.env.TEMPORAL_TEST_ADDRESS) {
    process.env[GIVEN] = '1';
    log(`using the Temporal server at TEMPORAL_TEST_ADDRESS=${process.env.TEMPORAL_TEST_ADDRESS}`);
    return;
  }
  const cli = await tools.ensureTemporalCli({ log });
  process.env.TEMPORAL_CLI_PATH = cli.path;
}

/** This process's dev server, started before its first test file runs. */
function ensureServer(): Promise<void> {
  starting ??= (async () => {
    if (process.env.GEOFAILOVER_TEST_SERVER === 'off' || process.env[GIVEN]) return;
    const cli = process.env.TEMPORAL_CLI_PATH;
    if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: run the tests with mocha and the project .mocharc.json');
    // Before the start: a Ctrl-C while it comes up exits through process.exit, whose handler kills it.
    installExitHandlers();
    const worker = process.env.MOCHA_WORKER_ID;
    server = await startDevServer({
      cli,
      log: (line) => log(worker === undefined ? line : `worker ${worker}: ${line}`),
    });
    process.env.TEMPORAL_TEST_ADDRESS = server.address;
  })();
  return starting;
}

export const mochaHooks = {
  // In a worker this runs before each of its files; the server starts once per process.
  beforeAll: ensureServer,
};

export async function mochaGlobalTeardown(): Promise<void> {
  const current = server;
  server = undefined;
  await current?.stop();
}

let handlersInstalled = false;
/**
 * Ctrl-C, SIGTERM (the worker pool ending a worker) and process exit: never leave a server or its files behind
 * (startDevServer also stops it at process exit).
 */
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      server?.killNow();
      server = undefined;
      process.exit(code);
    });
  }
  process.once('exit', () => server?.killNow());
}
