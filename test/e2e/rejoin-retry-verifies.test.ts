// rejoin calls once, whatever happens after: on the dev server with mocked activities, a rejoin whose verification
// fails (the survivors keep reading the member as Linking past resyncTimeout) opens its intervention gate, and
// `intervene retry` re-checks and re-verifies — the member is in the group, so rejoinMember is not called again.
import assert from 'node:assert/strict';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { RejoinRunbookInput } from '../../src/contract/runbook';
import type { MemberSnapshot } from '../../src/contract/types';
import type { rejoinRunbook } from '../../src/workflows';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { decideAs, interveneAs, signedStart } from '../helpers/people';
import { FakeGroup, TEST_TUNING, testGroup, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';

describe('rejoin: a retry after a failed verification re-verifies (mocked activities)', function () {
  this.timeout(240_000);
  const t = useRunbookTestEnv();

  it('force-link once; after a failed verification the retry finds the member in the group, calls nothing and verifies', async () => {
    const regions = testRegions();
    const [region] = regions;
    const fake = new FakeGroup(
      testGroup(regions, (g) => void (g.durations.resyncTimeout = '2s')),
      region,
    );
    fake.unlinked = true;
    fake.failedAnswers = true;
    fake.endpointStatus[region] = 'Disabled';
    const base = fake.activities();
    // After the force-link, the survivors read the member as Linking until the test lets it settle.
    let settling = false;
    const activities: typeof base = {
      ...base,
      rejoinMember: async (input) => {
        const result = await base.rejoinMember(input);
        settling = true;
        return result;
      },
      describeMember: async (member): Promise<MemberSnapshot> => {
        const snapshot = await base.describeMember(member);
        if (!settling || member.region === region) return snapshot;
        return {
          ...snapshot,
          linkedDatabases: snapshot.linkedDatabases?.map((l) =>
            l.id === fake.group.members[region] ? { ...l, state: 'Linking' } : l,
          ),
        };
      },
    };
    await withFakeWorkers(
      t.env,
      t.bundle,
      fake,
      async (taskQueue) => {
        const input: RejoinRunbookInput = {
          group: fake.group.name,
          region,
          reason: 'the region is back',
          request: signedStart(fake.group, region, workflowIds.rejoin(fake.group.name)),
          tuning: TEST_TUNING,
        };
        const handle = await t.env.client.workflow.start<typeof rejoinRunbook>(WORKFLOW_TYPES.rejoinRunbook, {
          taskQueue,
          workflowId: workflowIds.rejoin(fake.group.name),
          args: [input],
        });
        try {
          await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'the rejoin gate');
          const approved = await decideAs(handle, 'data-owner');
          assert.equal(approved.accepted, true, approved.reason);

          const gate = await waitForStatus(
            handle,
            (s) => s.openGate?.gate === 'intervention:rejoin',
            'the intervention gate of rejoin',
            30_000,
          );
          const failed = step(gate, 'rejoin');
          assert.match(failed.summary, /^ResyncTimeout: the group did not resynchronise within 2\.0 s: .*Linking/);
          assert.equal(fake.calls.rejoinMember, 1, 'one force-link before the gate');

          // The links settle; the retry checks the group again (the member is in it) and only verifies.
          settling = false;
          await interveneAs(handle, 'sre-lead', 'retry', 'links are still settling');

          const result = await handle.result();
          assert.equal(result.outcome, 'completed', result.summary);
          assert.equal(fake.calls.rejoinMember, 1, 'the retry made no second force-link');
          const rejoin = step(result.status, 'rejoin');
          assert.equal(rejoin.status, 'succeeded');
          assert.equal(rejoin.attempts, 2);
          assert.match(rejoin.summary, /was already in the group, nothing was called/);
          assert.equal((rejoin.evidence as { called: boolean }).called, false);
          assert.equal(fake.endpointStatus[region], 'Enabled');
        } finally {
          await handle.terminate('test ended').catch(() => undefined);
        }
      },
      { activities, queue: 'rejoin-retry' },
    );
  });
});
