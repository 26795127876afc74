/**
 * OpenTelemetry traces across the CLI, the workflow and its activities (@temporalio/interceptors-opentelemetry):
 * `geofailover start` opens the trace, the workflow's spans and every activity's span join it, and the spans go to
 * an OTLP/HTTP collector. Off unless configured (`observability.tracing` or the standard OTEL_EXPORTER_OTLP_*
 * variables).
 */
import * as otel from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { WorkflowClientInterceptor } from '@temporalio/client';
import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import type { InjectedSinks, WorkerInterceptors } from '@temporalio/worker';
import { AsyncLocalStorageContextManager } from './context-manager';

export interface TracingSettings {
  /** OTLP/HTTP traces endpoint (…/v1/traces); absent: the exporter reads OTEL_EXPORTER_OTLP_* itself */
  endpoint?: string;
  serviceName: string;
  /** tests: export here instead of OTLP, span by span */
  exporter?: SpanExporter;
}

/** Whether tracing is on: the configuration's section, or the standard OTLP endpoint variables. */
export function tracingEnabled(configured: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return configured || !!env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || !!env.OTEL_EXPORTER_OTLP_ENDPOINT;
}

export interface Tracing {
  tracer: otel.Tracer;
  /** the workflow interceptors module the worker bundles with the workflows */
  workflowModules: string[];
  /** Worker.create's interceptors: workflow module, activity inbound/outbound */
  workerInterceptors: WorkerInterceptors;
  /** Worker.create's sinks: the workflow's spans leave the sandbox through `exporter` */
  sinks: InjectedSinks<Record<string, never>>;
  /** Client interceptors: the span of `start` (and of signals, queries, updates) is the trace's root */
  clientInterceptors: WorkflowClientInterceptor[];
  /** exports what is left; call at shutdown */
  shutdown(): Promise<void>;
}

let registered = false;

/** Builds the tracer provider, registers W3C propagation and the async context, and the Temporal interceptors. */
export function createTracing(settings: TracingSettings): Tracing {
  const resource = new Resource({ 'service.name': settings.serviceName });
  const processor: SpanProcessor = settings.exporter
    ? new SimpleSpanProcessor(settings.exporter)
    : new BatchSpanProcessor(new OTLPTraceExporter(settings.endpoint ? { url: settings.endpoint } : {}));
  const provider = new BasicTracerProvider({ resource, spanProcessors: [processor] });
  if (!registered) {
    // Global on purpose: the interceptors propagate through otel.propagation and otel.context.
    otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    registered = true;
  }
  const tracer = provider.getTracer('geofailover');
  const workflowModules = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];
  return {
    tracer,
    workflowModules,
    workerInterceptors: {
      workflowModules,
      activity: [
        (ctx) => ({
          inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }),
          outbound: new OpenTelemetryActivityOutboundInterceptor(ctx),
        }),
      ],
    },
    sinks: { exporter: makeWorkflowExporter(processor, resource) } as unknown as InjectedSinks<Record<string, never>>,
    clientInterceptors: [new OpenTelemetryWorkflowClientInterceptor({ tracer })],
    shutdown: () => provider.shutdown(),
  };
}
