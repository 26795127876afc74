/**
 * The drill's Temporal side: which server (its own dev server, or the one TEMPORAL_ADDRESS and the Temporal
 * conventions name), the client and the workers' native connection to it, and an SDK runtime that logs to the
 * drill's log file and leaves Ctrl-C to the drill.
 */
import { appendFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime } from '@temporalio/worker';
import { prometheusMetrics } from '../observability/prometheus';
import { cliIdentity } from '../starter';
import { resolveTemporalSettings, type TemporalConnectionOptions } from '../temporal/connection';

type ConnectionOptions = TemporalConnectionOptions;

export interface TemporalTarget {
  address: string;
  namespace: string;
  /** the drill started this server (and stops it) */
  ownServer: boolean;
  connectionOptions: ConnectionOptions;
  /** the Web UI's base URL, when known: the own dev server's, else --ui-url, temporal.uiUrl, GEOFAILOVER_TEMPORAL_UI */
  uiUrl?: string;
}

/**
 * The server the Temporal conventions name (src/temporal/connection.ts): TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TEMPORAL_TLS_*, the envconfig profile.
 * @throws TemporalSettingsError when those settings cannot work (a certificate that does not read, ...).
 */
export function conventionalTarget(env: NodeJS.ProcessEnv = process.env): TemporalTarget {
  const settings = resolveTemporalSettings({ env });
  return {
    address: settings.address,
    namespace: settings.namespace,
    ownServer: false,
    connectionOptions: settings.connectionOptions,
    ...(settings.uiUrl ? { uiUrl: settings.uiUrl } : {}),
  };
}

/** The drill's own dev server: plain loopback, namespace default, nothing from the user's profiles. */
export function ownServerTarget(address: string, uiUrl?: string): TemporalTarget {
  return {
    address,
    namespace: 'default',
    ownServer: true,
    connectionOptions: { address },
    ...(uiUrl ? { uiUrl } : {}),
  };
}

export interface TemporalConnections {
  /** the drill's own client (history, queries) */
  client: Client;
  /** a client acting as `by` (identity geofailover:<by>@<host>), so history names who started, decided, signalled */
  clientAs(by: string): Client;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

/**
 * Connects the client and the workers' native connection (installing the drill's SDK runtime, logging to
 * `logFile`, right before the latter).
 * @throws Error naming the address (and what to do) when the server cannot be reached.
 */
export async function connectTemporal(
  target: TemporalTarget,
  logFile: string,
  metricsPort?: number,
): Promise<TemporalConnections> {
  const unreachable = (e: unknown): Error =>
    new Error(
      `cannot connect to the Temporal server at ${target.address} (namespace ${target.namespace}): ` +
        `${(e as Error)?.message ?? String(e)}` +
        (target.ownServer ? '' : '; check TEMPORAL_ADDRESS, or unset it to let the drill start its own dev server'),
    );
  let connection: Connection;
  try {
    connection = await Connection.connect(target.connectionOptions);
  } catch (e) {
    throw unreachable(e);
  }
  let nativeConnection: NativeConnection;
  // Only now: an installed runtime with no native object ever created would keep the process alive.
  installDrillRuntime(logFile, metricsPort);
  try {
    nativeConnection = await NativeConnection.connect(target.connectionOptions);
  } catch (e) {
    await connection.close();
    throw unreachable(e);
  }
  const clients = new Map<string, Client>();
  return {
    client: new Client({ connection, namespace: target.namespace, identity: cliIdentity('drill') }),
    clientAs: (by) => {
      let client = clients.get(by);
      if (!client) {
        client = new Client({ connection, namespace: target.namespace, identity: cliIdentity(by) });
        clients.set(by, client);
      }
      return client;
    },
    nativeConnection,
    close: async () => {
      await Promise.allSettled([nativeConnection.close(), connection.close()]);
    },
  };
}

/**
 * Installs the SDK runtime for the drill's process: SDK and core logs (INFO and up) into `logFile`, none on the
 * terminal, and no shutdown signals of its own — Ctrl-C stops the whole drill, not only its workers. Keeps a
 * runtime that is already installed.
 */
export function installDrillRuntime(logFile: string, metricsPort?: number): void {
  const write = (line: string): void => {
    try {
      appendFileSync(logFile, line);
    } catch {
      // The work dir is gone (the drill is ending): nothing left to log to.
    }
  };
  try {
    Runtime.install({
      logger: new DefaultLogger('INFO', ({ level, message, meta, timestampNanos }) => {
        const at = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
        write(
          `${at} [${level}] ${message}${meta === undefined ? '' : ` ${inspect(meta, { depth: 4, breakLength: Infinity })}`}\n`,
        );
      }),
      telemetryOptions: {
        logging: { filter: makeTelemetryFilterString({ core: 'WARN' }), forward: {} },
        // The workers' Prometheus endpoint: SDK metrics and the runbook's (RTO, gate waits, destructive calls).
        ...(metricsPort !== undefined ? { metrics: prometheusMetrics('127.0.0.1', metricsPort) } : {}),
      },
      shutdownSignals: [],
    });
  } catch {
    // Already installed (a test, or an embedding program): keep it.
  }
}
