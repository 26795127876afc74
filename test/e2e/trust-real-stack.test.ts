// Trust on the real stack (dev server, real workers, the emulator through the official Azure SDK): only what a
// person of the workers' own configuration signed moves a runbook, and the destructive activities check it again
// themselves. Forged decisions through the plain Temporal CLI, a workflow that calls force-unlink directly, a
// start signed by someone outside the policy and an input that brings its own group definition are all refused
// — and the emulator counts no ARM write for any of them. The real approvers' plain-CLI path still works.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundle } from '@temporalio/worker';
import { statusQuery } from '../../src/contract/messages';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { Proof } from '../../src/contract/policy';
import type { FailoverRunbookInput } from '../../src/contract/runbook';
import type { DecidePayload } from '../../src/contract/types';
import type { RunbookView } from '../../src/starter';
import { decisionPayload } from '../../src/signing/payloads';
import { parsePublicKey } from '../../src/signing/ssh-key';
import type { rogueEndpoint, rogueUnlink, RogueOutcome } from '../fixtures/rogue-workflow';
import { abortAs, OUTSIDER, personKey, unlinkNowAs } from '../helpers/people';
import {
  RealStack,
  REAL_STACK_TUNING,
  REQUESTER,
  showRun,
  step,
  waitForStatus,
  type RunbookHandle,
} from '../helpers/real-stack';
import { getTestEnv, uniqueTaskQueue } from '../helpers/temporal';

const FAILED = 'eastus';

describe('trust on the real stack: only signatures the workers’ own policy accepts act', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;
  let rogueBundle: Promise<WorkflowBundle> | undefined;

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

  /** An outage of FAILED, its runbook watching, and the commander's signed unlinkNow: the unlink gate is open. */
  async function atUnlinkGate(s: RealStack): Promise<RunbookHandle> {
    await s.emulator.faults.outage(FAILED);
    const handle = await s.startFailover(FAILED);
    await waitForStatus(handle, (st) => step(st, 'await-recovery').status === 'running', 'await-recovery');
    await unlinkNowAs(handle, REQUESTER, 'down for days');
    await waitForStatus(handle, (st) => st.openGate?.gate === 'approval-unlink', 'the unlink gate');
    return handle;
  }

  /** The signed start a run was started with, as anyone who can read its history finds it. */
  async function startProofOf(handle: RunbookHandle): Promise<Proof> {
    const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
    const data = started?.input?.payloads?.[0]?.data ?? new Uint8Array();
    return (JSON.parse(Buffer.from(data).toString('utf8')) as FailoverRunbookInput).request;
  }

  /** A worker for test/fixtures/rogue-workflow.ts on a task queue of its own, with no activities. */
  async function rogueWorkerFor(): Promise<{ worker: Worker; taskQueue: string }> {
    const taskQueue = uniqueTaskQueue('rogue');
    rogueBundle ??= bundleWorkflowCode({
      workflowsPath: require.resolve('../fixtures/rogue-workflow'),
      logger: new DefaultLogger('WARN'),
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      workflowBundle: await rogueBundle,
    });
    return { worker, taskQueue };
  }

  it('forged decisions through the plain Temporal CLI, naming listed approvers, are refused on record; nothing is unlinked', async () => {
    stack = await RealStack.start(env);
    const handle = await atUnlinkGate(stack);
    const wf = ['--workflow-id', handle.workflowId];

    // The update answers at once: accepted false, with the reason.
    const update = await stack.temporal([
      'workflow',
      'update',
      'execute',
      ...wf,
      '--name',
      'decide',
      '--input',
      JSON.stringify({ decision: 'approve', approver: 'sre-manager' }),
      '--output',
      'json',
    ]);
    assert.equal(update.code, 0, showRun(update));
    const answer = (JSON.parse(update.stdout) as { result: { accepted: boolean; reason?: string } }).result;
    assert.equal(answer.accepted, false, update.stdout);
    assert.match(answer.reason ?? '', /unsigned: the payload has no proof/);

    // A signal cannot be refused by Temporal: the runbook records it as refused.
    const signal = await stack.temporal([
      'workflow',
      'signal',
      ...wf,
      '--name',
      'approve',
      '--input',
      JSON.stringify({ approver: 'data-owner' }),
    ]);
    assert.equal(signal.code, 0, showRun(signal));

    // A proof signed with someone else's key, claiming to be data-owner.
    const status = await handle.query(statusQuery);
    const impostor: DecidePayload = decisionPayload(
      { key: personKey(OUTSIDER), actor: 'data-owner', workflowId: handle.workflowId, status },
      'approve',
    );
    const forged = await stack.temporal([
      'workflow',
      'signal',
      ...wf,
      '--name',
      'approve',
      '--input',
      JSON.stringify(impostor),
    ]);
    assert.equal(forged.code, 0, showRun(forged));

    const refused = await waitForStatus(
      handle,
      (s) => (step(s, 'approval-unlink').refusedAttempts ?? []).length === 3,
      'three refusals on record',
    );
    assert.deepEqual(
      step(refused, 'approval-unlink').refusedAttempts?.map((r) => [r.by, r.action, r.via]),
      [
        ['sre-manager (unverified)', 'approve', 'decide'],
        ['data-owner (unverified)', 'approve', 'signal'],
        ['data-owner (unverified)', 'approve', 'signal'],
      ],
    );
    const [unsignedUpdate, unsignedSignal, wrongKey] = step(refused, 'approval-unlink').refusedAttempts ?? [];
    assert.match(unsignedUpdate?.reason ?? '', /unsigned/);
    assert.match(unsignedSignal?.reason ?? '', /unsigned/);
    assert.match(wrongKey?.reason ?? '', /signed by key SHA256:.* which is not one of .*data-owner.*'s keys/);
    assert.equal(refused.openGate?.gate, 'approval-unlink', 'the gate is still open');
    assert.deepEqual(refused.openGate?.approvals, [], 'with no approval');

    // What the commander sees: the refusals, with who claimed what and why.
    const shown = await stack.cli(['status', stack.group.name, '--json']);
    assert.equal(shown.code, 0, showRun(shown));
    const view = JSON.parse(shown.stdout) as RunbookView;
    assert.ok(view.status, showRun(shown));
    const seen = step(view.status, 'approval-unlink').refusedAttempts ?? [];
    assert.deepEqual(
      seen.map((r) => [r.by, /^unsigned/.test(r.reason) ? 'unsigned' : r.reason]),
      [
        ['sre-manager (unverified)', 'unsigned'],
        ['data-owner (unverified)', 'unsigned'],
        ['data-owner (unverified)', wrongKey?.reason],
      ],
    );
    assert.equal(stack.count('forceUnlink'), 0, 'no force-unlink call');
  });

  it('a real approver signs with `geofailover approve --print-payload` and sends it with `temporal workflow signal --input-file`: accepted', async () => {
    stack = await RealStack.start(env);
    const handle = await atUnlinkGate(stack);

    const payload = await stack.signedPayloadFile('sre-manager', ['approve', stack.group.name, '--comment', 'ok']);
    const sent = await stack.temporal([
      'workflow',
      'signal',
      '--workflow-id',
      handle.workflowId,
      '--name',
      'approve',
      '--input-file',
      payload,
    ]);
    assert.equal(sent.code, 0, showRun(sent));

    const unlinked = await waitForStatus(handle, (s) => step(s, 'force-unlink').status === 'succeeded', 'force-unlink');
    const gate = step(unlinked, 'approval-unlink').gates?.[0];
    assert.equal(gate?.outcome, 'approved');
    assert.deepEqual(
      gate?.votes.map((v) => [v.approver, v.decision, v.via, v.comment]),
      [['sre-manager', 'approve', 'signal', 'ok']],
    );
    const key = parsePublicKey(personKey('sre-manager').publicKeyLine);
    assert.equal(gate?.votes[0]?.fingerprint, key.ok ? key.key.fingerprint : '(unreadable)', 'signed by her key');
    assert.deepEqual(step(unlinked, 'approval-unlink').refusedAttempts ?? [], []);
    assert.equal(stack.count('forceUnlink'), 1, 'exactly one force-unlink');
  });

  it('a workflow that is not the runbook calls forceUnlink on the real worker: refused NotAuthorized before any ARM call', async () => {
    stack = await RealStack.start(env);
    const s = stack;
    const handle = await atUnlinkGate(s);
    // What anyone who can read the namespace can take: the signed start from the run's history, and an approval
    // someone signed for this run but never sent (a payload file left on disk).
    const capturedStart = await startProofOf(handle);
    const file = await s.signedPayloadFile('sre-manager', ['approve', s.group.name]);
    const capturedApproval = (JSON.parse(readFileSync(file, 'utf8')) as DecidePayload).proof;
    await abortAs(handle, REQUESTER, 'false alarm');
    assert.equal((await handle.result()).outcome, 'aborted');
    const writes = s.armWrites();
    assert.equal(s.count('forceUnlink'), 0);

    const survivors = Object.entries(s.group.members).filter(([r]) => r !== FAILED);
    const unlinkArgs = {
      group: s.group.name,
      failedDatabaseId: s.group.members[FAILED] ?? '',
      survivorDatabaseId: survivors[0]?.[1] ?? '',
      survivorDatabaseIds: survivors.map(([, id]) => id),
    };
    // The rogue workflows run on a worker of their own, with no activities; forceUnlink runs on the real worker.
    const { worker: rogueWorker, taskQueue: rogueQueue } = await rogueWorkerFor();
    const rogue = (workflowId: string, authorization: unknown): Promise<RogueOutcome> =>
      s.client.workflow.execute<typeof rogueUnlink>('rogueUnlink', {
        taskQueue: rogueQueue,
        workflowId,
        args: [{ taskQueue: s.taskQueue, ...unlinkArgs, authorization: authorization as never }],
      });
    const outcomes = await rogueWorker.runUntil(async () => ({
      // Its own id, the real signed start and approval.
      ownId: await rogue(`rogue-${randomUUID()}`, { request: capturedStart, approvals: [capturedApproval] }),
      // The runbook's own id (free again), the real start, the approval signed for the other run.
      replayed: await rogue(workflowIds.failover(s.group.name), {
        request: capturedStart,
        approvals: [capturedApproval],
      }),
      // The runbook's id, the real start and no approval.
      startOnly: await rogue(workflowIds.failover(s.group.name), { request: capturedStart }),
      // Nothing signed at all.
      unsigned: await rogue(workflowIds.failover(s.group.name), {}),
    }));

    for (const [name, outcome] of Object.entries(outcomes)) {
      assert.equal(outcome.ok, false, `${name}: ${JSON.stringify(outcome)}`);
      if (outcome.ok) continue;
      assert.equal(outcome.type, 'NotAuthorized', `${name}: ${outcome.message}`);
      assert.match(outcome.message, /force-unlink of .* refused, nothing was called in Azure/, name);
    }
    const reason = (o: RogueOutcome): string => (o.ok ? '' : o.message);
    assert.match(reason(outcomes.ownId), /workflow rogue-.* is not a runbook of group/);
    assert.match(reason(outcomes.replayed), /an approval is not valid: the statement is for run .*, not this run/);
    assert.match(reason(outcomes.startOnly), /approval-unlink needs 1 signed approval\(s\) of this run/);
    assert.match(reason(outcomes.unsigned), /the start is not authorized: unsigned/);
    assert.equal(s.count('forceUnlink'), 0, 'the emulator saw no force-unlink');
    assert.equal(s.armWrites(), writes, 'no ARM write at all');
    for (const [region] of survivors) {
      assert.ok(
        s.links()[region]?.some(([r]) => r === FAILED),
        `${region} still lists ${FAILED}`,
      );
    }
  });

  // KNOWN GAP, pending until src/ binds traffic changes to the run: setEndpointStatus needs only the commander's
  // signed start, which names the workflow id but no run (it is signed before the run exists), and the activity
  // checks neither its time nor its nonce. A workflow of any type started under the runbook's id (free again once
  // the run has ended) on a task queue of its own can replay the start from the old run's history and have the
  // real worker switch the failed region's endpoint back on while the region is still down. Verified by hand on
  // this stack: the call succeeds and the emulator counts the PATCH. Enable this test once it is refused.
  it('a start replayed from an ended run does not authorize setEndpointStatus for another run', async () => {
    stack = await RealStack.start(env);
    const s = stack;
    await s.emulator.faults.outage(FAILED);
    const handle = await s.startFailover(FAILED);
    await waitForStatus(handle, (st) => step(st, 'await-recovery').status === 'running', 'await-recovery');
    const capturedStart = await startProofOf(handle);
    await abortAs(handle, REQUESTER, 'manual runbook');
    assert.equal((await handle.result()).outcome, 'aborted');
    assert.equal(s.endpointStatuses()[FAILED], 'Disabled');
    const writes = s.armWrites();

    const { worker, taskQueue } = await rogueWorkerFor();
    const endpoint = s.group.trafficManager.endpoints[FAILED];
    assert.ok(endpoint);
    const outcome = await worker.runUntil(() =>
      s.client.workflow.execute<typeof rogueEndpoint>('rogueEndpoint', {
        taskQueue,
        workflowId: workflowIds.failover(s.group.name),
        args: [
          {
            taskQueue: s.taskQueue,
            group: s.group.name,
            profileId: s.group.trafficManager.profileId,
            endpoint,
            status: 'Enabled',
            authorization: { request: capturedStart },
          },
        ],
      }),
    );
    assert.equal(outcome.ok ? 'ok' : outcome.type, 'NotAuthorized', JSON.stringify(outcome));
    assert.equal(s.endpointStatuses()[FAILED], 'Disabled', 'traffic stays off the failed region');
    assert.equal(s.armWrites(), writes, 'no ARM write');
  });

  it('a start signed by someone outside the policy, or bringing its own group definition, ends refused within seconds; no ARM write', async () => {
    stack = await RealStack.start(env);
    const s = stack;
    await s.emulator.faults.outage(FAILED);

    // mallory has a key, but is nobody in the workers' configuration: `geofailover start` signs, the runbook refuses.
    const started = await s.cliAs(OUTSIDER, [
      'start',
      '--group',
      s.group.name,
      '--failed-region',
      FAILED,
      '--reason',
      'let me in',
      '--by',
      OUTSIDER,
      '--task-queue',
      s.taskQueue,
      '--json',
    ]);
    assert.equal(started.code, 0, showRun(started));
    const byOutsider = s.track(
      workflowIds.failover(s.group.name),
      (JSON.parse(started.stdout) as { runId: string }).runId,
    );
    const t0 = Date.now();
    const refusedOutsider = await byOutsider.result();
    assert.ok(Date.now() - t0 < 10_000, `refused within seconds (${Date.now() - t0} ms)`);
    assert.equal(refusedOutsider.outcome, 'refused', refusedOutsider.summary);
    assert.match(
      refusedOutsider.summary,
      /the signed request is refused: .*mallory.* is not a person in the worker's configuration/,
    );
    assert.equal(step(refusedOutsider.status, 'validate-input').status, 'failed');
    assert.equal(refusedOutsider.status.requestedBy, undefined, 'nobody is the requester');

    // An approver who is not a commander cannot start one either.
    const byApprover = await s.startFailoverWithInput({
      group: s.group.name,
      failedRegion: FAILED,
      reason: 'I approve my own',
      request: s.signedStart(FAILED, 'I approve my own', 'sre-manager'),
      tuning: REAL_STACK_TUNING,
    });
    const refusedApprover = await byApprover.result();
    assert.equal(refusedApprover.outcome, 'refused');
    assert.match(refusedApprover.summary, /sre-manager is not a commander of group/);

    // The plain Temporal CLI, an input with its own group (members, approvers, quorum) and a real signed start.
    const ownGroup = {
      group: { ...s.group, approvers: [OUTSIDER], quorum: { unlink: 1, rejoin: 1, intervention: 1 } },
      failedRegion: FAILED,
      reason: 'my own approvers',
      request: s.signedStart(FAILED, 'my own approvers'),
    };
    const plain = await s.temporal([
      'workflow',
      'start',
      '--type',
      WORKFLOW_TYPES.failoverRunbook,
      '--task-queue',
      s.taskQueue,
      '--workflow-id',
      workflowIds.failover(s.group.name),
      '--input',
      JSON.stringify(ownGroup),
    ]);
    assert.equal(plain.code, 0, showRun(plain));
    const withOwnGroup = s.track(workflowIds.failover(s.group.name));
    const t1 = Date.now();
    const refusedGroup = await withOwnGroup.result();
    assert.ok(Date.now() - t1 < 10_000, `refused within seconds (${Date.now() - t1} ms)`);
    assert.equal(refusedGroup.outcome, 'refused', refusedGroup.summary);
    assert.match(
      refusedGroup.summary,
      /group must be the name of a group in the worker's configuration, not a definition/,
    );

    // Nothing was even read in Azure beyond the workers' own policy, and nothing was written.
    for (const handle of [byOutsider, byApprover, withOwnGroup]) {
      const activities = ((await handle.fetchHistory()).events ?? []).flatMap((e) => {
        const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
        return name ? [name] : [];
      });
      assert.ok(
        activities.every((a) => a === 'loadPolicy'),
        `${handle.workflowId}: only loadPolicy ran (${activities.join(', ')})`,
      );
    }
    assert.equal(s.armWrites(), 0, 'no ARM write');
    assert.equal(s.endpointStatuses()[FAILED], 'Enabled', 'traffic untouched');
  });
});
