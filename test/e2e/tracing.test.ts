// OpenTelemetry across client, workflow and activities: `start` through a traced client opens the trace, the real
// failoverRunbook (bundled with the OpenTelemetry workflow interceptors) and every activity it runs, on the main and
// probe workers, join it, and the workflow's span ends with the run. Spans go to an in-memory exporter.
import assert from 'node:assert/strict';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, type Worker } from '@temporalio/worker';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { RunbookResult } from '../../src/contract/runbook';
import { createTracing, type Tracing } from '../../src/observability/tracing';
import { createProbeWorker, createWorker } from '../../src/worker';
import type { failoverRunbook } from '../../src/workflows';
import { recoveredAs } from '../helpers/people';
import { FakeGroup, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';
import { getTestEnv, uniqueTaskQueue } from '../helpers/temporal';

describe('OpenTelemetry traces: start → workflow → activities → completion', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();

  before(async () => {
    env = await getTestEnv();
    tracing = createTracing({ serviceName: 'geofailover-test', exporter });
  });
  after(async () => {
    await tracing?.shutdown();
    await env?.teardown();
  });

  it('one trace holds the start, the workflow run and every activity, and the workflow span ends with the run', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      workflowInterceptorModules: tracing.workflowModules,
      logger: new DefaultLogger('WARN'),
    });
    const regions = testRegions();
    const [failed] = regions;
    const fake = new FakeGroup(testGroup(regions), failed);
    const taskQueue = uniqueTaskQueue('traced');
    const main = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      activities: fake.activities(),
      workflowBundle: bundle,
      tracing,
    });
    const probes: Worker[] = await Promise.all(
      regions.map((region) =>
        createProbeWorker({
          connection: env.nativeConnection,
          namespace: env.namespace,
          applicationRegion: region,
          activities: fake.probeActivities(),
          tracing,
        }),
      ),
    );
    const client = new Client({
      connection: env.connection,
      namespace: env.namespace,
      interceptors: { workflow: tracing.clientInterceptors },
    });
    const workflowId = workflowIds.failover(fake.group.name);
    const run = async (): Promise<RunbookResult> => {
      const handle = await client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
        taskQueue,
        workflowId,
        args: [testInput(fake.group, failed)],
      });
      await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
      await recoveredAs(handle, 'sre-lead', 'back');
      fake.failedAnswers = true;
      return handle.result();
    };
    const nest = (workers: Worker[]): Promise<RunbookResult> => {
      const [first, ...rest] = workers;
      return first ? first.runUntil(() => nest(rest)) : run();
    };
    const result = await nest([main, ...probes]);
    assert.equal(result.outcome, 'completed', result.summary);

    const spans = exporter.getFinishedSpans();
    const start = spans.find((s) => s.name === `StartWorkflow:${WORKFLOW_TYPES.failoverRunbook}`);
    assert.ok(start, `a StartWorkflow span; got ${[...new Set(spans.map((s) => s.name))].join(', ')}`);
    const traceId = start.spanContext().traceId;
    const inTrace = (s: ReadableSpan): boolean => s.spanContext().traceId === traceId;
    const names = new Set(spans.filter(inTrace).map((s) => s.name));

    const runSpan = spans.find((s) => inTrace(s) && s.name === `RunWorkflow:${WORKFLOW_TYPES.failoverRunbook}`);
    assert.ok(runSpan, 'the workflow run is in the start’s trace');
    assert.equal(start.attributes.temporalWorkflowId, workflowId, 'the start names the workflow');
    for (const activity of [
      'loadPolicy',
      'describeMember',
      'readMemory',
      'setEndpointStatus',
      'probeEndpoints',
      'notify',
    ]) {
      assert.ok(
        names.has(`RunActivity:${activity}`),
        `RunActivity:${activity} is in the trace (${[...names].join(', ')})`,
      );
    }
    // Completion: the workflow's span ends after every activity it ran (the run-ended notification is the last).
    const end = (s: ReadableSpan): number => s.endTime[0] * 1e9 + s.endTime[1];
    const lastActivity = Math.max(...spans.filter((s) => inTrace(s) && s.name.startsWith('RunActivity:')).map(end));
    assert.ok(end(runSpan) >= lastActivity, 'the workflow span closes the trace');
  });
});
