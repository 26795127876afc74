/**
 * The `geofailover emulator` command logic: run the emulator until SIGINT/SIGTERM (printing one
 * ready line of JSON on stdout), or talk to a running one through its control API.
 */
import { writeFileSync } from 'node:fs';
import type { CommandIo } from '../contract/command-io';
import type { MutationCount } from './counters';
import type {
  FaultState,
  FirewallInput,
  FirewallRule,
  LatencyFault,
  LatencyInput,
  LroFault,
  LroFaultInput,
  ThrottleFault,
  ThrottleInput,
} from './faults';
import type { EmulatorState, startEmulator as StartEmulatorFn } from './index';

type StartEmulator = typeof StartEmulatorFn;
import { peopleKeys, writePeopleKeys } from '../signing/key-files';
import path from 'node:path';
import { configForEmulator, DEFAULT_APPROVERS, writeIdentitySecret } from './config';
import type { IdentityEndpoint } from './identity';
import type { LatencySettings } from './latencies';
import { parseLatencySpec } from './latencies';
import { defaultScenario, scenarioFromSpec } from './scenario';

export const CONTROL_ENV = 'GEOFAILOVER_EMULATOR_CONTROL';

export interface RunEmulatorOptions {
  /** a scenario file, or `estate:N` for a generated estate of N groups */
  scenarioFile?: string;
  port?: number;
  controlPort?: number;
  redisServerPath?: string;
  workDir?: string;
  lroDurationMs?: number;
  metadataTickMs?: number;
  /** one access-log line per ARM request on stderr */
  verbose?: boolean;
  /** write a geofailover configuration for this emulator's addresses and CA to this file once ready */
  writeConfig?: string;
  /** `per-database`, `shared` or `auto` (default: shared above 30 databases) */
  dataPlane?: 'per-database' | 'shared' | 'auto';
  /** emulated latencies, e.g. `arm-read=150ms,arm-write=1s,lro=10s,probe=30ms` */
  latency?: string;
}

export type { CommandIo };

/** The line `geofailover emulator` prints once it is ready. */
export interface ReadyLine {
  arm: string;
  ca: string;
  control: string;
  /**
   * How to get a token from the emulated tenant (`ClientSecretCredential` with this authority host): test-only
   * credentials, valid for this emulator's lifetime only.
   */
  identity: IdentityEndpoint;
}

/**
 * Starts the emulator, prints the ready line, and resolves with exit code 0 once a SIGINT or SIGTERM
 * has stopped it (redis-servers included).
 * @throws ScenarioError for a scenario file that is missing or invalid (bad usage).
 */
export async function runEmulator(options: RunEmulatorOptions, io: CommandIo): Promise<number> {
  const scenario = options.scenarioFile ? scenarioFromSpec(options.scenarioFile) : defaultScenario();
  const latencies = options.latency !== undefined ? parseLatencySpec(options.latency) : undefined;
  const startedAt = performance.now();
  const log = (line: string): void => io.stderr(`[emulator] ${line}\n`);
  // Loaded here, not at the top: every other CLI command imports this module and need not pay for it.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { startEmulator } = require('./index') as { startEmulator: StartEmulator };
  const emulator = await startEmulator({
    scenario,
    port: options.port,
    controlPort: options.controlPort,
    redisServerPath: options.redisServerPath,
    workDir: options.workDir,
    lro: options.lroDurationMs !== undefined ? { durationMs: options.lroDurationMs } : undefined,
    metadataTickMs: options.metadataTickMs,
    log,
    accessLog: options.verbose ?? false,
    dataPlane: options.dataPlane,
    latencies,
  });
  log(
    `started in ${((performance.now() - startedAt) / 1000).toFixed(1)} s: ${scenario.clusters.length} cluster(s), ` +
      `data plane ${emulator.dataPlane.shape} (${emulator.dataPlane.redisServers} redis-server(s))`,
  );
  if (options.writeConfig) {
    // The default people get fresh keys beside the configuration: decisions are signed, even in a demo.
    const keyDir = path.join(path.dirname(path.resolve(options.writeConfig)), 'geofailover-keys');
    const keys = writePeopleKeys(keyDir, DEFAULT_APPROVERS);
    const identity = writeIdentitySecret(emulator.identity, options.writeConfig);
    const config = configForEmulator(emulator.state(), emulator.caPath, peopleKeys(keys), identity);
    writeFileSync(options.writeConfig, `${JSON.stringify(config, null, 2)}\n`);
    const names = Object.keys(config.groups);
    const listed = names.length > 5 ? `${names.slice(0, 3).join(', ')}, … ${names.at(-1)}` : names.join(', ');
    log(`wrote ${options.writeConfig} (${names.length} group(s): ${listed})`);
    log(`wrote the emulator's test-only client secret to ${identity.secretFile} (mode 600)`);
    log(`wrote signing keys for ${DEFAULT_APPROVERS.join(', ')} to ${keyDir}: sign with --key ${keyDir}/NAME.key`);
  }
  const ready: ReadyLine = {
    arm: emulator.arm,
    ca: emulator.caPath,
    control: emulator.control,
    identity: emulator.identity,
  };
  io.stdout(`${JSON.stringify(ready)}\n`);
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  log(`${signal}: stopping`);
  await emulator.close();
  return 0;
}

/** The control API answered with an error (400 for bad input). */
export class ControlApiError extends Error {
  override name = 'ControlApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The control API could not be reached at all. */
export class ControlUnreachableError extends Error {
  override name = 'ControlUnreachableError';
}

/** A client of a running emulator's control API (see control.ts for the routes). */
export class ControlClient {
  readonly baseUrl: string;

  constructor(baseUrl: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(60_000),
      });
    } catch (e) {
      const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
      throw new ControlUnreachableError(`cannot reach the emulator's control API at ${this.baseUrl}: ${cause}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      throw new ControlApiError(
        res.status,
        'InvalidResponse',
        `${this.baseUrl}${path} answered non-JSON: ${text.slice(0, 200)}`,
      );
    }
    if (!res.ok) {
      const error = (parsed as { error?: { code?: string; message?: string } } | undefined)?.error;
      throw new ControlApiError(res.status, error?.code ?? `HTTP${res.status}`, error?.message ?? text);
    }
    return parsed as T;
  }

  outage(region: string): Promise<FaultState> {
    return this.request('POST', '/faults/outage', { region });
  }
  restore(region: string): Promise<FaultState> {
    return this.request('POST', '/faults/restore', { region });
  }
  throttle(input: ThrottleInput): Promise<ThrottleFault> {
    return this.request('POST', '/faults/throttle', input);
  }
  lro(input: LroFaultInput): Promise<LroFault> {
    return this.request('POST', '/faults/lro', input);
  }
  latency(input: LatencyInput): Promise<LatencyFault> {
    return this.request('POST', '/faults/latency', input);
  }
  /** The emulated latencies; `settings` changes the kinds it names. */
  latencies(settings?: Partial<LatencySettings>): Promise<LatencySettings> {
    return settings === undefined ? this.request('GET', '/latencies') : this.request('POST', '/latencies', settings);
  }
  firewall(input: FirewallInput): Promise<FirewallRule[]> {
    return this.request('POST', '/faults/firewall', input);
  }
  reset(): Promise<FaultState> {
    return this.request('POST', '/faults/reset');
  }
  faults(): Promise<FaultState> {
    return this.request('GET', '/faults');
  }
  counters(): Promise<MutationCount[]> {
    return this.request('GET', '/counters');
  }
  resetCounters(): Promise<{ ok: boolean }> {
    return this.request('POST', '/counters/reset');
  }
  state(): Promise<EmulatorState> {
    return this.request('GET', '/state');
  }
}

/** Renders the counters as an aligned text table. */
export function formatCounters(rows: MutationCount[]): string {
  if (rows.length === 0) return 'no mutating calls yet\n';
  const sorted = [...rows].sort(
    (a, b) => a.resourceId.localeCompare(b.resourceId) || a.operation.localeCompare(b.operation),
  );
  const opWidth = Math.max('OPERATION'.length, ...sorted.map((r) => r.operation.length));
  const lines = [`COUNT  ${'OPERATION'.padEnd(opWidth)}  RESOURCE`];
  for (const r of sorted) lines.push(`${String(r.count).padStart(5)}  ${r.operation.padEnd(opWidth)}  ${r.resourceId}`);
  return `${lines.join('\n')}\n`;
}
