/**
 * The worker's observability from its configuration and flags: the SDK Runtime (log level and format, Prometheus
 * metrics: the SDK's own and the runbook's geofailover_*), and OpenTelemetry traces. Installed once per process,
 * before the first connection.
 */
import { makeTelemetryFilterString, Runtime, type LogLevel } from '@temporalio/worker';
import type { ObservabilityConfig } from '../config/schema';
import { createLogger, type LogFormat } from './logging';
import { prometheusMetrics } from './prometheus';
import { createTracing, tracingEnabled, type Tracing, type TracingSettings } from './tracing';

export interface ObservabilityOverrides {
  /** --log-level */
  logLevel?: LogLevel;
  /** --log-format */
  logFormat?: LogFormat;
  /** --metrics-port */
  metricsPort?: number;
}

export interface ObservabilitySettings {
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Prometheus scrape endpoint; absent: no metrics */
  metrics?: { host: string; port: number };
  /** absent: no traces */
  tracing?: TracingSettings;
}

/** The settings: flags over the configuration's `observability` section over the defaults and OTEL_* variables. */
export function observabilitySettings(
  config: ObservabilityConfig | undefined,
  overrides: ObservabilityOverrides = {},
  env: NodeJS.ProcessEnv = process.env,
): ObservabilitySettings {
  const port = overrides.metricsPort ?? config?.metrics?.port;
  const tracing = config?.tracing;
  return {
    logLevel: overrides.logLevel ?? config?.logLevel ?? 'INFO',
    logFormat: overrides.logFormat ?? config?.logFormat ?? 'text',
    ...(port !== undefined ? { metrics: { host: config?.metrics?.host ?? '0.0.0.0', port } } : {}),
    ...(tracingEnabled(tracing !== undefined, env)
      ? {
          tracing: {
            serviceName: tracing?.serviceName ?? env.OTEL_SERVICE_NAME ?? 'geofailover',
            ...(tracing?.endpoint ? { endpoint: tracing.endpoint } : {}),
          },
        }
      : {}),
  };
}

/** Thrown when the SDK Runtime was already made (so metrics or the log format cannot be set any more). */
export class TelemetrySetupError extends Error {
  override name = 'TelemetrySetupError';
}

/** Whether these settings need the Runtime installed (anything but the SDK's defaults). */
export function needsRuntime(settings: ObservabilitySettings): boolean {
  return settings.metrics !== undefined || settings.logFormat !== 'text' || settings.logLevel !== 'INFO';
}

/**
 * Installs the SDK Runtime with the logger and the Prometheus exporter. Core's own log lines are forwarded to the
 * same logger (so JSON means every line). Must run before the first NativeConnection of the process.
 * @throws TelemetrySetupError when a Runtime already exists
 */
export function installRuntime(settings: ObservabilitySettings): Runtime {
  if (Runtime._instance) {
    throw new TelemetrySetupError(
      'the Temporal SDK runtime was already created in this process: logs and metrics settings must be installed first',
    );
  }
  const coreLevel: LogLevel =
    settings.logLevel === 'TRACE' || settings.logLevel === 'DEBUG' ? settings.logLevel : 'WARN';
  return Runtime.install({
    logger: createLogger(settings.logLevel, settings.logFormat),
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: coreLevel, other: 'ERROR' }), forward: {} },
      ...(settings.metrics ? { metrics: prometheusMetrics(settings.metrics.host, settings.metrics.port) } : {}),
    },
  });
}

export interface Observability {
  settings: ObservabilitySettings;
  tracing?: Tracing;
  /** flushes spans; call when the worker stops */
  shutdown(): Promise<void>;
}

/** Installs what the settings ask for: the Runtime when needed, and tracing when on. */
export function setUpObservability(settings: ObservabilitySettings): Observability {
  if (needsRuntime(settings)) installRuntime(settings);
  const tracing = settings.tracing ? createTracing(settings.tracing) : undefined;
  return { settings, ...(tracing ? { tracing } : {}), shutdown: async () => tracing?.shutdown() };
}
