// A private Temporal dev server for one test file that can crash and come back: file-backed
// (`start-dev --db-filename`), so workflows, histories and task queues survive a restart, on the same loopback
// port, so clients and workers only have to reconnect. Same arguments and search attributes as the shared
// server (src/drill/dev-server.ts), supervised the same way: it dies with this process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterHealthy, devServerArgs, freePort } from '../../src/drill/dev-server';
import { spawnSupervised, type SupervisedProcess } from '../../src/emulator/data-plane/supervised-process';

const STARTUP_TIMEOUT_MS = 90_000;

export interface RestartableDevServer {
  /** 127.0.0.1:PORT, the same across restarts */
  readonly address: string;
  /** holds the database (temporal.db) and the log */
  readonly dir: string;
  readonly logFile: string;
  /** how many times it has been started */
  readonly starts: number;
  running(): boolean;
  /** Kills the server (SIGKILL: a crash; only what the database committed survives) and waits until it is gone. */
  crash(): Promise<void>;
  /** Starts it again on the same port with the same database; resolves once it is healthy. */
  start(): Promise<void>;
  /** Kills it and removes its dir; idempotent. */
  close(): Promise<void>;
}

async function temporalCli(): Promise<string> {
  if (process.env.TEMPORAL_CLI_PATH) return process.env.TEMPORAL_CLI_PATH;
  const tools = await import('../../scripts/tools.mjs');
  return (await tools.ensureTemporalCli({ log: () => undefined })).path;
}

function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a private, file-backed dev server on a free port and resolves once it is healthy. */
export async function startRestartableDevServer(): Promise<RestartableDevServer> {
  const cli = await temporalCli();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geofailover-temporal-restartable-'));
  const logFile = path.join(dir, 'temporal.log');
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  let child: SupervisedProcess | undefined;
  let starts = 0;
  let closed = false;

  const crash = async (): Promise<void> => {
    const current = child;
    child = undefined;
    // terminate() SIGKILLs the server through its supervisor.
    if (current && !current.hasExited()) await current.terminate(5000);
  };

  const start = async (): Promise<void> => {
    if (closed) throw new Error('the dev server is closed');
    if (child && !child.hasExited()) throw new Error(`the dev server on ${address} is already running`);
    starts += 1;
    fs.appendFileSync(logFile, `\n--- start ${starts}\n`);
    const started = spawnSupervised(cli, devServerArgs({ port, dir }), { cwd: dir, logFile });
    child = started;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (!(await clusterHealthy(cli, address))) {
      if (started.hasExited() || Date.now() > deadline) {
        const exit = started.hasExited() ? await started.exited : undefined;
        await crash();
        throw new Error(
          `Temporal dev server on ${address} ${exit ? `exited (${exit.signal ?? `code ${exit.code}`})` : 'stayed unhealthy'} ` +
            `at start ${starts}; its log ${logFile}:\n${tail(logFile)}`,
        );
      }
      await sleep(250);
    }
  };

  const server: RestartableDevServer = {
    address,
    dir,
    logFile,
    get starts() {
      return starts;
    },
    running: () => child !== undefined && !child.hasExited(),
    crash,
    start,
    close: async () => {
      if (closed) return;
      closed = true;
      await crash();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await start();
  } catch (e) {
    await server.close().catch(() => undefined);
    throw e;
  }
  return server;
}
