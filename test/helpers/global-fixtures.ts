// Mocha global fixtures (registered in .mocharc.json): one Temporal dev server for the whole test run,
// shared by every test file through TEMPORAL_TEST_ADDRESS, and REDIS_SERVER_PATH for the emulator.
//
// - TEMPORAL_TEST_ADDRESS already set: that server is used and nothing is started.
// - GEOFAILOVER_TEST_SERVER=off (npm run test:unit): no dev server and no tool lookup.
// The tools are found (or built/installed) exactly as `npm run tools` does (scripts/tools.mjs); the server is
// started, health-checked and stopped by src/drill/dev-server.ts, as `geofailover drill` does.
import { startDevServer, type DevServer } from '../../src/drill/dev-server';

const log = (line: string): void => void process.stderr.write(`[test-env] ${line}\n`);

let server: DevServer | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.GEOFAILOVER_TEST_SERVER === 'off') return;
  const tools = await import('../../scripts/tools.mjs');
  const redis = await tools.ensureRedisServer({ log });
  process.env.REDIS_SERVER_PATH = redis.path;
  if (process.env.TEMPORAL_TEST_ADDRESS) {
    log(`using the Temporal server at TEMPORAL_TEST_ADDRESS=${process.env.TEMPORAL_TEST_ADDRESS}`);
    return;
  }
  const cli = await tools.ensureTemporalCli({ log });
  // Before the start: a Ctrl-C while it comes up exits through process.exit, whose handler kills it.
  installExitHandlers();
  server = await startDevServer({ cli: cli.path, log });
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
}

export async function mochaGlobalTeardown(): Promise<void> {
  const current = server;
  server = undefined;
  await current?.stop();
}

let handlersInstalled = false;
/** Ctrl-C and SIGTERM: never leave a server or its files behind (startDevServer covers process exit). */
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
}
