// traffic-failback's bound on CheckingEndpoint (tuning.failbackOnlineTimeout), with mocked activities whose
// Traffic Manager never finishes checking the re-enabled endpoint: the step fails into its intervention gate
// after the bound, saying what it saw, and `intervene abort` ends the run.
import assert from 'node:assert/strict';
import type { ProfileSnapshot } from '../../src/activities/types';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { failoverRunbook } from '../../src/workflows';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { interveneAs, recoveredAs } from '../helpers/people';
import { FakeGroup, TEST_TUNING, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';

describe('traffic-failback: bounded wait for Online (mocked activities)', function () {
  this.timeout(60_000);
  const t = useRunbookTestEnv();

  it('still CheckingEndpoint at tuning.failbackOnlineTimeout: an intervention gate names the state and the bound', async () => {
    const regions = testRegions();
    const [failed] = regions as [string, ...string[]];
    const fake = new FakeGroup(testGroup(regions), failed);
    const base = fake.activities();
    // Traffic Manager never reports the enabled failed endpoint anything but CheckingEndpoint.
    const checking = (p: ProfileSnapshot): ProfileSnapshot => ({
      ...p,
      endpoints: p.endpoints.map((e) =>
        e.name === failed && e.endpointStatus === 'Enabled' ? { ...e, endpointMonitorStatus: 'CheckingEndpoint' } : e,
      ),
    });
    let reads = 0;
    const activities = {
      ...base,
      setEndpointStatus: async (input: Parameters<typeof base.setEndpointStatus>[0]) => {
        const change = await base.setEndpointStatus(input);
        return { ...change, after: checking(change.after) };
      },
      readProfile: async (input: Parameters<typeof base.readProfile>[0]) => {
        reads += 1;
        return checking(await base.readProfile(input));
      },
    };
    await withFakeWorkers(
      t.env,
      t.bundle,
      fake,
      async (taskQueue) => {
        const input = { ...testInput(fake.group, failed), tuning: { ...TEST_TUNING, failbackOnlineTimeout: '3s' } };
        const handle = await t.env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
          taskQueue,
          workflowId: workflowIds.failover(input.group),
          args: [input],
        });
        try {
          await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
          await recoveredAs(handle, 'sre-lead', `${failed} healthy again`);
          fake.failedAnswers = true;
          const gate = await waitForStatus(
            handle,
            (s) => s.openGate?.gate === 'intervention:traffic-failback',
            'the intervention gate of traffic-failback',
            30_000,
          );
          const failback = step(gate, 'traffic-failback');
          assert.equal(failback.status, 'failed');
          assert.match(
            failback.summary,
            new RegExp(
              `^VerificationFailed: failback is not done: endpoint ${failed} is still CheckingEndpoint .* after it was enabled \\(bound 3\\.0 s\\)`,
            ),
          );
          assert.ok(reads >= 2, `re-read the profile while waiting (${reads} reads)`);
          assert.equal(fake.endpointStatus[failed], 'Enabled');
          await interveneAs(handle, 'sre-lead', 'abort', 'Traffic Manager never finished checking');
          const result = await handle.result();
          assert.equal(result.outcome, 'aborted', result.summary);
        } finally {
          await handle.terminate('test ended').catch(() => undefined);
        }
      },
      { activities: activities as ReturnType<FakeGroup['activities']>, queue: 'failback-bound' },
    );
  });
});
