// The workers a mocked-activity runbook test needs: a main worker with the FakeGroup's activities (or changed
// ones) on a unique task queue, and one probe worker per application region on its contract queue.
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import type { GeofailoverActivities } from '../../src/activities/types';
import { probeTaskQueue } from '../../src/contract/names';
import { createWorker } from '../../src/worker';
import type { FakeGroup } from './runbook-fakes';
import { uniqueTaskQueue } from './temporal';

export interface FakeWorkerOptions {
  /** application regions that get no probe worker (their probes time out) */
  withoutProbeWorker?: string[];
  /** replaces the main worker's activities (e.g. to count calls) */
  activities?: GeofailoverActivities;
  /** prefix of the unique task queue */
  queue?: string;
}

/** Runs `body` with the workers running, then shuts them all down. */
export async function withFakeWorkers<T>(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundle,
  fake: FakeGroup,
  body: (taskQueue: string) => Promise<T>,
  options: FakeWorkerOptions = {},
): Promise<T> {
  const taskQueue = uniqueTaskQueue(options.queue ?? 'runbook');
  const main = await createWorker({
    connection: env.nativeConnection,
    namespace: env.namespace,
    taskQueue,
    activities: options.activities ?? fake.activities(),
    workflowBundle: bundle,
  });
  const probeRegions = Object.keys(fake.group.applicationRegions).filter(
    (r) => !options.withoutProbeWorker?.includes(r),
  );
  const probes = await Promise.all(
    probeRegions.map((region) =>
      Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace,
        taskQueue: probeTaskQueue(region),
        activities: fake.probeActivities(),
      }),
    ),
  );
  const nest = (workers: Worker[]): Promise<T> => {
    const [first, ...rest] = workers;
    return first ? first.runUntil(() => nest(rest)) : body(taskQueue);
  };
  return nest([main, ...probes]);
}
