/**
 * A local Temporal dev server (`temporal server start-dev`) for drills and the test run: the contract's search
 * attributes registered at start, on free loopback ports, in a temp dir of its own, ready once
 * `temporal operator cluster health` passes. It runs supervised (src/emulator/data-plane/supervised-process.ts):
 * if this process dies, even by SIGKILL, the server goes with it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { SEARCH_ATTRIBUTES } from '../contract/names';
import { spawnSupervised, type SupervisedProcess } from '../emulator/data-plane/supervised-process';

const DEFAULT_STARTUP_TIMEOUT_MS = 60_000;
const LOOPBACK = '127.0.0.1';

export interface DevServerOptions {
  /** the Temporal CLI binary (src/toolchain/tools.mjs ensureTemporalCli) */
  cli: string;
  /** serve the Web UI on a free port too; default false (headless) */
  ui?: boolean;
  /** how long the server may take to pass `temporal operator cluster health`; default 60 s */
  startupTimeoutMs?: number;
  /** one line when it is ready; default silent */
  log?: (line: string) => void;
  /** stops waiting for the server (and stops it) when aborted, e.g. on Ctrl-C */
  signal?: AbortSignal;
  /** more `--dynamic-config-value KEY=VALUE` settings (e.g. lower history limits, to see continue-as-new) */
  dynamicConfig?: readonly string[];
}

export interface DevServer {
  /** 127.0.0.1:PORT, the frontend gRPC address clients connect to */
  address: string;
  /** http://127.0.0.1:PORT when the Web UI is on */
  uiUrl?: string;
  /** the supervising process (its process group holds the server) */
  pid: number;
  /** the server's temp dir: its database and log */
  dir: string;
  logFile: string;
  /** stops the server and removes its dir; idempotent */
  stop(): Promise<void>;
  /** the synchronous last resort (process exit, second Ctrl-C): SIGKILL, remove the dir */
  killNow(): void;
}

/** The server did not come up: exited, or failed its health check in time. The message holds its log's tail. */
export class DevServerError extends Error {
  override name = 'DevServerError';
  constructor(
    message: string,
    /** kept for the evidence: the server's log */
    readonly logFile: string,
  ) {
    super(message);
  }
}

/** The `start-dev` arguments: loopback only, the contract's search attributes, long workflow ids allowed. */
export function devServerArgs(options: {
  port: number;
  uiPort?: number;
  dir: string;
  dynamicConfig?: readonly string[];
}): string[] {
  const searchAttributes = Object.values(SEARCH_ATTRIBUTES).flatMap((sa) => [
    '--search-attribute',
    `${sa.name}=${sa.type}`,
  ]);
  return [
    'server',
    'start-dev',
    ...(options.uiPort !== undefined ? ['--ui-port', String(options.uiPort)] : ['--headless']),
    '--ip',
    LOOPBACK,
    '--port',
    String(options.port),
    '--db-filename',
    path.join(options.dir, 'temporal.db'),
    '--log-level',
    'warn',
    ...searchAttributes,
    // Workflow ids such as failover/<group> and test ids with UUIDs can be long.
    '--dynamic-config-value',
    'limit.maxIDLength=255',
    ...(options.dynamicConfig ?? []).flatMap((value) => ['--dynamic-config-value', value]),
  ];
}

/**
 * Starts a dev server and resolves once it is healthy.
 * @throws DevServerError when it exits or stays unhealthy past the timeout (its dir is kept: the log is the evidence).
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { cli } = options;
  const timeoutMs = options.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
  const startedAt = performance.now();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geofailover-temporal-'));
  const logFile = path.join(dir, 'temporal.log');
  const port = await freePort();
  const uiPort = options.ui ? await freePort() : undefined;
  const address = `${LOOPBACK}:${port}`;
  const child = spawnSupervised(
    cli,
    devServerArgs({ port, uiPort, dir, ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}) }),
    { cwd: dir, logFile },
  );

  let stopped = false;
  const killNow = (): void => {
    if (stopped) return;
    stopped = true;
    process.off('exit', killNow);
    try {
      process.kill(-child.groupId, 'SIGKILL');
    } catch {
      // Already gone.
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', killNow);

  const deadline = Date.now() + timeoutMs;
  while (!(await clusterHealthy(cli, address))) {
    if (options.signal?.aborted) {
      killNow();
      throw new DevServerError(`stopped waiting for the Temporal dev server on ${address}: aborted`, logFile);
    }
    if (child.hasExited() || Date.now() > deadline) {
      const exit = child.hasExited() ? await child.exited : undefined;
      const why = exit
        ? `exited (${exit.signal ?? `code ${exit.code}`})`
        : `did not pass \`temporal operator cluster health\` within ${timeoutMs / 1000} s`;
      stopped = true; // keeps the directory: the log is the evidence
      process.off('exit', killNow);
      await child.terminate(1000);
      throw new DevServerError(
        `Temporal dev server on ${address} ${why}. Its log: ${logFile}\n${tail(logFile)}`,
        logFile,
      );
    }
    await sleep(250);
  }
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  options.log?.(`Temporal dev server ready on ${address} in ${seconds} s (pid ${child.groupId}, log ${logFile})`);
  return {
    address,
    ...(uiPort !== undefined ? { uiUrl: `http://${LOOPBACK}:${uiPort}` } : {}),
    pid: child.groupId,
    dir,
    logFile,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      process.off('exit', killNow);
      await stopServer(child, dir);
    },
    killNow,
  };
}

async function stopServer(child: SupervisedProcess, dir: string): Promise<void> {
  await child.terminate(10_000);
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Whether the server at `address` passes `temporal operator cluster health` (ignoring the user's profiles). */
export async function clusterHealthy(cli: string, address: string): Promise<boolean> {
  // Ignore the user's envconfig file and TEMPORAL_* variables: this is our own local server.
  const args = ['operator', 'cluster', 'health', '--address', address, '--disable-config-file', '--disable-config-env'];
  try {
    await promisify(execFile)(cli, [...args, '--command-timeout', '5s'], { timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/** A free TCP port on the loopback interface (free when asked; the caller binds it right away). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, LOOPBACK, () => {
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
