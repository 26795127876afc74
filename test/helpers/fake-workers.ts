// The workers a mocked-activity runbook test needs: a main worker with the FakeGroup's activities (or changed
// ones) on a unique task queue, and one probe worker per application region on its contract queue.
import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundle } from '@temporalio/worker';
import type { GeofailoverActivities } from '../../src/activities/types';
import { probeTaskQueue, WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { FailoverRunbookInput } from '../../src/contract/runbook';
import { createWorker } from '../../src/worker';
import type { failoverRunbook } from '../../src/workflows';
import type { FakeGroup } from './runbook-fakes';
import { getTestEnv, getWorkflowBundle, uniqueTaskQueue } from './temporal';

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

/** What a describe block of mocked-activity runbook tests shares (see useRunbookTestEnv). */
export interface RunbookTestEnv {
  readonly env: TestWorkflowEnvironment;
  readonly bundle: WorkflowBundle;
  /** failoverRunbook with this input on `taskQueue` (id failover/<group>), terminated after the test */
  startFailover(
    taskQueue: string,
    input: FailoverRunbookInput,
  ): Promise<WorkflowHandleWithFirstExecutionRunId<typeof failoverRunbook>>;
  /** a handle the test started itself, terminated after the test */
  track<H extends WorkflowHandle>(handle: H): H;
}

/**
 * Registers, in the calling describe block, the hooks every mocked-activity runbook test file needs: the shared dev
 * server's environment and the workflow bundle before, every run the tests started terminated after each test, the
 * environment torn down after.
 */
export function useRunbookTestEnv(): RunbookTestEnv {
  let env: TestWorkflowEnvironment | undefined;
  let bundle: WorkflowBundle | undefined;
  const open: WorkflowHandle[] = [];
  before(async () => {
    [env, bundle] = await Promise.all([getTestEnv(), getWorkflowBundle()]);
  });
  afterEach(async () => {
    for (const handle of open.splice(0)) await handle.terminate('test ended').catch(() => undefined);
  });
  after(async () => {
    await env?.teardown();
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useRunbookTestEnv: used outside a test');
    return value;
  };
  const context: RunbookTestEnv = {
    get env() {
      return ready(env);
    },
    get bundle() {
      return ready(bundle);
    },
    track(handle) {
      open.push(handle);
      return handle;
    },
    async startFailover(taskQueue, input) {
      const handle = await context.env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
        taskQueue,
        workflowId: workflowIds.failover(input.group),
        args: [input],
      });
      return context.track(handle);
    },
  };
  return context;
}
