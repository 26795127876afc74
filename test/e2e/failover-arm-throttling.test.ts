// failoverRunbook on the real stack under ARM's token-bucket throttling (the emulator's rate-limit model, tiny
// buckets): every write — the endpoint PATCHes, listKeys, force-unlink, force-link — draws from a bucket that
// runs dry, ARM answers 429 with Retry-After, and the runbook waits it out instead of failing: it completes with
// no intervention gate, one force-unlink and one force-link (its first two answers 429), and the emulator counted
// its 429s.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { decideAs, unlinkNowAs } from '../helpers/people';
import { RealStack, REQUESTER, step, waitForStatus } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
const SURVIVORS = ['southeastasia', 'westeurope'];

describe('failoverRunbook on the real stack: ARM throttling (token buckets)', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it('writes that exhaust a tiny bucket are waited out (Retry-After): the runbook completes, no gate but the approvals', async () => {
    stack = await RealStack.start(env);
    const { faults } = stack.emulator;
    await faults.outage(FAILED);
    // One write in reserve per subscription + principal + region, then one every 2 s: Retry-After 2.
    faults.rateLimits({ writes: { burst: 1, perSecond: 0.5 } });
    const handle = await stack.startFailover(FAILED);

    await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery', 60_000);
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled');
    // The worker's own write budget paces writes, so on a quiet machine the tiny bucket may never run dry: the
    // force-unlink is also answered 429 (Retry-After 1) twice, the way a dry bucket answers it.
    faults.throttle({ operation: 'forceUnlink', count: 2, retryAfterSeconds: 1 });
    await unlinkNowAs(handle, REQUESTER, 'down for 12 h');
    await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate', 60_000);
    const ok = await decideAs(handle, 'sre-manager');
    assert.equal(ok.accepted, true, ok.reason);
    const unlinked = await waitForStatus(
      handle,
      (s) => step(s, 'force-unlink').status === 'succeeded' || s.openGate?.gate?.startsWith('intervention') === true,
      'force-unlink',
      60_000,
    );
    assert.equal(step(unlinked, 'force-unlink').status, 'succeeded', JSON.stringify(unlinked.openGate));
    assert.equal(stack.count('forceUnlink'), 1);
    for (const survivor of SURVIVORS) {
      assert.ok(!stack.links()[survivor]?.some(([r]) => r === FAILED), `${survivor} no longer lists ${FAILED}`);
    }

    await faults.restore(FAILED);
    await waitForStatus(handle, (st) => st.openGate?.gate === 'approval-rejoin', 'the rejoin gate', 60_000);
    const rejoin = await decideAs(handle, 'data-owner');
    assert.equal(rejoin.accepted, true, rejoin.reason);
    const result = await handle.result();
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(stack.count('forceLinkToReplicationGroup', FAILED), 1, 'exactly one force-link');
    assert.deepEqual(stack.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    stack.assertFullyLinked();
    const gates = result.status.steps.flatMap((s) => (s.gates ?? []).map((g) => g.gate));
    assert.ok(!gates.some((g) => g.startsWith('intervention')), `no intervention gate: ${gates.join(', ')}`);
    const state = faults.list();
    assert.ok(
      state.rateLimits.throttled.writes + state.throttledByFault >= 2,
      `the emulator answered 429s to writes (${JSON.stringify(state.rateLimits.throttled)}, ${state.throttledByFault} by fault)`,
    );
  });
});
