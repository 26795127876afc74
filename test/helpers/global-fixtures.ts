// Mocha fixtures (registered in .mocharc.json): the tools, and a Temporal dev server per test process, shared by
// that process's test files through TEMPORAL_TEST_ADDRESS; REDIS_SERVER_PATH for the emulator.
//
// The tests run in parallel (.mocharc.json: three worker processes on two cores — most of a real-stack test is
// waiting on timers, workers and the emulator, so a third file overlaps those waits). Each worker starts its own dev
// server before its first file, so files in different workers never share a server: the contract's fixed task queue names
// (geofailover-probe-<region>) never cross between two stacks running at once. Run serially (`--no-parallel`), the
// one process starts one server the same way.
//
// - TEMPORAL_TEST_ADDRESS already set: that server is used and nothing is started (use --jobs 1 with it).
// - GEOFAILOVER_TEST_SERVER=off: no dev server and no tool lookup.
// The tools are found (or built/installed) exactly as `npm run tools` does (scripts/tools.mjs), once, in the main
// process (workers inherit REDIS_SERVER_PATH and TEMPORAL_CLI_PATH); the server is started, health-checked and
// stopped by src/drill/dev-server.ts, as `geofailover drill` does.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startDevServer, type DevServer } from '../../src/drill/dev-server';
import { sourcesWorkflowBundle } from '../../src/workflow-bundle';

const log = (line: string): void => void process.stderr.write(`[test-env] ${line}\n`);

/** Set by mochaGlobalSetup when the user named a server: nothing is started then. */
const GIVEN = 'GEOFAILOVER_TEST_SERVER_GIVEN';

let server: DevServer | undefined;
let starting: Promise<void> | undefined;

export async function mochaGlobalSetup(this: Mocha.Runner): Promise<void> {
  startLongestFirst(this);
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

/**
 * Files known to run longest (wall time, BENCHMARKS.md), longest first; then the rest, e2e before integration before
 * replay before unit. A parallel run hands its files to the worker processes in the order given, and a long file
 * handed out last would set the run's wall time.
 */
const LONGEST = [
  'test/e2e/region-evacuation.test.ts',
  'test/e2e/crash-matrix.test.ts',
  'test/e2e/crash-matrix-server.test.ts',
  'test/e2e/package-install.test.ts',
  'test/e2e/drill.test.ts',
  'test/e2e/audit.test.ts',
  'test/e2e/drill-evacuate.test.ts',
  'test/e2e/failover-faults.test.ts',
  'test/e2e/failover-gates.test.ts',
  'test/e2e/drill-continue-as-new.test.ts',
  'test/e2e/runbook-workflow.test.ts',
  'test/e2e/runbook-trust.test.ts',
  'test/e2e/failover-outages.test.ts',
];
const STAGES = ['test/e2e/', 'test/integration/', 'test/replay/', 'test/unit/'];

function rank(file: string): number {
  const relative = path.relative(process.cwd(), file);
  const known = LONGEST.indexOf(relative);
  if (known >= 0) return known;
  const stage = STAGES.findIndex((prefix) => relative.startsWith(prefix));
  return LONGEST.length + (stage < 0 ? STAGES.length : stage);
}

/**
 * Makes the runner take its files longest first, and the main process bundle the workflows (or find them in the
 * cache) before any worker process needs them, so that three processes never bundle them at once.
 */
function startLongestFirst(runner: Mocha.Runner): void {
  const withRunAsync = runner as Mocha.Runner & { runAsync?: (opts: { files?: string[] }) => Promise<number> };
  const runAsync = withRunAsync.runAsync?.bind(runner);
  if (!runAsync) return;
  withRunAsync.runAsync = async (opts) => {
    const files = opts.files ?? [];
    if (files.some((f) => !path.relative(process.cwd(), f).startsWith('test/unit/'))) {
      await sourcesWorkflowBundle().catch(() => undefined); // a broken bundle fails in the tests that need it
    }
    const order = files.map((file, i) => ({ file, i, rank: rank(file) }));
    order.sort((a, b) => a.rank - b.rank || a.i - b.i);
    return runAsync({ ...opts, files: order.map((o) => o.file) });
  };
}

/**
 * The Temporal client retries a failed gRPC call on a timer that closing its connection does not clear: a retry due
 * after a test's teardown throws "Channel has been shut down" inside that timer, an uncaught exception that would
 * kill the mocha worker process (and the files it had left) or fail an unrelated test. Exactly that error is reported
 * and ignored; any other goes where it went before: to mocha's handler while a file runs, else it ends the process.
 */
function ignoreClientRetriesAfterClose(): void {
  if (process.hasUncaughtExceptionCaptureCallback()) return;
  process.setUncaughtExceptionCaptureCallback((error) => {
    const e = error instanceof Error ? error : new Error(String(error));
    if (e.message === 'Channel has been shut down' && /grpc-retry/.test(e.stack ?? '')) {
      log(`ignored: a Temporal client retried a call after its connection was closed (${e.message})`);
      return;
    }
    if (process.listenerCount('uncaughtException') > 0) {
      (process.emit as (event: string, ...args: unknown[]) => boolean)('uncaughtException', e, 'uncaughtException');
      return;
    }
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  });
}
ignoreClientRetriesAfterClose();

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

/**
 * GEOFAILOVER_TEST_TIMINGS=FILE: one JSON line per test file (in a worker; per run when serial) with its wall time
 * and the CPU time of this process plus the children it reaped meanwhile (spawned workers, drills, redis-servers),
 * and the dev server's CPU so far — for BENCHMARKS.md; CPU is what compares on a loaded machine.
 */
const TIMINGS = process.env.GEOFAILOVER_TEST_TIMINGS;
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** [self, reaped children] CPU ms of a process, from /proc/PID/stat (utime stime cutime cstime). */
function procCpuMs(pid: number | 'self'): [number, number] {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return [(f[11]! + f[12]!) * TICK_MS, (f[13]! + f[14]!) * TICK_MS];
  } catch {
    return [0, 0];
  }
}

/** The dev server process (the supervising shell's child) of this process's server: its CPU so far. */
function serverCpuMs(): number {
  if (!server) return 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === server.pid) return procCpuMs(Number(entry))[0];
    } catch {
      // gone meanwhile
    }
  }
  return 0;
}

let fileStart: { wall: number; cpu: number } | undefined;

function startTiming(): void {
  if (!TIMINGS) return;
  const [self, children] = procCpuMs('self');
  fileStart = { wall: performance.now(), cpu: self + children };
}

function endTiming(this: Mocha.Context): void {
  if (!TIMINGS || !fileStart) return;
  const [self, children] = procCpuMs('self');
  const root = this.test?.parent;
  const file = root?.file ?? root?.suites.find((s) => s.file)?.file ?? '?';
  appendFileSync(
    TIMINGS,
    `${JSON.stringify({
      file: file.replace(`${process.cwd()}/`, ''),
      worker: process.env.MOCHA_WORKER_ID ?? 'main',
      wallMs: Math.round(performance.now() - fileStart.wall),
      cpuMs: self + children - fileStart.cpu,
      serverCpuMs: serverCpuMs(),
    })}\n`,
  );
  fileStart = undefined;
}

/** GEOFAILOVER_TEST_TIMINGS_TESTS=1 adds a line per test (`test`: its full title) to the per-file lines. */
const PER_TEST = TIMINGS && process.env.GEOFAILOVER_TEST_TIMINGS_TESTS === '1';
let testStart: { wall: number; cpu: number } | undefined;

export const mochaHooks = {
  // In a worker this runs before each of its files; the server starts once per process.
  async beforeAll(): Promise<void> {
    await ensureServer();
    startTiming();
  },
  afterAll: endTiming,
  ...(PER_TEST
    ? {
        beforeEach(): void {
          const [self, children] = procCpuMs('self');
          testStart = { wall: performance.now(), cpu: self + children };
        },
        afterEach(this: Mocha.Context): void {
          if (!TIMINGS || !testStart) return;
          const [self, children] = procCpuMs('self');
          appendFileSync(
            TIMINGS,
            `${JSON.stringify({
              file: (this.currentTest?.file ?? '?').replace(`${process.cwd()}/`, ''),
              test: this.currentTest?.fullTitle() ?? '?',
              wallMs: Math.round(performance.now() - testStart.wall),
              cpuMs: self + children - testStart.cpu,
            })}\n`,
          );
        },
      }
    : {}),
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
