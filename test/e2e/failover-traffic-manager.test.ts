// traffic-failback waits for Traffic Manager to report the re-enabled endpoint Online (patch
// tm-failback-waits-online), on the real stack: the emulator shows CheckingEndpoint right after enabling, then
// Online, or Degraded while the `degrade` fault names the endpoint.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { interveneAs, recoveredAs } from '../helpers/people';
import { RealStack, REQUESTER, step, waitForStatus } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';

interface OnlineEvidence {
  online: { monitorStatus: string; waitedMs: number; reads: number; seen: string[] };
}

describe('failoverRunbook on the real stack: failback waits for Traffic Manager Online', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
  after(async () => {
    await env?.teardown();
  });

  it('a re-enabled endpoint that goes Degraded stops failback at an intervention gate; after the fault is cleared `intervene retry` completes it', async () => {
    stack = await RealStack.start(env);
    await stack.emulator.faults.outage(FAILED);
    const handle = await stack.startFailover(FAILED);
    await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled');

    // The region answers the probes again, but Traffic Manager's health probes of its endpoint fail.
    stack.emulator.faults.degrade({ endpoint: FAILED });
    await Promise.all([
      recoveredAs(handle, REQUESTER, `${FAILED} healthy again`),
      stack.emulator.faults.restore(FAILED),
    ]);

    const gate = await waitForStatus(
      handle,
      (s) => s.openGate?.gate === 'intervention:traffic-failback',
      'the intervention gate of traffic-failback',
    );
    assert.equal(gate.phase, 'intervention');
    const failed = step(gate, 'traffic-failback');
    assert.equal(failed.status, 'failed');
    assert.match(
      failed.summary,
      /^VerificationFailed: failback is not done: endpoint eastus is Degraded: Traffic Manager's health probes of it fail/,
    );
    assert.match(failed.summary, /CheckingEndpoint → Degraded/, 'it was checked first, then found Degraded');
    assert.match(failed.summary, /intervene retry/, 'the gate says what to do');
    assert.equal(step(gate, 'complete').status, 'pending', 'the runbook does not complete');
    assert.equal(stack.endpointStatuses()[FAILED], 'Enabled', 'the endpoint was enabled');

    stack.emulator.faults.degrade({ endpoint: FAILED, degraded: false });
    await interveneAs(handle, REQUESTER, 'retry', 'health probe path fixed');
    const result = await handle.result();

    assert.equal(result.outcome, 'completed', result.summary);
    const failback = step(result.status, 'traffic-failback');
    assert.equal(failback.status, 'succeeded', failback.summary);
    assert.equal(failback.attempts, 2);
    assert.equal(failback.gates?.[0]?.outcome, 'retry');
    assert.match(failback.summary, /eastus was already enabled and Online after/);
    assert.equal((failback.evidence as unknown as OnlineEvidence).online.monitorStatus, 'Online');
    assert.equal(stack.count('updateEndpoint', `/${FAILED}`), 2, 'one PATCH to reroute, one to fail back');
  });

  it('a healthy failback is done only once the endpoint reads Online after CheckingEndpoint', async () => {
    stack = await RealStack.start(env);
    await stack.emulator.faults.outage(FAILED);
    const handle = await stack.startFailover(FAILED);
    await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
    await Promise.all([
      recoveredAs(handle, REQUESTER, `${FAILED} healthy again`),
      stack.emulator.faults.restore(FAILED),
    ]);
    const result = await handle.result();
    assert.equal(result.outcome, 'completed', result.summary);
    const failback = step(result.status, 'traffic-failback');
    const online = (failback.evidence as unknown as OnlineEvidence).online;
    assert.deepEqual(online.seen, ['CheckingEndpoint', 'Online'], failback.summary);
    assert.ok(online.reads >= 1 && online.waitedMs >= 900, `${online.reads} reads in ${online.waitedMs} ms`);
  });
});
