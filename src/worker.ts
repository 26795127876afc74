import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { WorkflowBundleOption } from '@temporalio/worker';
import type { GeofailoverActivities } from './activities/types';
import { TASK_QUEUE } from './contract/names';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  /** default: 'default' */
  namespace?: string;
  /** default: TASK_QUEUE ('geofailover'); tests pass a unique queue */
  taskQueue?: string;
  activities: GeofailoverActivities;
  /** a prebuilt bundle (tests bundle once per process); default: bundle src/workflows at start */
  workflowBundle?: WorkflowBundleOption;
}

/** Builds the main worker: every geofailover workflow plus the given activities, polling one task queue. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const { connection, namespace, taskQueue = TASK_QUEUE, activities, workflowBundle } = options;
  return Worker.create({
    connection,
    namespace,
    taskQueue,
    activities,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath: require.resolve('./workflows') }),
  });
}

export interface RunWorkerOptions {
  activities: GeofailoverActivities;
  taskQueue?: string;
  /** envconfig profile; default: TEMPORAL_PROFILE or 'default' */
  profile?: string;
}

/**
 * Runs the main worker until SIGINT/SIGTERM (the SDK runtime's shutdown signals), letting running
 * tasks finish. Connection settings follow the Temporal conventions: envconfig profile file and
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_* variables.
 * @throws when the server cannot be reached or the worker fails.
 */
export async function runWorker(options: RunWorkerOptions): Promise<void> {
  const config = loadClientConnectConfig({ profile: options.profile });
  const connection = await NativeConnection.connect(config.connectionOptions);
  try {
    const worker = await createWorker({
      connection,
      namespace: config.namespace,
      taskQueue: options.taskQueue,
      activities: options.activities,
    });
    await worker.run();
  } finally {
    // Only after the worker has stopped: it needs the connection to finish its tasks.
    await connection.close();
  }
}
