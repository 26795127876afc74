// failoverRunbook on the real stack: the unlink gate as the commander and the approvers meet it — opened early
// by the commander's unlinkNow, aborted, rejected (with refused approvers on record), left unanswered until it
// escalates to an https webhook and stops safely. Every action is signed (--key, or test/helpers/people.ts).
// Nothing destructive happens in any of them: the emulator counts no force-unlink.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { statusQuery } from '../../src/contract/messages';
import type { RunbookStatus } from '../../src/contract/types';
import type { RunbookView } from '../../src/starter';
import { decideAs, OUTSIDER, recoveredAs, unlinkNowAs } from '../helpers/people';
import {
  FAST_METADATA_BUILDUP,
  RealStack,
  REQUESTER,
  showRun,
  startWebhookReceiver,
  step,
  waitForStatus,
  type RunbookHandle,
  type WebhookReceiver,
} from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
const SURVIVORS = ['southeastasia', 'westeurope'];

/** Every string of a history, payloads (bytes) included, as one text. */
function historyText(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(historyText).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(historyText).join('\n');
  return '';
}

interface UnlinkRequest {
  trigger: { reason: string; by?: string };
  memoryTrend: { toPercent?: number };
}

describe('failoverRunbook on the real stack: the unlink gate', function () {
  this.timeout(300_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;
  let webhook: WebhookReceiver | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  afterEach(async () => {
    await stack?.close();
    await webhook?.close();
    stack = webhook = undefined;
  });
  after(async () => {
    await env?.teardown();
  });

  /** An outage of FAILED and its runbook, once traffic has moved and the watch runs. */
  async function failoverWatching(s: RealStack): Promise<RunbookHandle> {
    await s.emulator.faults.outage(FAILED);
    const handle = await s.startFailover(FAILED);
    await waitForStatus(handle, (st) => step(st, 'await-recovery').status === 'running', 'await-recovery');
    return handle;
  }

  /** The region returns; the runbook resynchronises and fails back without unlinking anything. */
  async function recoverAndComplete(s: RealStack, handle: RunbookHandle): Promise<void> {
    await Promise.all([recoveredAs(handle, REQUESTER), s.emulator.faults.restore(FAILED)]);
    const result = await handle.result();
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(step(result.status, 'force-unlink').status, 'skipped');
    assert.equal(s.count('forceUnlink'), 0, 'no force-unlink call at all');
    s.assertFullyLinked();
  }

  it('unlinkNow opens the unlink gate before any trigger; abort at the gate leaves the group linked', async () => {
    stack = await RealStack.start(env);
    const handle = await failoverWatching(stack);

    // An approver is not a commander: the signal arrives, the runbook refuses it on record.
    const notCommander = await stack.cliAs('sre-manager', ['unlink-now', stack.group.name, '--reason', 'down']);
    assert.equal(notCommander.code, 0, showRun(notCommander));
    await waitForStatus(
      handle,
      (s) => (step(s, 'approval-unlink').refusedAttempts ?? []).some((r) => r.action === 'unlinkNow'),
      'the refused unlinkNow',
    );
    assert.equal((await handle.query(statusQuery)).openGate, undefined, 'no gate opened for it');

    const asked = await stack.cliAs(REQUESTER, ['unlink-now', stack.group.name, '--reason', 'down for 12 h']);
    assert.equal(asked.code, 0, showRun(asked));
    const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate');
    const request = gate.openGate?.request as UnlinkRequest;
    assert.deepEqual([request.trigger.reason, request.trigger.by], ['unlink-now', REQUESTER]);
    assert.ok((request.memoryTrend.toPercent ?? 0) < 75, 'memory is far from critical: no trigger fired by itself');
    const [refused] = step(gate, 'approval-unlink').refusedAttempts ?? [];
    assert.equal(refused?.action, 'unlinkNow');
    assert.match(refused?.reason ?? '', /sre-manager is not a commander of group/);

    const shown = await stack.cli(['status', stack.group.name, '--json']);
    assert.equal(shown.code, 0, showRun(shown));
    const view = JSON.parse(shown.stdout) as RunbookView;
    assert.equal(view.status?.openGate?.gate, 'approval-unlink', 'the CLI shows the open gate');
    assert.ok(
      view.status?.openGate?.howToAnswer?.includes(`geofailover approve ${stack.group.name} --key KEY_FILE`),
      view.status?.openGate?.howToAnswer?.join('\n'),
    );

    const abort = await stack.cliAs(REQUESTER, ['abort', stack.group.name, '--reason', 'manual runbook']);
    assert.equal(abort.code, 0, showRun(abort));
    const result = await handle.result();

    assert.equal(result.outcome, 'aborted');
    assert.match(result.summary, /aborted by sre-lead \(manual runbook\)/);
    assert.match(result.summary, /nothing was unlinked/);
    assert.equal(step(result.status, 'approval-unlink').gates?.[0]?.outcome, 'aborted');
    assert.equal(stack.count('forceUnlink'), 0);
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled', 'traffic stays on the survivors');
    for (const survivor of SURVIVORS) {
      assert.ok(
        stack.links()[survivor]?.some(([region]) => region === FAILED),
        `${survivor} still lists ${FAILED}`,
      );
    }
  });

  it('reject at the unlink gate: a stranger and the requester are refused on record, nothing is unlinked, the watch goes on', async () => {
    stack = await RealStack.start(env, { metadataBytesPerSecond: FAST_METADATA_BUILDUP });
    const handle = await failoverWatching(stack);
    const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate');
    assert.equal((gate.openGate?.request as UnlinkRequest).trigger.reason, 'critical-pressure');

    // Someone with a key who is in no policy: the CLI signs (--by names her), the runbook refuses.
    const stranger = await stack.cliAs(OUTSIDER, ['approve', stack.group.name, '--by', OUTSIDER]);
    assert.equal(stranger.code, 1, showRun(stranger));
    assert.match(
      stranger.stdout,
      /refused: .*mallory.* is not a person in the worker's configuration/,
      showRun(stranger),
    );
    const own = await decideAs(handle, REQUESTER);
    assert.equal(own.accepted, false);
    assert.match(own.reason ?? '', /four-eyes/);
    const no = await stack.cliAs('data-owner', ['reject', stack.group.name, '--comment', 'it is coming back']);
    assert.equal(no.code, 0, showRun(no));

    const watching = await waitForStatus(
      handle,
      (s) => !s.openGate && s.currentStep === 'await-recovery',
      'back to watching',
    );
    const unlinkStep = step(watching, 'approval-unlink');
    assert.equal(unlinkStep.status, 'pending', unlinkStep.summary);
    // Her signature proves nothing (no key of hers is in the policy); the requester's verified, four-eyes refused it.
    assert.deepEqual(
      unlinkStep.refusedAttempts?.map((r) => [r.by, r.action, r.via]),
      [
        [`${OUTSIDER} (unverified)`, 'approve', 'decide'],
        [REQUESTER, 'approve', 'decide'],
      ],
    );
    assert.deepEqual(
      unlinkStep.gates?.[0]?.votes.map((v) => [v.approver, v.decision, v.comment]),
      [['data-owner', 'reject', 'it is coming back']],
    );
    assert.equal(unlinkStep.gates?.[0]?.outcome, 'rejected');

    // Several polls at critical pressure: the runbook keeps watching and does not ask the same question again.
    const polls = (st: RunbookStatus): number => (step(st, 'await-recovery').evidence as { polls: number }).polls;
    // Two more polls, however long a loaded machine takes for them (no fixed sleep).
    const later = await waitForStatus(handle, (st) => polls(st) > polls(watching) + 1, 'two more polls');
    assert.equal(later.openGate, undefined);
    assert.ok(polls(later) > polls(watching), 'still polling');
    assert.equal(stack.count('forceUnlink'), 0);

    await recoverAndComplete(stack, handle);
  });

  it('approval timeout: escalates once to the webhook with how to approve, then the gate stops safely and the watch goes on', async () => {
    webhook = await startWebhookReceiver();
    stack = await RealStack.start(env, {
      webhook,
      group: (g) => {
        g.durations = { ...g.durations, approvalTimeout: '2s', escalationTimeout: '2s' };
      },
    });
    const handle = await failoverWatching(stack);
    await unlinkNowAs(handle, REQUESTER, 'down for 12 h');
    await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate');

    const escalated = await waitForStatus(handle, (s) => !!s.openGate?.escalatedAt, 'the escalation');
    assert.equal(escalated.openGate?.gate, 'approval-unlink');
    const stopped = await waitForStatus(
      handle,
      (s) => step(s, 'approval-unlink').gates?.[0]?.outcome === 'timed-out',
      'the gate to stop',
    );
    assert.equal(stopped.openGate, undefined);
    assert.equal(step(stopped, 'await-recovery').status, 'running', 'the watch goes on');
    assert.match(step(stopped, 'approval-unlink').summary, /timed out after escalating; nothing was unlinked/);
    assert.equal(stack.count('forceUnlink'), 0);

    assert.equal(webhook.received.length, 1, 'escalates once');
    const body = webhook.received[0] as { gate: string; workflowId: string; group: string; howToAnswer: string[] };
    assert.equal(body.gate, 'approval-unlink');
    assert.equal(body.workflowId, handle.workflowId);
    assert.equal(body.group, stack.group.name);
    assert.ok(
      body.howToAnswer.includes(`geofailover approve ${stack.group.name} --key KEY_FILE`),
      body.howToAnswer.join('\n'),
    );
    assert.ok(
      body.howToAnswer.some((line) =>
        line.endsWith(
          `temporal workflow signal --workflow-id ${handle.workflowId} --name approve --input-file approve.json`,
        ),
      ),
      body.howToAnswer.join('\n'),
    );

    await recoverAndComplete(stack, handle);
    assert.equal(webhook.received.length, 1);
    // The URL is a secret of the workers' environment: the history never holds it.
    const history = historyText(await handle.fetchHistory());
    assert.ok(history.includes('gate-escalated'), 'payloads are read');
    assert.ok(!history.includes(new URL(webhook.url).pathname), 'the webhook URL is not in the history');
  });
});
