// traffic-failback and a Traffic Manager endpoint another group's open incident holds, on the dev server with mocked
// activities: the step waits, its summary and evidence naming the holder's workflow id, asking again at the group's
// recoveryPollInterval; it never enables the endpoint meanwhile, and an abort while it waits leaves it disabled.
import assert from 'node:assert/strict';
import type { EndpointHolder } from '../../src/activities/types';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { failoverRunbook } from '../../src/workflows';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { abortAs, recoveredAs } from '../helpers/people';
import { FakeGroup, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';

describe('traffic-failback waits for a shared endpoint (mocked activities)', function () {
  this.timeout(60_000);
  const t = useRunbookTestEnv();

  it('names the holding incident, asks again, never enables it; abort leaves it disabled', async () => {
    const regions = testRegions();
    const [failed] = regions as [string, ...string[]];
    const fake = new FakeGroup(testGroup(regions), failed);
    const base = fake.activities();
    const holder: EndpointHolder = {
      workflowId: 'failover/sessions',
      runId: 'run-1',
      group: 'sessions',
      region: failed,
      phase: 'awaiting-recovery',
      since: '2026-12-02T01:00:00.000Z',
    };
    let asks = 0;
    const activities: typeof base = {
      ...base,
      // The worker's answer while another group's incident holds the endpoint: nothing changes, the holder named.
      setEndpointStatus: async (input) => {
        if (input.status !== 'Enabled') return base.setEndpointStatus(input);
        asks += 1;
        const profile = await base.readProfile({ profileId: input.profileId });
        return { before: profile, after: profile, changed: false, heldBy: [holder] };
      },
    };
    await withFakeWorkers(
      t.env,
      t.bundle,
      fake,
      async (taskQueue) => {
        const input = testInput(fake.group, failed);
        const handle = await t.env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
          taskQueue,
          workflowId: workflowIds.failover(input.group),
          args: [input],
        });
        try {
          await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
          await recoveredAs(handle, 'sre-lead', `${failed} healthy again`);
          fake.failedAnswers = true;
          const waiting = await waitForStatus(
            handle,
            (s) => step(s, 'traffic-failback').status === 'running' && asks >= 2,
            'traffic-failback asking again while the endpoint is held',
            30_000,
          );
          const failback = step(waiting, 'traffic-failback');
          assert.match(
            failback.summary,
            /^waiting: endpoint .* is shared with another group, and its open incident failover\/sessions \(group sessions; .* rerouted, since 2026-12-02T01:00:00\.000Z, phase awaiting-recovery\) holds it disabled/,
          );
          assert.deepEqual((failback.evidence as { heldBy: EndpointHolder[] }).heldBy, [holder]);
          assert.equal(fake.endpointStatus[failed], 'Disabled', 'never enabled while held');

          await abortAs(handle, 'sre-lead', 'the other incident will take long');
          const result = await handle.result();
          assert.equal(result.outcome, 'aborted', result.summary);
          assert.match(result.summary, /stays disabled, traffic stays on the survivors/);
          assert.equal(fake.endpointStatus[failed], 'Disabled');
        } finally {
          await handle.terminate('test ended').catch(() => undefined);
        }
      },
      { activities, queue: 'failback-lease' },
    );
  });
});
