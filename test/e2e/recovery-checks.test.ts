// await-recovery's recovery rule, on the real workflow with mocked activities (test/helpers/runbook-fakes.ts): the
// failed region counts as recovered only after K consecutive checks in which ARM answers, its database is Running
// and the probes from every application region pass; regionRecovered asks for a check instead of ending the watch;
// the memory watch goes on through approval-rejoin and stops once rejoin has completed.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../src/contract/messages';
import type { FailoverRunbookInput, GroupDefinition } from '../../src/contract/runbook';
import type { MemberSnapshot, RunbookStatus } from '../../src/contract/types';
import type { failoverRunbook } from '../../src/workflows';
import type { RecoveryCheck, VerificationRequest } from '../../src/workflows/runbook/recovery-steps';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { decideAs, recoveredAs, unlinkNowAs } from '../helpers/people';
import { FakeGroup, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';

type Handle = WorkflowHandle<typeof failoverRunbook>;

interface RecoveryEvidence {
  polls: number;
  recovery?: {
    required: number;
    consecutivePasses: number;
    lastCheck?: RecoveryCheck;
    requests: VerificationRequest[];
    confirmed?: { at: string; checks: number; askedBy?: string[] };
  };
}

const evidenceOf = (s: RunbookStatus): RecoveryEvidence =>
  (step(s, 'await-recovery').evidence ?? { polls: 0 }) as RecoveryEvidence;

/** A group whose failed member's database can report another resourceState than Running. */
class StatefulFakeGroup extends FakeGroup {
  failedResourceState = 'Running';
  override snapshot(region: string): MemberSnapshot {
    const s = super.snapshot(region);
    return region === this.failedRegion && s.reachable ? { ...s, resourceState: this.failedResourceState } : s;
  }
}

describe('await-recovery: recovery that is real (mocked activities)', function () {
  this.timeout(240_000);
  const t = useRunbookTestEnv();

  const start = (taskQueue: string, input: FailoverRunbookInput): Promise<Handle> => t.startFailover(taskQueue, input);

  const group = (regions: readonly string[], confirmations?: number): GroupDefinition =>
    testGroup(regions, (g) => {
      if (confirmations !== undefined) g.recoveryConfirmations = confirmations;
    });

  it('ARM answering is not enough: probes failing keep the watch (and unlink) going; K passing checks in a row end it', async () => {
    const regions = testRegions();
    const [failed, , app] = regions;
    const fake = new FakeGroup(group(regions, 3), failed);
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await start(taskQueue, testInput(fake.group, failed));
      await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
      // ARM answers again (Running), but one application region still cannot reach the member.
      fake.blocked.add(`${app}->${failed}`);
      fake.failedAnswers = true;
      const probing = await waitForStatus(
        handle,
        (s) => evidenceOf(s).recovery?.lastCheck?.probes === 'failed' && evidenceOf(s).polls >= 4,
        'checks with ARM answering and a probe failing',
      );
      assert.equal(probing.phase, 'awaiting-recovery');
      const check = evidenceOf(probing).recovery?.lastCheck as RecoveryCheck;
      assert.equal(check.arm, 'answers');
      assert.equal(check.resourceState, 'Running');
      assert.equal(check.passed, false);
      assert.match(check.failures.join('; '), new RegExp(`${app} cannot reach ${failed}`));
      assert.equal(evidenceOf(probing).recovery?.consecutivePasses, 0);
      assert.match(
        step(probing, 'await-recovery').summary,
        new RegExp(`0/3 consecutive checks passed; probe: ${app} cannot reach ${failed}`),
      );

      // unlink can still be asked for
      await unlinkNowAs(handle, 'sre-lead', 'the data plane is still down');
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
      const no = await decideAs(handle, 'sre-manager', 'reject', 'it is coming back');
      assert.equal(no.accepted, true, no.reason);

      // the data plane is back: recovered only after 3 passing checks in a row
      const probesBefore = fake.calls.probeEndpoints;
      fake.blocked.clear();
      const result = await handle.result();
      assert.ok(fake.calls.probeEndpoints - probesBefore >= 3, 'three more checks probed the member');
      return result;
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(fake.calls.forceUnlink, 0);
    const recovery = step(result.status, 'await-recovery');
    const evidence = recovery.evidence as RecoveryEvidence;
    assert.equal(evidence.recovery?.confirmed?.checks, 3);
    assert.equal(evidence.recovery?.lastCheck?.passed, true);
    assert.match(recovery.summary, /3 consecutive checks passed/);
    assert.equal(recovery.actor, 'recovery-check');
  });

  it('a database that is not Running does not count, whatever ARM answers', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const fake = new StatefulFakeGroup(group(regions, 2), failed);
    fake.failedResourceState = 'Updating';
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await start(taskQueue, testInput(fake.group, failed));
      await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery');
      fake.failedAnswers = true;
      const updating = await waitForStatus(
        handle,
        (s) => evidenceOf(s).recovery?.lastCheck?.resourceState === 'Updating' && evidenceOf(s).polls >= 4,
        'checks of an Updating database',
      );
      assert.equal(step(updating, 'await-recovery').status, 'running');
      assert.equal(evidenceOf(updating).recovery?.lastCheck?.probes, 'not run');
      assert.match(step(updating, 'await-recovery').summary, /resourceState is Updating, not Running/);
      fake.failedResourceState = 'Running';
      return handle.result();
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal((step(result.status, 'await-recovery').evidence as RecoveryEvidence).recovery?.confirmed?.checks, 2);
  });

  it('regionRecovered asks for a check now and is recorded; the watch ends only when the checks pass', async () => {
    const regions = testRegions();
    const [failed] = regions;
    // A long poll interval: only the signal makes a check happen soon.
    const fake = new FakeGroup(
      testGroup(regions, (g) => {
        g.recoveryConfirmations = 2;
        g.durations.recoveryPollInterval = '2s';
      }),
      failed,
    );
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await start(taskQueue, testInput(fake.group, failed));
      const watching = await waitForStatus(
        handle,
        (s) => evidenceOf(s).polls >= 1 && !!evidenceOf(s).recovery?.lastCheck,
        'the first check',
      );
      const pollsBefore = evidenceOf(watching).polls;
      // The commander says it is back, but the member does not answer yet.
      await recoveredAs(handle, 'sre-lead', 'the status page says healthy');
      const asked = await waitForStatus(
        handle,
        (s) => evidenceOf(s).recovery?.lastCheck?.askedBy?.includes('sre-lead') === true,
        'a check asked for by sre-lead',
        5000,
      );
      assert.ok(evidenceOf(asked).polls > pollsBefore);
      assert.equal(step(asked, 'await-recovery').status, 'running', 'the signal does not end the watch');
      assert.equal(evidenceOf(asked).recovery?.lastCheck?.passed, false);
      assert.deepEqual(
        evidenceOf(asked).recovery?.requests.map((r) => [r.by, r.comment]),
        [['sre-lead', 'the status page says healthy']],
      );
      assert.match(step(asked, 'await-recovery').summary, /\(asked for by sre-lead\); ARM does not answer/);
      await sleep(300);
      assert.equal((await handle.query(statusQuery)).phase, 'awaiting-recovery');

      fake.failedAnswers = true;
      await recoveredAs(handle, 'sre-lead', 'now it answers');
      return handle.result();
    });
    assert.equal(result.outcome, 'completed', result.summary);
    const recovery = step(result.status, 'await-recovery');
    assert.equal(recovery.actor, 'sre-lead', 'the step names who asked');
    assert.match(recovery.summary, /2 consecutive checks passed .*verification asked for by sre-lead/);
    assert.deepEqual((recovery.evidence as RecoveryEvidence).recovery?.confirmed?.askedBy, ['sre-lead']);
  });

  it('the memory watch goes on through approval-rejoin and stops once rejoin has completed', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const fake = new FakeGroup(group(regions, 2), failed);
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await start(taskQueue, testInput(fake.group, failed));
      await waitForStatus(handle, (s) => !!s.runId, 'the run id');
      await unlinkNowAs(handle, 'sre-lead', 'down for days');
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
      assert.equal((await decideAs(handle, 'sre-manager', 'approve')).accepted, true);
      await waitForStatus(handle, (s) => step(s, 'force-unlink').status === 'succeeded', 'force-unlink');
      fake.failedAnswers = true;
      const rejoinGate = await waitForStatus(
        handle,
        (s) => s.openGate?.gate === 'approval-rejoin',
        'approval-rejoin gate',
      );
      assert.equal(step(rejoinGate, 'await-recovery').status, 'succeeded');
      const readsAtGate = fake.calls.readMemory;
      const pollsAtGate = evidenceOf(rejoinGate).polls;
      const later = await waitForStatus(
        handle,
        (s) => evidenceOf(s).polls >= pollsAtGate + 3,
        'memory polls while approval-rejoin is open',
      );
      assert.equal(later.openGate?.gate, 'approval-rejoin');
      assert.ok(fake.calls.readMemory > readsAtGate, 'survivors are still read');
      assert.equal((await decideAs(handle, 'sre-manager', 'approve')).accepted, true);
      const result = await handle.result();
      const readsAtEnd = fake.calls.readMemory;
      await sleep(800);
      assert.equal(fake.calls.readMemory, readsAtEnd, 'the watch stopped with the run');
      return result;
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(fake.calls.forceUnlink, 1);
    assert.equal(fake.calls.rejoinMember, 1);
  });
});
