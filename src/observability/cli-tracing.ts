/**
 * Tracing for the CLI's Temporal client: on when the standard OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT is set, so
 * `geofailover start` opens the trace that the workflow and its activities join on the worker.
 */
import type { ClientInterceptors } from '@temporalio/client';
import type { Tracing } from './tracing';
import type * as TracingModule from './tracing';

let tracing: Tracing | undefined;

/** The client interceptors when tracing is on; undefined otherwise. */
export function cliClientInterceptors(env: NodeJS.ProcessEnv = process.env): ClientInterceptors | undefined {
  // The same test as tracingEnabled, without loading OpenTelemetry for commands that do not trace.
  if (!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT && !env.OTEL_EXPORTER_OTLP_ENDPOINT) return undefined;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when tracing is on
  const { createTracing } = require('./tracing') as typeof TracingModule;
  tracing ??= createTracing({ serviceName: env.OTEL_SERVICE_NAME ?? 'geofailover-cli' });
  return { workflow: tracing.clientInterceptors };
}

/** Exports the CLI's spans before it exits. */
export async function shutdownCliTracing(): Promise<void> {
  const t = tracing;
  tracing = undefined;
  await t?.shutdown();
}
