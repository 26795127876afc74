// The runbook trusts no caller: the real failoverRunbook on the shared dev server with mocked activities
// (test/helpers/runbook-fakes.ts), sent forged, replayed, expired, oversized and malformed messages and inputs,
// as anyone who can reach the namespace could send them. What a commander sees is the `status` query; what
// would have changed in Azure is the FakeGroup's call counters.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { approveSignal, decideUpdate, statusQuery, type DecideResult } from '../../src/contract/messages';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { RunbookResult } from '../../src/contract/runbook';
import type { ApprovalPayload, DecidePayload, RunbookStatus, StepRecord } from '../../src/contract/types';
import { decisionPayload } from '../../src/signing/payloads';
import { signAction } from '../../src/signing/sign-action';
import type { failoverRunbook } from '../../src/workflows';
import { abortAs, decideAs, interveneAs, OUTSIDER, personKey, recoveredAs, unlinkNowAs } from '../helpers/people';
import { FakeGroup, TEST_TUNING, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';
import { withFakeWorkers } from '../helpers/fake-workers';
import { getTestEnv, getWorkflowBundle, uniqueName } from '../helpers/temporal';

type Handle = WorkflowHandle<typeof failoverRunbook>;

/** A malformed or hostile run ends this fast (one workflow task and at most one activity). */
const REFUSED_WITHIN_MS = 5000;

describe('failoverRunbook trusts no caller (mocked activities)', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;
  const open: WorkflowHandle[] = [];

  before(async () => {
    [env, bundle] = await Promise.all([getTestEnv(), getWorkflowBundle()]);
  });
  afterEach(async () => {
    for (const handle of open.splice(0)) {
      await handle.terminate('test ended').catch(() => undefined);
    }
  });
  after(async () => {
    await env?.teardown();
  });

  /** Runs `body` with a main worker (mocked activities, counting loadPolicy too) and a probe worker per region. */
  async function withWorkers<T>(
    fake: FakeGroup,
    body: (taskQueue: string, loadPolicyCalls: () => number) => Promise<T>,
  ): Promise<T> {
    const activities = fake.activities();
    let loads = 0;
    const counting = {
      ...activities,
      loadPolicy: async (input: { group: string }) => {
        loads += 1;
        return activities.loadPolicy(input);
      },
    };
    return withFakeWorkers(env, bundle, fake, (taskQueue) => body(taskQueue, () => loads), {
      activities: counting,
      queue: 'trust',
    });
  }

  /** Starts a failoverRunbook with any input at all, as `temporal workflow start --input` could. */
  async function start(taskQueue: string, input: unknown, workflowId: string): Promise<Handle> {
    const handle = await env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
      taskQueue,
      workflowId,
      args: [input as never],
    });
    open.push(handle);
    return handle;
  }

  const noActivityCalled = (fake: FakeGroup): void => {
    for (const [name, count] of Object.entries(fake.calls)) assert.equal(count, 0, `${name} was not called`);
  };

  /** Starts a failover of a fresh group and waits until it watches for recovery (traffic moved). */
  async function watching(
    taskQueue: string,
    fake: FakeGroup,
  ): Promise<{ handle: Handle; status: RunbookStatus; workflowId: string }> {
    const workflowId = workflowIds.failover(fake.group.name);
    const handle = await start(taskQueue, testInput(fake.group, fake.failedRegion), workflowId);
    const status = await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'watching');
    return { handle, status, workflowId };
  }

  /** Opens the unlink gate the way a commander does (signed unlinkNow) and returns the status showing it. */
  async function openUnlinkGate(handle: Handle, instanceAfter = 0): Promise<RunbookStatus> {
    await unlinkNowAs(handle, 'sre-lead', 'down for days');
    return waitForStatus(
      handle,
      (s) => s.openGate?.gate === 'approval-unlink' && (s.openGate.instance ?? 0) > instanceAfter,
      'unlink gate',
    );
  }

  /** The step's refusals once `count` of them are recorded (signals are asynchronous). */
  async function refusals(handle: Handle, name: 'approval-unlink' | 'await-recovery' | 'verify', count: number) {
    const status = await waitForStatus(
      handle,
      (s) => (step(s, name).refusedTotal ?? 0) >= count,
      `${count} refusal(s) at ${name}`,
    );
    return {
      status,
      record: step(status, name) as StepRecord & { refusedAttempts: NonNullable<StepRecord['refusedAttempts']> },
    };
  }

  const decide = (handle: Handle, payload: unknown): Promise<DecideResult> =>
    handle.executeUpdate(decideUpdate, { args: [payload as DecidePayload] });

  it('refuses forged approvals naming listed approvers: unsigned, an outsider’s key, another person’s signature', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    const result = await withWorkers(fake, async (taskQueue) => {
      const { handle, workflowId } = await watching(taskQueue, fake);
      const gate = await openUnlinkGate(handle);
      const open = gate.openGate!;

      // no proof at all, through the update and the plain signal
      const unsigned = await decide(handle, { decision: 'approve', approver: 'sre-manager', gate: open.gate });
      assert.equal(unsigned.accepted, false);
      assert.match(unsigned.reason ?? '', /^unsigned: the payload has no proof/);
      await handle.signal(approveSignal, { approver: 'data-owner' } as ApprovalPayload);

      // mallory signs as herself and names sre-manager in the payload
      const mallory = { key: personKey(OUTSIDER), actor: OUTSIDER, workflowId, status: gate };
      const asMallory = { ...decisionPayload(mallory, 'approve'), approver: 'sre-manager' };
      const outsider = await decide(handle, asMallory);
      assert.equal(outsider.accepted, false);
      assert.match(outsider.reason ?? '', /"mallory" is not a person in the worker's configuration/);

      // mallory's key under a statement that claims to be sre-manager's
      const claimed = decisionPayload({ ...mallory, actor: 'sre-manager' }, 'approve');
      await handle.signal(approveSignal, claimed);

      // a real approver's signature in a payload that names someone else
      const dataOwners = decisionPayload(
        { key: personKey('data-owner'), actor: 'data-owner', workflowId, status: gate },
        'approve',
      );
      const borrowed = await decide(handle, { ...dataOwners, approver: 'sre-manager' });
      assert.equal(borrowed.accepted, false);
      assert.match(borrowed.reason ?? '', /the payload names sre-manager but the statement is signed by data-owner/);

      const { status, record } = await refusals(handle, 'approval-unlink', 5);
      assert.deepEqual(
        record.refusedAttempts.map((r) => [r.by, r.via, r.action]),
        [
          ['sre-manager (unverified)', 'decide', 'approve'],
          ['data-owner (unverified)', 'signal', 'approve'],
          ['sre-manager (unverified)', 'decide', 'approve'],
          ['sre-manager (unverified)', 'signal', 'approve'],
          ['data-owner', 'decide', 'approve'],
        ],
      );
      const reasons = record.refusedAttempts.map((r) => r.reason);
      assert.match(reasons[1]!, /^unsigned/);
      assert.match(reasons[3]!, /signed by key SHA256:\S+, which is not one of "sre-manager"'s keys/);
      assert.ok(record.refusedAttempts.every((r) => r.gate === 'approval-unlink'));
      assert.deepEqual(status.openGate?.approvals, [], 'no forged approval counts');
      assert.equal(status.openGate?.gate, 'approval-unlink', 'the gate still waits');
      assert.deepEqual(step(status, 'approval-unlink').gates?.[0]?.votes, []);
      assert.equal(fake.calls.forceUnlink, 0);
      await abortAs(handle, 'sre-lead', 'test over');
      return handle.result();
    });
    assert.equal(result.outcome, 'aborted');
    assert.equal(fake.calls.forceUnlink, 0, 'nothing was unlinked');
  });

  it('refuses a valid signed approval sent a second time (replayed)', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(
      testGroup(regions, (g) => (g.quorum.unlink = 2)),
      regions[0],
    );
    await withWorkers(fake, async (taskQueue) => {
      const { handle, workflowId } = await watching(taskQueue, fake);
      const gate = await openUnlinkGate(handle);
      const payload = decisionPayload(
        { key: personKey('sre-manager'), actor: 'sre-manager', workflowId, status: gate },
        'approve',
      );
      const first = await decide(handle, payload);
      assert.equal(first.accepted, true, first.reason);
      const again = await decide(handle, payload);
      assert.equal(again.accepted, false);
      assert.match(again.reason ?? '', /^replayed: this signed statement \(nonce [0-9a-f]+\) was already used/);
      await handle.signal(approveSignal, payload); // the same statement through the other door
      const { status, record } = await refusals(handle, 'approval-unlink', 2);
      assert.deepEqual(status.openGate?.approvals, ['sre-manager'], 'one approval, counted once');
      assert.match(record.refusedAttempts[1]?.reason ?? '', /^replayed/);
      assert.equal(fake.calls.forceUnlink, 0, 'quorum 2 is not met by one approval sent twice');
    });
  });

  it('refuses an approval signed for an earlier opening of the gate when it opens again', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    await withWorkers(fake, async (taskQueue) => {
      const { handle, workflowId } = await watching(taskQueue, fake);
      const first = await openUnlinkGate(handle);
      const instance = first.openGate!.instance!;
      // sre-manager signs an approval of this opening but it is held back
      const held = decisionPayload(
        { key: personKey('sre-manager'), actor: 'sre-manager', workflowId, status: first },
        'approve',
      );
      const no = await decideAs(handle, 'data-owner', 'reject', 'not yet');
      assert.equal(no.accepted, true, no.reason);
      await waitForStatus(handle, (s) => !s.openGate && step(s, 'approval-unlink').status === 'pending', 'gate closed');
      const reopened = await openUnlinkGate(handle, instance);
      assert.equal(reopened.openGate?.instance, instance + 1);
      const late = await decide(handle, held);
      assert.equal(late.accepted, false);
      assert.match(late.reason ?? '', new RegExp(`for gate instance ${instance}, not ${instance + 1}`));
      const { status } = await refusals(handle, 'approval-unlink', 1);
      assert.deepEqual(status.openGate?.approvals, []);
      assert.equal(fake.calls.forceUnlink, 0);
    });
  });

  it('refuses an approval signed for another run of the same workflow id', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(
      testGroup(regions, (g) => (g.quorum.unlink = 2)),
      regions[0],
    );
    await withWorkers(fake, async (taskQueue) => {
      const earlier = await watching(taskQueue, fake);
      const gate = await openUnlinkGate(earlier.handle);
      const approval = decisionPayload(
        { key: personKey('sre-manager'), actor: 'sre-manager', workflowId: earlier.workflowId, status: gate },
        'approve',
      );
      assert.equal((await decide(earlier.handle, approval)).accepted, true);
      await earlier.handle.terminate('a new incident run replaces it');

      // the same group, the same workflow id, a new run: the same gate, instance and targets
      const later = await watching(taskQueue, fake);
      const again = await openUnlinkGate(later.handle);
      assert.notEqual(again.runId, gate.runId);
      assert.equal(again.openGate?.instance, gate.openGate?.instance);
      const replayed = await decide(later.handle, approval);
      assert.equal(replayed.accepted, false);
      assert.match(
        replayed.reason ?? '',
        new RegExp(`the statement is for run "${gate.runId}", not this run "${again.runId}"`),
      );
      const { status } = await refusals(later.handle, 'approval-unlink', 1);
      assert.deepEqual(status.openGate?.approvals, []);
      assert.equal(fake.calls.forceUnlink, 0);
    });
  });

  it('refuses an expired signed approval', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    await withWorkers(fake, async (taskQueue) => {
      const { handle, workflowId } = await watching(taskQueue, fake);
      const gate = await openUnlinkGate(handle);
      const proof = signAction(personKey('sre-manager'), {
        action: 'approve',
        actor: 'sre-manager',
        workflowId,
        runId: gate.runId!,
        gate: gate.openGate!.gate,
        gateInstance: gate.openGate!.instance!,
        targets: gate.openGate!.targets!,
        issuedAt: new Date(Date.now() - 60 * 60_000),
        validForMs: 10 * 60_000,
      });
      const expired = await decide(handle, { decision: 'approve', approver: 'sre-manager', proof });
      assert.equal(expired.accepted, false);
      assert.match(expired.reason ?? '', /^the statement expired at "[^"]+" \(worker time /);
      const { status } = await refusals(handle, 'approval-unlink', 1);
      assert.deepEqual(status.openGate?.approvals, []);
      assert.equal(fake.calls.forceUnlink, 0);
    });
  });

  it('refuses a statement signed by a key the policy does not list for the person it names', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    await withWorkers(fake, async (taskQueue) => {
      const { handle, workflowId } = await watching(taskQueue, fake);
      const gate = await openUnlinkGate(handle);
      // a fresh key pair, made for this test, that the worker's policy has never seen
      const rogue = { key: personKey(uniqueName('unlisted-key')), actor: 'sre-manager', workflowId, status: gate };
      const result = await decide(handle, decisionPayload(rogue, 'approve'));
      assert.equal(result.accepted, false);
      assert.match(result.reason ?? '', /signed by key SHA256:\S+, which is not one of "sre-manager"'s keys/);
      const { status, record } = await refusals(handle, 'approval-unlink', 1);
      assert.equal(record.refusedAttempts[0]?.by, 'sre-manager (unverified)');
      assert.deepEqual(status.openGate?.approvals, []);
      assert.equal(fake.calls.forceUnlink, 0);
    });
  });

  it('refuses a start that brings its own group definition or approvers, before any activity', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    await withWorkers(fake, async (taskQueue, loadPolicyCalls) => {
      const workflowId = workflowIds.failover(fake.group.name);
      const own = {
        ...fake.group,
        approvers: ['mallory', 'mallory-2'],
        quorum: { unlink: 1, rejoin: 1, intervention: 1 },
      };
      const inputs: [string, unknown, RegExp][] = [
        ['own group definition', { ...testInput(fake.group, fake.failedRegion), group: own }, /not a definition/],
        [
          'own approvers',
          { ...testInput(fake.group, fake.failedRegion), approvers: ['mallory'] },
          /unknown field\(s\) "approvers"/,
        ],
      ];
      for (const [what, input, reason] of inputs) {
        const startedAt = Date.now();
        const handle = await start(taskQueue, input, workflowId);
        const result: RunbookResult = await handle.result();
        assert.ok(Date.now() - startedAt < REFUSED_WITHIN_MS, `${what}: refused within seconds`);
        assert.equal(result.outcome, 'refused', `${what}: ${result.summary}`);
        assert.match(result.summary, reason, what);
        assert.equal(step(result.status, 'validate-input').status, 'failed', what);
        assert.equal(result.status.phase, 'refused');
        assert.equal(result.status.requestedBy, undefined, `${what}: no requester was verified`);
        const events = (await handle.fetchHistory()).events ?? [];
        assert.ok(!events.some((e) => e.activityTaskScheduledEventAttributes), `${what}: no activity was scheduled`);
      }
      assert.equal(loadPolicyCalls(), 0, 'the worker’s policy was not even read');
      noActivityCalled(fake);
    });
  });

  it('ends every malformed input as refused, quickly, without a failing workflow task', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    const valid = testInput(fake.group, fake.failedRegion);
    const { request: _request, ...withoutRequest } = valid;
    const malformed: [string, unknown, RegExp][] = [
      ['group: 42', { ...valid, group: 42 }, /group is 42/],
      ['approvers: "x"', { ...valid, approvers: 'x' }, /unknown field\(s\) "approvers"/],
      ['no request', withoutRequest, /request must be the signed start/],
      ['null', null, /the input must be an object, not null/],
      [
        'negative tuning',
        { ...valid, tuning: { ...TEST_TUNING, heartbeatTimeout: -1000, mutationMaximumAttempts: -1 } },
        /tuning\.heartbeatTimeout is -1000.*tuning\.mutationMaximumAttempts is -1/,
      ],
    ];
    await withWorkers(fake, async (taskQueue, loadPolicyCalls) => {
      await Promise.all(
        malformed.map(async ([what, input, reason]) => {
          const startedAt = Date.now();
          const handle = await start(taskQueue, input, workflowIds.failover(uniqueName('malformed')));
          const result = await handle.result();
          assert.ok(Date.now() - startedAt < REFUSED_WITHIN_MS, `${what}: refused within seconds`);
          assert.equal(result.outcome, 'refused', `${what}: ${result.summary}`);
          assert.match(result.summary, reason, what);
          assert.equal(step(result.status, 'validate-input').status, 'failed', what);
          const events = (await handle.fetchHistory()).events ?? [];
          assert.ok(events.length > 0);
          assert.ok(
            !events.some((e) => e.workflowTaskFailedEventAttributes),
            `${what}: no WorkflowTaskFailed event in the history`,
          );
          assert.ok(
            events.some((e) => e.workflowExecutionCompletedEventAttributes),
            `${what}: the workflow completed (with outcome refused)`,
          );
        }),
      );
      assert.equal(loadPolicyCalls(), 0);
    });
    noActivityCalled(fake);
  });

  it('stores a 1.5 MB approver truncated, keeps 20 of 30 such refusals, and then completes normally', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    const huge = (i: number): string => `${String(i).padStart(2, '0')}${'mallory'.repeat(1_500_000 / 7)}`;
    const result = await withWorkers(fake, async (taskQueue) => {
      const { handle } = await watching(taskQueue, fake);
      const sentAt = Date.now();
      for (let i = 0; i < 30; i++) {
        await handle.signal(approveSignal, { approver: huge(i) } as ApprovalPayload);
      }
      process.stderr.write(`      30 signals of 1.5 MB sent in ${Date.now() - sentAt} ms\n`);
      const { status, record } = await refusals(handle, 'await-recovery', 30);
      assert.equal(record.refusedTotal, 30);
      assert.equal(record.refusedAttempts.length, 20, 'the first 20 are kept');
      for (const [i, r] of record.refusedAttempts.entries()) {
        assert.ok(r.by.length <= 100, `stored by is ${r.by.length} characters`);
        assert.ok(r.by.startsWith(`${String(i).padStart(2, '0')}mallory`), r.by.slice(0, 20));
        assert.match(r.by, /\(unverified\)$/);
        assert.match(r.reason, /^malformed payload: approver is longer than 64 characters/);
        assert.ok(r.reason.length <= 500);
      }
      const size = JSON.stringify(await handle.query(statusQuery)).length;
      assert.ok(size < 100_000, `the status stays small: ${size} characters`);
      assert.equal(status.phase, 'awaiting-recovery', 'the flood changed nothing');
      assert.equal(step(status, 'await-recovery').status, 'running');
      await recoveredAs(handle, 'sre-lead', 'back');
      fake.failedAnswers = true;
      return handle.result();
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(step(result.status, 'await-recovery').refusedTotal, 30);
    assert.equal(fake.calls.forceUnlink, 0);
  });

  it('refuses a skip approved by whoever asked for it (four-eyes); another approver’s approval skips', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    fake.failures.canaryWriteRead = [FakeGroup.azureFailure('AzureBadRequest', 'x')];
    const result = await withWorkers(fake, async (taskQueue) => {
      const workflowId = workflowIds.failover(fake.group.name);
      const handle = await start(taskQueue, testInput(fake.group, fake.failedRegion), workflowId);
      await waitForStatus(handle, (s) => s.openGate?.gate === 'intervention:verify', 'intervention');
      await interveneAs(handle, 'sre-manager', 'skip', 'canary is flaky');
      const asked = await waitForStatus(handle, (s) => s.openGate?.skipRequestedBy === 'sre-manager', 'skip asked');
      assert.deepEqual(asked.openGate?.eligibleApprovers, ['data-owner'], 'neither the requester nor the asker');
      const own = await decideAs(handle, 'sre-manager', 'approve');
      assert.equal(own.accepted, false);
      assert.match(own.reason ?? '', /sre-manager asked for this skip and cannot approve it \(four-eyes rule\)/);
      const still = await handle.query(statusQuery);
      assert.equal(step(still, 'verify').status, 'failed', 'the refused approval skipped nothing');
      assert.equal(still.openGate?.gate, 'intervention:verify');
      const other = await decideAs(handle, 'data-owner', 'approve');
      assert.equal(other.accepted, true, other.reason);
      const skipped = await waitForStatus(handle, (s) => step(s, 'verify').status === 'skipped', 'verify skipped');
      const verify = step(skipped, 'verify');
      assert.equal(verify.actor, 'data-owner');
      assert.match(verify.refusedAttempts?.[0]?.by ?? '', /^sre-manager\b/);
      assert.match(verify.refusedAttempts?.[0]?.reason ?? '', /four-eyes/);
      const votes = verify.gates?.[0]?.votes ?? [];
      assert.deepEqual(
        votes.map((v) => [v.approver, v.decision]),
        [['data-owner', 'approve']],
      );
      assert.equal(verify.gates?.[0]?.interventions?.[0]?.by, 'sre-manager');
      await recoveredAs(handle, 'sre-lead', 'back');
      fake.failedAnswers = true;
      return handle.result();
    });
    assert.equal(result.outcome, 'completed', result.summary);
  });

  it('refuses regionRecovered, unlinkNow and abort signed by an approver who is not a commander; nothing changes', async () => {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions), regions[0]);
    const result = await withWorkers(fake, async (taskQueue) => {
      const { handle } = await watching(taskQueue, fake);
      await recoveredAs(handle, 'sre-manager', 'looks fine to me');
      await abortAs(handle, 'sre-manager', 'stop it');
      await unlinkNowAs(handle, 'sre-manager', 'unlink it');
      const { record } = await refusals(handle, 'await-recovery', 2);
      assert.deepEqual(
        record.refusedAttempts.map((r) => r.action),
        ['regionRecovered', 'abort'],
      );
      for (const r of record.refusedAttempts) {
        assert.match(r.by, /^sre-manager\b/);
        assert.match(
          r.reason,
          new RegExp(`sre-manager is not a commander of group ${fake.group.name} \\(commanders: sre-lead\\)`),
        );
      }
      const unlink = (await refusals(handle, 'approval-unlink', 1)).record.refusedAttempts[0];
      assert.equal(unlink?.action, 'unlinkNow');
      assert.match(unlink?.reason ?? '', /sre-manager is not a commander/);
      await sleep(1000); // several polls: the refused signals must not act later either
      const after = await handle.query(statusQuery);
      assert.equal(after.phase, 'awaiting-recovery');
      assert.equal(step(after, 'await-recovery').status, 'running', 'not recovered');
      assert.equal(after.openGate, undefined, 'no unlink gate');
      assert.equal(step(after, 'complete').status, 'pending', 'not aborted');
      await recoveredAs(handle, 'sre-lead', 'back');
      fake.failedAnswers = true;
      return handle.result();
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(step(result.status, 'await-recovery').actor, 'sre-lead');
    assert.equal(fake.calls.forceUnlink, 0);
  });
});
