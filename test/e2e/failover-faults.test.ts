// failoverRunbook on the real stack under faults: the main worker (a `geofailover worker` process) killed in
// the middle of the force-unlink operation, Azure throttling and long-running operations that are slow or
// fail, and a firewall that blocks one application region. Each asserts what the commander sees in `status`
// and what the emulator counted. People act signed: test/helpers/people.ts, or the CLI with --key.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { RunbookStatus } from '../../src/contract/types';
import { decideAs, interveneAs, unlinkNowAs } from '../helpers/people';
import {
  REAL_STACK_TUNING,
  RealStack,
  REQUESTER,
  showRun,
  step,
  waitForStatus,
  waitUntil,
  type RunbookHandle,
} from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
const SURVIVORS = ['southeastasia', 'westeurope'];

/** The attempt numbers Temporal recorded for each completed run of one activity type. */
async function activityAttempts(handle: RunbookHandle, activityType: string): Promise<number[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
      .map((e) => String(e.eventId)),
  );
  return events
    .map((e) => e.activityTaskStartedEventAttributes)
    .filter((a) => a && scheduled.has(String(a.scheduledEventId)))
    .map((a) => a?.attempt ?? 0);
}

/**
 * The server holds what the running `activityType` heartbeated (its checkpoint: the operation's status URL), so a
 * retry on another worker resumes that operation. Waited for, not slept for: the SDK sends heartbeats on its own clock.
 */
async function checkpointRecorded(handle: RunbookHandle, activityType: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { raw } = await handle.describe();
    const pending = (raw.pendingActivities ?? []).find((a) => a.activityType?.name === activityType);
    if ((pending?.heartbeatDetails?.payloads?.length ?? 0) > 0) return;
    assert.ok(Date.now() < deadline, `${activityType} heartbeated its checkpoint within ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('failoverRunbook on the real stack: faults', function () {
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

  /** The commander's unlinkNow, then one approval: force-unlink starts. */
  async function approveUnlink(handle: RunbookHandle, timeoutMs?: number): Promise<void> {
    await unlinkNowAs(handle, REQUESTER, 'down for 12 h');
    await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate', timeoutMs);
    const ok = await decideAs(handle, 'sre-manager');
    assert.equal(ok.accepted, true, ok.reason);
  }

  /** The region returns, the rejoin gate is approved, and the runbook completes with the group whole again. */
  async function rejoinAndComplete(s: RealStack, handle: RunbookHandle, timeoutMs?: number): Promise<RunbookStatus> {
    await s.emulator.faults.restore(FAILED);
    await waitForStatus(handle, (st) => st.openGate?.gate === 'approval-rejoin', 'the rejoin gate', timeoutMs);
    const ok = await decideAs(handle, 'data-owner');
    assert.equal(ok.accepted, true, ok.reason);
    const result = await handle.result();
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(s.count('forceLinkToReplicationGroup', FAILED), 1, 'exactly one force-link');
    assert.deepEqual(s.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    s.assertFullyLinked();
    return result.status;
  }

  it('the worker is killed with SIGKILL during the force-unlink operation and restarted: the runbook completes, one force-unlink', async () => {
    stack = await RealStack.start(env, { mainWorker: false });
    let worker = await stack.spawnWorker();
    await stack.emulator.faults.outage(FAILED);
    stack.emulator.faults.lro({ operation: 'forceUnlink', durationMs: 5000 });
    const handle = await stack.startFailover(FAILED);
    // The spawned worker reads ARM with the SDK's production retry delays: the outage costs seconds per read.
    await approveUnlink(handle, 45_000);

    const s = stack;
    await waitUntil(() => s.operationInProgress('forceUnlink'), 'the force-unlink operation to start');
    await checkpointRecorded(handle, 'forceUnlink');
    await worker.kill('SIGKILL');
    assert.ok(stack.operationInProgress('forceUnlink'), 'killed while the operation runs');
    assert.equal(stack.count('forceUnlink'), 1);

    worker = await stack.spawnWorker();
    const unlinked = await waitForStatus(
      handle,
      (st) => step(st, 'force-unlink').status === 'succeeded',
      'force-unlink after the restart',
      45_000,
    );
    const unlink = step(unlinked, 'force-unlink');
    assert.equal(unlink.attempts, 1, 'the step itself did not fail: the activity retry resumed the operation');
    assert.equal((unlink.evidence as { result: { resumed?: boolean } }).result.resumed, true, unlink.summary);
    assert.equal(stack.count('forceUnlink'), 1, 'exactly one force-unlink call');
    assert.deepEqual(await activityAttempts(handle, 'forceUnlink'), [2], 'Temporal retried it on the new worker');

    await rejoinAndComplete(stack, handle, 45_000);
    assert.equal(stack.count('forceUnlink'), 1);
    await worker.kill('SIGTERM');
  });

  it('a 429 storm and a slow LRO are absorbed; a failed LRO opens an intervention gate with the ARM code, `intervene retry` succeeds', async () => {
    stack = await RealStack.start(env);
    const { faults } = stack.emulator;
    await faults.outage(FAILED);
    // Five 429s: more than the SDK's own three retries; the activity waits out the rest (Retry-After) itself.
    faults.throttle({ count: 5, retryAfterSeconds: 1, operation: 'updateEndpoint' });
    // The next force-unlink fails (a one-off fault: it is used up once it has failed an operation).
    faults.lro({
      operation: 'forceUnlink',
      fail: { code: 'UnlinkFailed', message: 'the survivor could not drop the link' },
    });
    faults.lro({ operation: 'forceLinkToReplicationGroup', durationMs: 3000 });
    // Waiting out the 429s keeps the attempt alive by heartbeats: a worker starved of CPU on a loaded machine must not
    // miss the drill tuning's 3 s heartbeat timeout and make it a second attempt.
    const handle = await stack.startFailover(FAILED, REQUESTER, { ...REAL_STACK_TUNING, heartbeatTimeout: '15s' });

    await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled');
    assert.deepEqual(faults.list().throttles, [], 'every 429 was answered');
    assert.equal(stack.count('updateEndpoint', `/${FAILED}`), 1, 'one accepted PATCH');
    assert.deepEqual(await activityAttempts(handle, 'setEndpointStatus'), [1], 'absorbed within one attempt');

    await approveUnlink(handle);
    const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'intervention:force-unlink', 'intervention');
    assert.equal(gate.phase, 'intervention');
    const failedStep = step(gate, 'force-unlink');
    assert.equal(failedStep.status, 'failed');
    assert.match(failedStep.summary, /^AzureOperationFailed: .*the survivor could not drop the link \(UnlinkFailed\)/);
    const failure = (gate.openGate?.request as { failure: { type: string; message: string } }).failure;
    assert.equal(failure.type, 'AzureOperationFailed');
    assert.match(failure.message, /UnlinkFailed/);
    assert.equal(stack.count('forceUnlink'), 1);
    assert.ok(
      stack.links().westeurope?.some(([r]) => r === FAILED),
      'a failed operation changed nothing',
    );
    assert.deepEqual(
      faults.list().lroFaults.map((f) => f.operation),
      ['forceLinkToReplicationGroup'],
      'the force-unlink fault is cleared',
    );

    const retry = await stack.cliAs(REQUESTER, ['intervene', stack.group.name, '--action', 'retry']);
    assert.equal(retry.code, 0, showRun(retry));
    const unlinked = await waitForStatus(handle, (s) => step(s, 'force-unlink').status === 'succeeded', 'the retry');
    assert.equal(step(unlinked, 'force-unlink').attempts, 2);
    assert.equal(step(unlinked, 'force-unlink').gates?.[0]?.outcome, 'retry');
    assert.equal(stack.count('forceUnlink'), 2, 'the failed operation and the one that succeeded');
    for (const survivor of SURVIVORS) {
      assert.ok(!stack.links()[survivor]?.some(([r]) => r === FAILED), `${survivor} no longer lists ${FAILED}`);
    }

    const status = await rejoinAndComplete(stack, handle);
    assert.match(step(status, 'rejoin').summary, /rejoined \(force-link\)/);
    assert.equal(stack.count('updateEndpoint', `/${FAILED}`), 2);
  });

  it('a firewall block in one application region: traffic is not rerouted, the intervention gate names the region and the endpoint', async () => {
    stack = await RealStack.start(env);
    await stack.emulator.faults.outage(FAILED);
    stack.emulator.faults.firewall({ applicationRegion: 'westeurope', database: 'southeastasia', mode: 'refuse' });
    const handle = await stack.startFailover(FAILED);

    const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'intervention:firewall', 'intervention');
    const address = stack.group.applicationRegions.westeurope?.southeastasia ?? '(none)';
    const finding = `westeurope cannot reach southeastasia at ${address}: refused at TCP`;
    const firewall = step(gate, 'firewall');
    assert.equal(firewall.status, 'failed');
    assert.ok(firewall.summary.includes(finding), firewall.summary);
    assert.ok(
      (gate.openGate?.request as { failure: { message: string } }).failure.message.includes(finding),
      'the gate shows it',
    );
    assert.equal(step(gate, 'traffic-reroute').status, 'pending');
    assert.equal(stack.endpointStatuses()[FAILED], 'Enabled', 'traffic not rerouted');
    assert.equal(stack.count('updateEndpoint'), 0, 'no PATCH');

    const shown = await stack.cli(['status', stack.group.name]);
    assert.equal(shown.code, 0, showRun(shown));
    assert.ok(shown.stdout.includes(finding), showRun(shown));

    await interveneAs(handle, REQUESTER, 'abort');
    const result = await handle.result();
    assert.equal(result.outcome, 'aborted');
    assert.match(result.summary, /Traffic Manager unchanged; nothing was unlinked/);
    assert.equal(stack.count('updateEndpoint'), 0);
  });
});
