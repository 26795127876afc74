// What the runbook tells people, from the real workflow with mocked activities: an intervention gate says so at
// once (with the failure and the exact commands), its escalation follows, the end of the run is told; every delivery
// is recorded on the gate and in the result, and a notification that fails never holds up or fails the run.
import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import type { NotificationDelivery, RunbookNotification } from '../../src/activities/types';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { failoverRunbook } from '../../src/workflows';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { abortAs, interveneAs, unlinkNowAs } from '../helpers/people';
import { FakeGroup, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';

describe('runbook notifications (real workflow, mocked activities)', function () {
  this.timeout(240_000);
  const t = useRunbookTestEnv();

  it('intervention needed, its escalation and the end are told, recorded, and a failed notification changes nothing', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const fake = new FakeGroup(
      testGroup(regions, (g) => (g.durations.approvalTimeout = '1s')),
      failed,
    );
    fake.failures.setEndpointStatus = [FakeGroup.azureFailure('AzureBadRequest', 'BadRequest: endpoint is locked')];
    const sent: RunbookNotification[] = [];
    const delivery = (n: RunbookNotification): NotificationDelivery => ({
      event: n.event,
      kind: 'slack',
      delivered: true,
      attempts: 1,
      statusCode: 200,
      target: 't.env:SLACK_WEBHOOK → https://hooks.example.com',
    });
    const activities = {
      ...fake.activities(),
      notify: async ({ notification }: { notification: RunbookNotification }) => {
        sent.push(notification);
        // A receiver that is down for the escalation: the run must not notice.
        if (notification.event === 'escalation') {
          throw ApplicationFailure.create({ message: 'receiver down', nonRetryable: true });
        }
        return { deliveries: [delivery(notification)] };
      },
    };
    const result = await withFakeWorkers(
      t.env,
      t.bundle,
      fake,
      async (taskQueue) => {
        const handle = await t.env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
          taskQueue,
          workflowId: workflowIds.failover(fake.group.name),
          args: [testInput(fake.group, failed)],
        });
        try {
          await waitForStatus(handle, (s) => !!s.openGate?.escalatedAt, 'escalated intervention gate');
          await interveneAs(handle, 'sre-lead', 'retry');
          await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
          await abortAs(handle, 'sre-lead', 'test over');
          return await handle.result();
        } finally {
          await handle.terminate('test ended').catch(() => undefined);
        }
      },
      { activities },
    );

    assert.equal(result.outcome, 'aborted', result.summary);
    assert.deepEqual(
      sent.map((n) => n.event),
      ['intervention-needed', 'escalation', 'run-ended'],
    );
    const [needed, , ended] = sent;
    assert.equal(needed!.gate?.name, 'intervention:traffic-reroute');
    assert.ok(
      needed!.evidence.some((f) => f.value.includes('endpoint is locked')),
      'the failure is the evidence',
    );
    assert.ok(needed!.howToAnswer.some((c) => c.startsWith(`geofailover intervene ${fake.group.name}`)));
    assert.ok(needed!.howToAnswer.some((c) => c.includes('temporal workflow signal --workflow-id')));
    assert.equal(ended!.outcome, 'aborted');
    assert.ok(ended!.rtoMs !== undefined, 'the end tells the RTO');

    const gate = step(result.status, 'traffic-reroute').gates?.[0];
    assert.deepEqual(
      gate?.notifications?.map((d) => [d.event, d.delivered]),
      [['intervention-needed', true]],
      'the gate records its deliveries (the failed escalation is logged, not recorded as delivered)',
    );
    assert.deepEqual(
      (result as { notifications?: NotificationDelivery[] }).notifications?.map((d) => d.event),
      ['run-ended'],
    );
  });

  it('approval needed: the unlink gate is told with its request as evidence and the approve commands', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const fake = new FakeGroup(testGroup(regions), failed);
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await t.env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
        taskQueue,
        workflowId: workflowIds.failover(fake.group.name),
        args: [testInput(fake.group, failed)],
      });
      try {
        await waitForStatus(handle, (s) => !!s.runId, 'the run id');
        await unlinkNowAs(handle, 'sre-lead', 'the region will be down for days');
        await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
        await abortAs(handle, 'sre-lead', 'test over');
        return await handle.result();
      } finally {
        await handle.terminate('test ended').catch(() => undefined);
      }
    });
    assert.equal(result.outcome, 'aborted', result.summary);
    const needed = fake.notifications.find((n) => n.event === 'approval-needed');
    assert.ok(needed, `approval-needed was sent (${fake.notifications.map((n) => n.event).join(', ')})`);
    assert.equal(needed.title, `Approval needed: approval-unlink of ${fake.group.name}`);
    assert.equal(needed.gate?.kind, 'approval');
    assert.ok(
      needed.evidence.some((f) => f.label === 'trigger' && f.value.includes('unlink-now')),
      'the request',
    );
    assert.deepEqual(
      needed.howToAnswer.map((c) => c.split(' ').slice(0, 2).join(' ')),
      ['geofailover approve', 'geofailover approve', 'geofailover reject'],
    );
    assert.ok(needed.howToAnswer[1]!.includes('temporal workflow signal --workflow-id'));
    assert.equal(fake.notifications.at(-1)?.event, 'run-ended');
    assert.equal(fake.notifications.at(-1)?.outcome, 'aborted');
  });
});
