// Mocha global fixtures (registered in .mocharc.json): one Temporal dev server for the whole test run,
// shared by every test file through TEMPORAL_TEST_ADDRESS, and REDIS_SERVER_PATH for the emulator.
//
// - TEMPORAL_TEST_ADDRESS already set: that server is used and nothing is started.
// - GEOFAILOVER_TEST_SERVER=off (npm run test:unit): no dev server and no tool lookup.
// The tools are found (or built/installed) exactly as `npm run tools` does (scripts/tools.mjs).
import type { ChildProcess } from 'node:child_process';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTES } from '../../src/contract/names';

const STARTUP_TIMEOUT_MS = 60_000;
const log = (line: string): void => void process.stderr.write(`[test-env] ${line}\n`);

interface DevServer {
  child: ChildProcess;
  dir: string;
  address: string;
}

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
  server = await startDevServer(cli.path);
  process.env.TEMPORAL_TEST_ADDRESS = server.address;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await stopDevServer();
}

function devServerArgs(port: number, dir: string): string[] {
  const searchAttributes = Object.values(SEARCH_ATTRIBUTES).flatMap((sa) => [
    '--search-attribute',
    `${sa.name}=${sa.type}`,
  ]);
  return [
    'server',
    'start-dev',
    '--headless',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    path.join(dir, 'temporal.db'),
    '--log-level',
    'warn',
    ...searchAttributes,
    // Workflow ids such as failover/<group> and test ids with UUIDs can be long.
    '--dynamic-config-value',
    'limit.maxIDLength=255',
  ];
}

async function startDevServer(cli: string): Promise<DevServer> {
  const startedAt = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geofailover-temporal-'));
  const logFile = path.join(dir, 'temporal.log');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cli, devServerArgs(port, dir), { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  server = { child, dir, address };
  installExitHandlers();

  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (!(await healthy(cli, address))) {
    const exited = child.exitCode !== null || child.signalCode !== null;
    if (exited || Date.now() > deadline) {
      const why = exited
        ? `exited (${child.signalCode ?? `code ${child.exitCode}`})`
        : `did not pass \`temporal operator cluster health\` within ${STARTUP_TIMEOUT_MS / 1000} s`;
      child.kill('SIGKILL');
      server = undefined; // keeps the directory: the log is the evidence
      throw new Error(`Temporal dev server on ${address} ${why}. Its log: ${logFile}\n${tail(logFile)}`);
    }
    await sleep(250);
  }
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  log(`Temporal dev server ready on ${address} in ${seconds} s (pid ${child.pid}, log ${logFile})`);
  return server;
}

async function healthy(cli: string, address: string): Promise<boolean> {
  // Ignore the user's envconfig file and TEMPORAL_* variables: this is our own local server.
  const args = ['operator', 'cluster', 'health', '--address', address, '--disable-config-file', '--disable-config-env'];
  try {
    await promisify(execFile)(cli, [...args, '--command-timeout', '5s'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopDevServer(): Promise<void> {
  const current = server;
  if (!current) return;
  server = undefined;
  const { child, dir } = current;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    if ((await Promise.race([exited, sleep(10_000, 'timeout')])) === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Synchronous last resort (process exit, Ctrl-C, SIGTERM): never leave a server or its files behind. */
function killNow(): void {
  if (!server) return;
  server.child.kill('SIGKILL');
  fs.rmSync(server.dir, { recursive: true, force: true });
  server = undefined;
}

let handlersInstalled = false;
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.once('exit', killNow);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      killNow();
      process.exit(code);
    });
  }
}
