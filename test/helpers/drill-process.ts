// `geofailover drill` spawned as a newcomer runs it (`--json`): its NDJSON events, exit and output, within a bound.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { DrillEvent, DrillSummary } from '../../src/drill/events';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');

export type Event = DrillEvent & Record<string, unknown>;

export interface DrillRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: Event[];
  stdout: string;
  stderr: string;
  wallMs: number;
}

export interface SpawnOptions {
  /** the shared test server (default), or none: the drill starts its own */
  server?: 'shared' | 'own';
  cwd: string;
  /** called for every NDJSON event as it arrives, with the drill's pid */
  onEvent?: (event: Event, pid: number) => void;
  /** how long the drill may take before it is killed; default 100 s */
  timeoutMs?: number;
}

/** A user's shell without their Temporal profile; TEMPORAL_ADDRESS is the shared test server unless `own`. */
export function drillEnv(server: 'shared' | 'own', dir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if ((!k.startsWith('TEMPORAL_') || k === 'TEMPORAL_CLI_PATH') && k !== 'GEOFAILOVER_CONFIG') env[k] = v;
  }
  env.TEMPORAL_CONFIG_FILE = path.join(dir, 'no-temporal-profile.toml');
  if (server === 'shared') env.TEMPORAL_ADDRESS = process.env.TEMPORAL_TEST_ADDRESS;
  return env;
}

export function spawnDrill(args: string[], options: SpawnOptions): Promise<DrillRun> {
  const started = performance.now();
  const timeoutMs = options.timeoutMs ?? 100_000;
  const child = spawn(process.execPath, [BIN, 'drill', ...args], {
    cwd: options.cwd,
    env: drillEnv(options.server ?? 'shared', options.cwd),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!line.startsWith('{"type"')) continue;
      const event = JSON.parse(line) as Event;
      events.push(event);
      options.onEvent?.(event, child.pid as number);
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`the drill did not end within ${timeoutMs / 1000} s\n--- stdout\n${stdout}\n--- stderr\n${stderr}`),
      );
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, events, stdout, stderr, wallMs: Math.round(performance.now() - started) });
    });
  });
}

export function show(run: DrillRun): string {
  const summary = run.events.at(-1);
  return `exit ${run.code ?? run.signal}; last event ${JSON.stringify(summary)}\n--- stderr\n${run.stderr}`;
}

export function summaryOf(run: DrillRun): DrillSummary & Event {
  const last = run.events.at(-1);
  assert.equal(last?.type, 'summary', `the last line is the summary\n${show(run)}`);
  return last as DrillSummary & Event;
}

export function actions(run: DrillRun, action: string): Event[] {
  return run.events.filter((e) => e.type === 'action' && e.action === action);
}

export function stepEnded(run: DrillRun, step: string): Event | undefined {
  return run.events.find((e) => e.type === 'step' && e.step === step && e.edge === 'end');
}
