// Destructive steps exactly once, on the real stack (dev server, main worker, probe workers, the emulator through the
// official Azure SDK, its redis-servers): a rejoin whose verification fails opens its intervention gate, and
// `intervene retry` re-checks and re-verifies — the emulator counts one force-link, not two.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { decideAs, interveneAs, unlinkNowAs } from '../helpers/people';
import { RealStack, REQUESTER, step, waitForStatus } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';

describe('rejoin on the real stack: exactly one force-link', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it('a retry after a failed rejoin verification makes no second force-link', async () => {
    stack = await RealStack.start(env, {
      group: (g) => void (g.durations = { ...g.durations, resyncTimeout: '3s' }),
    });
    await stack.emulator.faults.outage(FAILED);
    const handle = await stack.startFailover(FAILED);

    await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery', 60_000);
    await unlinkNowAs(handle, REQUESTER, `${FAILED} will be down for days`);
    await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate');
    const unlink = await decideAs(handle, 'data-owner');
    assert.equal(unlink.accepted, true, unlink.reason);
    await waitForStatus(handle, (s) => step(s, 'force-unlink').status === 'succeeded', 'force-unlink', 60_000);
    assert.equal(stack.count('forceUnlink'), 1);

    await stack.emulator.faults.restore(FAILED);
    await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'the rejoin gate', 60_000);
    // After the force-link the links read Linking (resynchronising) until the test lets them settle: longer than
    // resyncTimeout, so the rejoin's verification fails into its intervention gate.
    stack.emulator.faults.quirks({ holdLinking: true });
    const rejoin = await decideAs(handle, 'data-owner');
    assert.equal(rejoin.accepted, true, rejoin.reason);

    const gate = await waitForStatus(
      handle,
      (s) => s.openGate?.gate === 'intervention:rejoin',
      'the intervention gate of rejoin',
      90_000,
    );
    assert.match(step(gate, 'rejoin').summary, /^ResyncTimeout: .*Linking, not Linked/);
    assert.equal(stack.count('forceLinkToReplicationGroup'), 1);

    // The commander retries while the links still read Linking: the member is in the group, nothing is called, and
    // the step waits for Linked.
    // (Linking counts as in the group). Under load the retry may fail its verification again before the links are
    // released, into a new gate: that too made no call, and one more retry verifies.
    await interveneAs(handle, REQUESTER, 'retry', 'the links are resynchronising');
    const rechecked = await waitForStatus(
      handle,
      (s) =>
        /is in the group.*nothing to call, verifying the links/.test(step(s, 'rejoin').summary) ||
        (s.openGate?.gate === 'intervention:rejoin' && step(s, 'rejoin').attempts >= 2),
      'the retry re-checking the group',
      90_000,
    );
    assert.equal(stack.count('forceLinkToReplicationGroup'), 1, 'the retry called nothing');
    stack.emulator.faults.quirks({ holdLinking: false });
    if (rechecked.openGate?.gate === 'intervention:rejoin') {
      await interveneAs(handle, REQUESTER, 'retry', 'the links have settled');
    }
    const result = await handle.result();

    assert.equal(result.outcome, 'completed', result.summary);
    const rejoined = step(result.status, 'rejoin');
    assert.equal(rejoined.status, 'succeeded');
    assert.ok(rejoined.attempts >= 2, `${rejoined.attempts} attempts`);
    assert.match(rejoined.summary, /was already in the group, nothing was called/);
    assert.equal(stack.count('forceLinkToReplicationGroup'), 1, 'exactly one force-link');
    assert.equal(stack.count('forceUnlink'), 1, 'exactly one force-unlink');
    assert.deepEqual(stack.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    stack.assertFullyLinked();
  });
});
