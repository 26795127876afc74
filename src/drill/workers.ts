/**
 * The drill's workers, in its own process: the main worker (every workflow and activity) and one probe worker
 * per application region on its contract task queue (geofailover-probe-<region>), built from the drill's
 * configuration file exactly as `geofailover worker` builds them.
 */
import path from 'node:path';
import type { NativeConnection, Worker, WorkflowBundle } from '@temporalio/worker';
import { createActivities, createProbeActivities } from '../activities';
import type { LoadedConfig } from '../config/groups';
import { probeTaskQueue } from '../contract/names';
import type { GroupDefinition } from '../contract/runbook';
import { activityDependenciesFromConfig, createProbeWorker, createWorker } from '../worker';
import { drillSdkRetries } from './settings';

export interface DrillWorkers {
  taskQueue: string;
  probeTaskQueues: string[];
  /** why a worker stopped by itself, once one has (the drill then fails) */
  failure(): Error | undefined;
  /** shuts every worker down and waits for them; idempotent */
  stop(): Promise<void>;
}

export interface StartWorkersOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  config: LoadedConfig;
  group: GroupDefinition;
  /** the workflow code, bundled once for the workers and the replay */
  workflowBundle: WorkflowBundle;
}

/** Creates the workers and starts them polling. */
export async function startDrillWorkers(options: StartWorkersOptions): Promise<DrillWorkers> {
  const { connection, namespace, taskQueue, group } = options;
  const deps = activityDependenciesFromConfig(options.config.config, {
    configDir: path.dirname(options.config.file),
    retryOptions: drillSdkRetries(),
  });
  const regions = Object.keys(group.applicationRegions);
  const created = await Promise.allSettled([
    createWorker({
      connection,
      namespace,
      taskQueue,
      activities: createActivities(deps),
      workflowBundle: options.workflowBundle,
    }),
    ...regions.map((applicationRegion) =>
      createProbeWorker({ connection, namespace, applicationRegion, activities: createProbeActivities(deps) }),
    ),
  ]);
  const failedToCreate = created.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failedToCreate) {
    // Workers that were created never ran: nothing to shut down.
    throw failedToCreate.reason;
  }
  const workers = created.map((r) => (r as PromiseFulfilledResult<Worker>).value);
  let failure: Error | undefined;
  const runs = workers.map((worker) =>
    worker.run().catch((e: unknown) => {
      failure ??= new Error(`worker on task queue ${worker.options.taskQueue} stopped: ${(e as Error)?.message ?? e}`);
    }),
  );
  let stopping: Promise<void> | undefined;
  return {
    taskQueue,
    probeTaskQueues: regions.map(probeTaskQueue),
    failure: () => failure,
    stop: () => {
      stopping ??= (async () => {
        for (const worker of workers) if (worker.getState() === 'RUNNING') worker.shutdown();
        await Promise.allSettled(runs);
      })();
      return stopping;
    },
  };
}
