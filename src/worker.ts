import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { createActivities, createProbeActivities, type ActivityDependencies } from './activities';
import type { GeofailoverActivities, ProbeActivities } from './activities/types';
import { createAzureMonitorMetrics, defaultMetricsEndpoint } from './azure/metrics';
import { createArmClients, type CreateArmClientsOptions } from './azure/clients';
import { processWriteBudget } from './azure/write-budget';
import { credentialFromConfig, IdentitySecretError } from './azure/credentials';
import type { TokenCredential } from '@azure/core-auth';
import { parseDatabaseId } from './azure/resource-ids';
import type { PolicyLookup } from './contract/policy';
import { policyFromConfig } from './policy/from-config';
import type { GeofailoverConfig } from './config/schema';
import {
  checkEscalationWebhooks,
  checkNotificationTargets,
  escalationWebhookResolver,
  notificationTargetsResolver,
  WebhookReferenceError,
} from './config/webhook';
import { probeTaskQueue, TASK_QUEUE } from './contract/names';
import { resolveTemporalSettings, type TemporalFlags, type TemporalSettings } from './temporal/connection';
import { connectNativeConnection } from './temporal/native';
import { workflowBundleFile } from './workflow-bundle';
import { observabilitySettings, setUpObservability, type ObservabilityOverrides } from './observability/telemetry';
import type { Tracing } from './observability/tracing';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  /** default: 'default' */
  namespace?: string;
  /** default: TASK_QUEUE ('geofailover'); tests pass a unique queue */
  taskQueue?: string;
  /** every activity in production; tests may register a subset (or fakes) */
  activities: Partial<GeofailoverActivities>;
  /** a prebuilt bundle (tests bundle once per process); default: the build's (dist/workflows.bundle.js), else src/workflows bundled once and cached */
  workflowBundle?: WorkflowBundleOption;
  /** OpenTelemetry: interceptors and the workflow span sink (a given bundle must include `tracing.workflowModules`) */
  tracing?: Tracing;
}

/** Builds the main worker: every geofailover workflow plus the given activities, polling one task queue. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue = TASK_QUEUE, activities, workflowBundle, tracing } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities,
    // Tracing bundles the workflows with its interceptors module; the prebuilt bundle has none.
    ...(workflowBundle
      ? { workflowBundle }
      : tracing
        ? { workflowsPath: require.resolve('./workflows') }
        : { workflowBundle: await workflowBundleFile() }),
    ...(tracing
      ? {
          interceptors: workflowBundle ? { activity: tracing.workerInterceptors.activity } : tracing.workerInterceptors,
          sinks: tracing.sinks,
        }
      : {}),
  });
}

export interface CreateProbeWorkerOptions {
  connection: NativeConnection;
  /** default: 'default' */
  namespace?: string;
  /** the application region this worker probes from */
  applicationRegion: string;
  activities: ProbeActivities;
  /** default: probeTaskQueue(applicationRegion) ('geofailover-probe-<region>'); tests pass a unique queue */
  taskQueue?: string;
  /** OpenTelemetry: the activity interceptors */
  tracing?: Tracing;
}

/**
 * Builds a probe worker: activities only (no workflows), polling the probe task queue of one application region,
 * so that probes run from inside that region's network.
 */
export async function createProbeWorker(options: CreateProbeWorkerOptions): Promise<Worker> {
  const { connection, namespace, applicationRegion, activities } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue: options.taskQueue ?? probeTaskQueue(applicationRegion),
    activities,
    ...(options.tracing ? { interceptors: { activity: options.tracing.workerInterceptors.activity ?? [] } } : {}),
  });
}

/** Thrown when the configuration cannot produce what the worker needs (a CA file that does not read, …). */
export class WorkerSetupError extends Error {
  override name = 'WorkerSetupError';
}

export interface ActivityDependenciesFromConfigOptions {
  /** where relative paths of the configuration (azure.caFile, escalationWebhook.file) resolve; default: cwd */
  configDir?: string;
  /** the Azure SDK's retry policy; default the SDK's own (drills compress it to their time scale) */
  retryOptions?: CreateArmClientsOptions['retryOptions'];
}

/**
 * The activities' dependencies from the configuration's `azure` section: ARM clients for `azure.endpoint` (real
 * Azure with DefaultAzureCredential, or the emulator with a static test token), trusting `azure.caFile` when set,
 * for `azure.subscriptionId` or else the subscription of the first member's resource id — only the default: every
 * activity uses the clients of the subscription in the resource id it acts on. Each request is bounded by
 * `azure.requestTimeoutMs`.
 * @throws WorkerSetupError naming the field when the CA file cannot be read or no subscription can be found.
 */
export function activityDependenciesFromConfig(
  config: GeofailoverConfig,
  options: ActivityDependenciesFromConfigOptions = {},
): ActivityDependencies {
  const firstMember = Object.values(config.groups).flatMap((g) => Object.values(g.members))[0];
  let subscriptionId = config.azure.subscriptionId;
  if (!subscriptionId && firstMember) {
    try {
      subscriptionId = parseDatabaseId(firstMember).subscriptionId;
    } catch {
      // reported below
    }
  }
  if (!subscriptionId) {
    throw new WorkerSetupError('azure.subscriptionId: not set, and no member resource id names a subscription');
  }
  let caPem: string | undefined;
  if (config.azure.caFile) {
    const file = path.resolve(options.configDir ?? process.cwd(), config.azure.caFile);
    try {
      caPem = readFileSync(file, 'utf8');
    } catch (e) {
      throw new WorkerSetupError(`azure.caFile: cannot read ${file} (${(e as Error).message})`);
    }
  }
  // azure.identity: a service principal (the emulator's tenant); otherwise DefaultAzureCredential for real Azure.
  let credential: TokenCredential | undefined;
  if (config.azure.identity) {
    try {
      credential = credentialFromConfig(config.azure.identity, {
        configDir: options.configDir ?? process.cwd(),
        ...(caPem !== undefined ? { caPem } : {}),
      });
    } catch (e) {
      if (e instanceof IdentitySecretError) throw new WorkerSetupError(e.message);
      throw e;
    }
  }
  // Clients for the default subscription; activities take those of each resource id's own subscription from
  // its registry (forSubscription), so a group may span subscriptions.
  const arm = createArmClients({
    subscriptionId,
    endpoint: config.azure.endpoint,
    redisApiVersion: config.azure.redisApiVersion,
    requestTimeoutMs: config.azure.requestTimeoutMs,
    // One budget per process for these settings: every activity's writes draw from it (src/azure/write-budget.ts).
    writeBudget: config.azure.writeBudget.enabled && processWriteBudget(config.azure.writeBudget),
    ...(credential !== undefined ? { credential } : {}),
    ...(caPem !== undefined ? { caPem } : {}),
    ...(options.retryOptions !== undefined ? { retryOptions: options.retryOptions } : {}),
  });
  const configDir = options.configDir ?? process.cwd();
  try {
    // A webhook set to a bad URL fails the start; one not provisioned yet is reported at each delivery.
    checkEscalationWebhooks(config, configDir);
    checkNotificationTargets(config, configDir);
  } catch (e) {
    if (e instanceof WebhookReferenceError) throw new WorkerSetupError(e.message);
    throw e;
  }
  // Memory pressure from Azure Monitor (the default) through the same kind of credential as ARM; redis-info: INFO.
  const metrics =
    config.azure.memorySource === 'azure-monitor'
      ? createAzureMonitorMetrics({
          endpoint: config.azure.metricsEndpoint ?? defaultMetricsEndpoint(config.azure.endpoint),
          ...(credential !== undefined ? { credential } : {}),
          ...(caPem !== undefined ? { caPem } : {}),
          ...(options.retryOptions !== undefined ? { retryOptions: options.retryOptions } : {}),
        })
      : undefined;
  return {
    arm,
    ...(caPem !== undefined ? { caPem } : {}),
    ...(metrics ? { metrics } : {}),
    escalationWebhooks: escalationWebhookResolver(config, configDir),
    notificationTargets: notificationTargetsResolver(config, configDir),
    // The worker's own configuration is the only policy: groups, people, roles, quorums, durations.
    policies: policiesOf(config),
    // Groups may share a Traffic Manager endpoint: a failback asks the others' open incidents before enabling it.
    groupNames: Object.keys(config.groups),
    ...(config.evacuation ? { evacuation: config.evacuation } : {}),
  };
}

/**
 * The configuration's policy per group, built (and digested) once per group: the configuration does not change
 * while the worker runs, and every destructive activity looks its group's policy up.
 */
function policiesOf(config: GeofailoverConfig): (group: string) => PolicyLookup {
  const built = new Map<string, PolicyLookup>();
  return (group) => {
    let lookup = built.get(group);
    if (!lookup) {
      lookup = policyFromConfig(config, group);
      if (lookup.found) built.set(group, lookup);
    }
    return lookup;
  };
}

/** The application regions named by any group of the configuration. */
export function applicationRegionsOf(config: GeofailoverConfig): string[] {
  return [...new Set(Object.values(config.groups).flatMap((g) => Object.keys(g.applicationRegions)))].sort();
}

export interface RunWorkerOptions {
  /** the loaded configuration (loadConfig): activities are built from its `azure` section unless given */
  config?: GeofailoverConfig;
  /** where relative paths of the configuration (azure.caFile) resolve; default the current directory */
  configDir?: string;
  /**
   * Run a probe worker for this application region (task queue `geofailover-probe-<region>`, activities only)
   * instead of the main worker. With `config`, it must be an application region of some group.
   */
  probeRegion?: string;
  /** activities to register instead of building them from `config` (main worker: all of them) */
  activities?: GeofailoverActivities | ProbeActivities;
  /** default: 'geofailover', or the region's probe queue */
  taskQueue?: string;
  /** envconfig profile; default: temporal.profile of the configuration, TEMPORAL_PROFILE or 'default' */
  profile?: string;
  /**
   * How to reach Temporal, already resolved (the CLI resolves it with its flags); default resolved from `flags`,
   * the configuration's `temporal` section (paths relative to `configFile`), TEMPORAL_* and the envconfig profile
   */
  temporal?: TemporalSettings;
  /** the connection flags of the command line, when `temporal` is not given */
  flags?: TemporalFlags;
  /** the configuration file, for the `temporal` section's relative paths and messages */
  configFile?: string;
  /** called once the worker is built, right before it starts polling */
  onReady?: (info: { kind: 'main' | 'probe'; taskQueue: string; namespace: string }) => void;
  /** stops the worker (letting running tasks finish) when aborted; SIGINT/SIGTERM do the same */
  signal?: AbortSignal;
  /** --log-level, --log-format, --metrics-port: over the configuration's `observability` section */
  observability?: ObservabilityOverrides;
}

/**
 * Runs the main worker, or a probe worker with `probeRegion`, until SIGINT/SIGTERM (the SDK runtime's shutdown
 * signals) or `signal`, letting running tasks finish. Connection settings (src/temporal/connection.ts): flags, the
 * configuration's `temporal` section, then the Temporal conventions (TEMPORAL_* variables, envconfig profile).
 * @throws TypeError when neither `config` nor `activities` is given; WorkerSetupError for a probe region no group
 *   names or an unusable `azure` section; TemporalSettingsError / TemporalConnectError (saying what to do) when the
 *   connection settings do not work or the server cannot be reached; the SDK's errors when the worker fails.
 */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  const { config, probeRegion } = options;
  if (!config && !options.activities) {
    throw new TypeError('runWorker: give the configuration (config) or the activities to register');
  }
  if (probeRegion !== undefined && config) {
    const known = applicationRegionsOf(config);
    if (!known.includes(probeRegion)) {
      throw new WorkerSetupError(
        `--probe-region ${probeRegion}: no group probes from it; the configuration's application regions are ${known.join(', ')}`,
      );
    }
  }
  const deps = config && !options.activities ? activityDependenciesFromConfig(config, options) : undefined;
  const temporal =
    options.temporal ??
    resolveTemporalSettings({
      flags: { ...(options.profile !== undefined ? { profile: options.profile } : {}), ...options.flags },
      ...(config?.temporal ? { section: config.temporal } : {}),
      ...(options.configFile !== undefined ? { configFile: options.configFile } : {}),
    });
  if (deps && temporal.uiUrl) deps.webUi = temporal.uiUrl;
  // Logs, metrics and traces first: the SDK Runtime must be installed before the first connection.
  const telemetry = setUpObservability(observabilitySettings(config?.observability, options.observability));
  const connection = await connectNativeConnection(temporal);
  try {
    const namespace = temporal.namespace;
    let worker: Worker;
    if (probeRegion !== undefined) {
      worker = await createProbeWorker({
        connection,
        namespace,
        applicationRegion: probeRegion,
        taskQueue: options.taskQueue,
        activities: (options.activities as ProbeActivities | undefined) ?? createProbeActivities(deps!),
        tracing: telemetry.tracing,
      });
    } else {
      worker = await createWorker({
        connection,
        namespace,
        taskQueue: options.taskQueue,
        activities: (options.activities as GeofailoverActivities | undefined) ?? createActivities(deps!),
        tracing: telemetry.tracing,
      });
    }
    options.onReady?.({
      kind: probeRegion !== undefined ? 'probe' : 'main',
      taskQueue: worker.options.taskQueue,
      namespace,
    });
    const { signal } = options;
    if (signal) {
      await worker.runUntil(
        new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        }),
      );
    } else {
      await worker.run();
    }
  } finally {
    // Only after the worker has stopped: it needs the connection to finish its tasks.
    await connection.close();
    await telemetry.shutdown();
  }
}
