// failoverRunbook on the real stack (dev server, main worker, a probe worker per application region, the emulator
// through the official Azure SDK, its redis-servers) in a data-plane-only outage: ARM answers for the failed region
// and its database reads Running, but its redis-server is stopped and its private endpoints black-holed. ARM
// answering is not recovery: the runbook stays in await-recovery (regionRecovered only asks for a check, unlink can
// still be asked for), and fails back only after the probes from every application region passed K checks in a row.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { statusQuery } from '../../src/contract/messages';
import type { RunbookStatus } from '../../src/contract/types';
import type { RecoveryCheck } from '../../src/workflows/runbook/recovery-steps';
import { decideAs, recoveredAs, unlinkNowAs } from '../helpers/people';
import { RealStack, REQUESTER, step, waitForStatus } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
const CONFIRMATIONS = 3;
// Slow build-up: the survivors stay far from critical, so only unlinkNow opens the unlink gate here.
const SLOW_METADATA_BUILDUP = 64 * 1024;

interface RecoveryEvidence {
  polls: number;
  recovery?: {
    required: number;
    consecutivePasses: number;
    lastCheck?: RecoveryCheck;
    confirmed?: { checks: number; askedBy?: string[] };
  };
}

const recoveryOf = (s: RunbookStatus): RecoveryEvidence =>
  (step(s, 'await-recovery').evidence ?? { polls: 0 }) as RecoveryEvidence;

describe('failoverRunbook on the real stack: data-plane-only outage', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it('stays in await-recovery with unlink possible while ARM answers and the data plane does not; fails back after K passing checks', async () => {
    stack = await RealStack.start(env, {
      metadataBytesPerSecond: SLOW_METADATA_BUILDUP,
      group: (g) => void (g.recoveryConfirmations = CONFIRMATIONS),
    });
    const applicationRegions = Object.keys(stack.group.applicationRegions);
    await stack.emulator.faults.dataPlaneOutage(FAILED);
    const handle = await stack.startFailover(FAILED);

    // ARM answers for eastus (Running) at every check, and every application region's probe of it times out.
    const watching = await waitForStatus(
      handle,
      (s) =>
        (recoveryOf(s).recovery?.lastCheck?.poll ?? 0) >= 2 && recoveryOf(s).recovery?.lastCheck?.probes === 'failed',
      'two checks with ARM answering and the probes failing',
      120_000,
    );
    assert.equal(watching.phase, 'awaiting-recovery');
    assert.equal(step(watching, 'traffic-reroute').status, 'succeeded');
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled', 'traffic moved away from the failed region');
    const check = recoveryOf(watching).recovery?.lastCheck as RecoveryCheck;
    assert.equal(check.arm, 'answers');
    assert.equal(check.resourceState, 'Running');
    assert.equal(check.passed, false);
    for (const app of applicationRegions) {
      assert.ok(
        check.failures.some((f) => f.includes(`${app} cannot reach ${FAILED}`)),
        `the probe from ${app} fails: ${check.failures.join('; ')}`,
      );
    }
    assert.equal(recoveryOf(watching).recovery?.consecutivePasses, 0);
    assert.match(
      step(watching, 'await-recovery').summary,
      new RegExp(`0/${CONFIRMATIONS} consecutive checks passed; probe: \\S+ cannot reach ${FAILED}`),
    );

    // regionRecovered asks for a check; the check fails and the watch goes on.
    await recoveredAs(handle, REQUESTER, 'ARM says Running');
    const asked = await waitForStatus(
      handle,
      (s) => recoveryOf(s).recovery?.lastCheck?.askedBy?.includes(REQUESTER) === true,
      `a check asked for by ${REQUESTER}`,
      60_000,
    );
    assert.equal(asked.phase, 'awaiting-recovery');
    assert.equal(recoveryOf(asked).recovery?.lastCheck?.passed, false);

    // Unlink can still be asked for: the gate opens; rejected, the watch goes on.
    await unlinkNowAs(handle, REQUESTER, 'the data plane is down, ARM is lying');
    const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate', 60_000);
    assert.equal((gate.openGate?.request as { trigger: { reason: string } }).trigger.reason, 'unlink-now');
    const no = await decideAs(handle, 'sre-manager', 'reject', 'it will come back');
    assert.equal(no.accepted, true, no.reason);
    const still = await waitForStatus(
      handle,
      (s) => !s.openGate && step(s, 'await-recovery').status === 'running',
      'back to watching',
      60_000,
    );
    assert.equal(stack.count('forceUnlink'), 0);
    assert.equal(step(still, 'traffic-failback').status, 'pending', 'no failback while the probes fail');
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled');

    // The data plane comes back: recovered only after K checks in a row pass, then failback.
    const pollsBeforeRestore = recoveryOf(await handle.query(statusQuery)).polls;
    await stack.emulator.faults.restore(FAILED);
    const result = await handle.result();

    assert.equal(result.outcome, 'completed', result.summary);
    const recovery = recoveryOf(result.status).recovery;
    assert.equal(recovery?.confirmed?.checks, CONFIRMATIONS);
    assert.equal(recovery?.lastCheck?.passed, true);
    assert.equal(recovery?.lastCheck?.probes, 'passed');
    assert.ok(
      (recovery?.lastCheck?.poll ?? 0) >= pollsBeforeRestore + CONFIRMATIONS,
      `${CONFIRMATIONS} checks after the restore (confirmed at poll ${recovery?.lastCheck?.poll}, restore after poll ${pollsBeforeRestore})`,
    );
    assert.deepEqual(recovery?.confirmed?.askedBy, [REQUESTER]);
    assert.match(
      step(result.status, 'await-recovery').summary,
      new RegExp(`${CONFIRMATIONS} consecutive checks passed`),
    );
    const failback = step(result.status, 'traffic-failback');
    assert.equal(failback.status, 'succeeded', failback.summary);
    assert.equal(stack.count('forceUnlink'), 0, 'nothing was unlinked');
    assert.equal(stack.count('updateEndpoint', `/${FAILED}`), 2, 'one PATCH to reroute, one to fail back');
    assert.deepEqual(stack.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    stack.assertFullyLinked();
  });
});
