// Rehearsals on a schedule, on the whole stack: `geofailover rehearse G --region R --reason TEXT --schedule 3s`
// (in-process CLI) signs a standing order and creates a Temporal Schedule on the shared dev server; the schedule
// starts failoverRunbook in mode rehearsal on time, as `rehearsal/<group>-<nominal time>`, on a real worker against
// the emulator over HTTPS; the run passes validate-input on the standing order (checked against the worker's
// policy), moves traffic, and waits at its unlink gate for people (the group may rehearse force-unlink); the group's
// notification target hears that a rehearsal started and that its gate waits, both named as a rehearsal's. The same
// order in a run no schedule started is refused. Pause, resume, update, list and delete through the CLI.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { scheduleIds, WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { FailoverRunbookInput, RunbookResult } from '../../src/contract/runbook';
import { isStandingOrder, scheduledRunTime } from '../../src/policy/standing-order';
import { describeSchedule } from '../../src/temporal/schedules';
import type { RehearsalScheduleOutput } from '../../src/cli/commands/rehearse-schedule';
import { abortAs } from '../helpers/people';
import {
  RealStack,
  REQUESTER,
  showRun,
  startWebhookReceiver,
  step,
  waitForStatus,
  type WebhookReceiver,
} from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

/** A `--json` document of `rehearse --schedule(s)`, checked against its published schema. */
function scheduleOutput(stdout: string): RehearsalScheduleOutput {
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  addFormats(ajv);
  const file = path.resolve(__dirname, '../../schemas/cli-rehearse-schedule.schema.json');
  const validate = ajv.compile(JSON.parse(readFileSync(file, 'utf8')) as object);
  const doc: unknown = JSON.parse(stdout);
  assert.ok(validate(doc), `matches ${path.basename(file)}: ${ajv.errorsText(validate.errors)}`);
  return doc as RehearsalScheduleOutput;
}

describe('rehearsals on a schedule: a standing order, a Temporal Schedule, a rehearsal started on time', function () {
  this.timeout(480_000);
  let stack: RealStack;
  let receiver: WebhookReceiver;
  const started: WorkflowHandle[] = [];

  before(async () => {
    receiver = await startWebhookReceiver();
    // The group's notifications go to a local HTTPS receiver as generic JSON.
    stack = await RealStack.start(await getTestEnv(), {
      webhook: receiver,
      group: (g) => {
        g.notifications = [{ kind: 'json', url: g.escalationWebhook! }];
        // A group that may rehearse force-unlink: the scheduled rehearsal stops at its gate, waiting for people.
        g.rehearsal = { destructive: true };
      },
    });
  });
  after(async () => {
    await stack?.cli(['rehearse', stack.group.name, '--schedule', 'delete']).catch(() => undefined);
    for (const h of started) await h.terminate('test over').catch(() => undefined);
    await stack?.close();
    await receiver?.close();
  });

  /** The first run the schedule started: waits for it. */
  async function firstScheduledRun(scheduleId: string): Promise<{ workflowId: string; runId: string }> {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const d = await stack.client.schedule.getHandle(scheduleId).describe();
      const first = [...d.info.recentActions].sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime())[0];
      if (first)
        return { workflowId: first.action.workflow.workflowId, runId: first.action.workflow.firstExecutionRunId };
      assert.ok(Date.now() < deadline, `the schedule started no run: ${JSON.stringify(d.info)}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('starts a rehearsal on time that passes its signed-start check; pause, resume, list and delete work', async () => {
    const group = stack.group.name;
    const region = Object.keys(stack.group.members).sort()[0]!;
    const scheduleId = scheduleIds.rehearsal(group);

    // Bad specs are bad usage (exit 2), before anything is signed or created.
    const bad = await stack.cliAs(REQUESTER, [
      'rehearse',
      group,
      '--region',
      region,
      '--reason',
      'x',
      '--schedule',
      '0 25 * * *',
    ]);
    assert.equal(bad.code, 2, showRun(bad));
    assert.match(bad.stderr, /hour "25" is outside 0-23/);
    const noRegion = await stack.cliAs(REQUESTER, ['rehearse', group, '--reason', 'x', '--schedule', 'quarterly']);
    assert.equal(noRegion.code, 2, showRun(noRegion));
    for (const args of [
      ['rehearse', group, '--schedules'],
      ['rehearse', group, '--schedule', 'pause', '--region', region],
      ['rehearse', '--schedule', 'weekly', '--region', region, '--reason', 'x'],
      ['rehearse', group, '--region', region, '--reason', 'x', '--schedule', 'weekly', '--until', '2020-01-01'],
      ['rehearse', group, '--region', region, '--reason', 'x', '--schedule', 'weekly', '--hold', '8d'],
      ['rehearse', group, '--region', region, '--reason', 'x', '--schedule', 'weekly', '--wait'],
    ]) {
      const usage = await stack.cliAs(REQUESTER, args);
      assert.equal(usage.code, 2, `${args.join(' ')}: ${showRun(usage)}`);
    }
    assert.equal(await describeSchedule(stack.client, scheduleId), undefined);
    // Only a commander signs a standing order.
    const approverOnly = await stack.cliAs('sre-manager', [
      ...['rehearse', group, '--region', region, '--reason', 'x', '--schedule', 'quarterly'],
      ...['--task-queue', stack.taskQueue],
    ]);
    assert.equal(approverOnly.code, 1, showRun(approverOnly));
    assert.match(approverOnly.stderr, /not a commander/);

    const created = await stack.cliAs(REQUESTER, [
      ...['rehearse', group, '--region', region, '--reason', 'quarterly DR rehearsal (test)', '--hold', '2s'],
      ...['--schedule', '3s', '--until', new Date(Date.now() + 30 * 86_400_000).toISOString().slice(0, 10)],
      ...['--task-queue', stack.taskQueue],
    ]);
    assert.equal(created.code, 0, showRun(created));
    assert.match(
      created.stdout,
      new RegExp(`created rehearsal schedule ${scheduleId}: every 3s, drains ${region} for 2s`),
    );
    assert.match(created.stdout, /standing order signed by sre-lead/);

    // The schedule starts the rehearsal on time: its run id names its nominal time, and it started near it.
    const run = await firstScheduledRun(scheduleId);
    const handle = stack.client.workflow.getHandle(run.workflowId, run.runId);
    started.push(handle);
    const nominal = scheduledRunTime(workflowIds.rehearsal(group), run.workflowId);
    assert.ok(nominal !== undefined, `a scheduled run's id: ${run.workflowId}`);
    // Pause at once, so the schedule starts no second run while this test looks at the first.
    const paused = await stack.cli(['rehearse', group, '--schedule', 'pause', '--json']);
    assert.equal(paused.code, 0, showRun(paused));
    assert.equal(scheduleOutput(paused.stdout).schedules[0]?.paused, true);

    const description = await handle.describe();
    assert.equal(description.type, WORKFLOW_TYPES.failoverRunbook);
    assert.equal(description.taskQueue, stack.taskQueue);
    const startedAt = description.startTime.getTime();
    assert.ok(
      startedAt >= nominal - 5_000,
      `started ${description.startTime.toISOString()}, nominal ${run.workflowId}`,
    );
    const history = await handle.fetchHistory();
    const input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
    const decoded = JSON.parse(Buffer.from(input!.data!).toString('utf8')) as FailoverRunbookInput;
    assert.equal(decoded.mode, 'rehearsal');
    assert.equal(decoded.failedRegion, region);
    assert.equal(decoded.hold, '2s');
    assert.ok(isStandingOrder(decoded.request), 'the run carries the standing order as its request');

    // validate-input accepted the standing order against the worker's policy.
    const status = await waitForStatus(
      handle,
      (s) => ['succeeded', 'failed'].includes(step(s, 'validate-input').status),
      'validate-input to finish',
      120_000,
    );
    const validated = step(status, 'validate-input');
    assert.equal(validated.status, 'succeeded', JSON.stringify(validated));
    assert.match(validated.summary ?? '', new RegExp(`requested by ${REQUESTER} \\(signature verified`));

    // The people who answer its gates hear that a rehearsal started on schedule and waits on them.
    const deadline = Date.now() + 60_000;
    const startedNotice = (): Record<string, unknown> | undefined =>
      receiver.received.find((b) => b.event === 'rehearsal-started' && b.workflowId === run.workflowId);
    while (!startedNotice() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const notice = startedNotice();
    assert.ok(notice, JSON.stringify(receiver.received));
    assert.equal(notice.mode, 'rehearsal');
    assert.deepEqual((notice.schedule as { scheduleId: string; orderedBy: string }).scheduleId, scheduleId);
    assert.equal((notice.schedule as { orderedBy: string }).orderedBy, REQUESTER);
    assert.match(String(notice.text), /gates wait on people/);

    // The group's name finds the scheduled rehearsal (status, approve, abort take it).
    const byGroup = await stack.cli(['status', group, '--json']);
    assert.equal(byGroup.code, 0, showRun(byGroup));
    assert.equal((JSON.parse(byGroup.stdout) as { workflowId: string }).workflowId, run.workflowId, byGroup.stdout);

    // The list shows it: region, spec, paused, the order's signer, the run it started.
    const listed = await stack.cli(['rehearse', '--schedules', '--json']);
    assert.equal(listed.code, 0, showRun(listed));
    const mine = scheduleOutput(listed.stdout).schedules.find((s) => s.group === group);
    assert.equal(mine?.region, region, listed.stdout);
    assert.equal(mine?.spec, 'every 3s');
    assert.equal(mine?.paused, true);
    assert.equal(mine?.order?.signer, REQUESTER);
    assert.equal(mine?.lastRun?.workflowId, run.workflowId);
    const listedText = await stack.cli(['rehearse', '--schedules']);
    assert.match(listedText.stdout, new RegExp(`${group}\\s+${region}\\s+every 3s\\s+paused; order by sre-lead`));

    // Signing again with another spec updates the schedule (a new standing order); paused stays paused.
    const updated = await stack.cliAs(REQUESTER, [
      ...['rehearse', group, '--region', region, '--reason', 'weekly DR rehearsal', '--schedule', 'weekly'],
      ...['--task-queue', stack.taskQueue, '--json'],
    ]);
    assert.equal(updated.code, 0, showRun(updated));
    const update = scheduleOutput(updated.stdout);
    assert.equal(update.action, 'updated');
    assert.equal(update.schedules[0]?.paused, true);
    assert.equal(update.schedules[0]?.spec, 'weekly');
    assert.match(update.schedules[0]?.note ?? '', /\(weekly\); standing order by sre-lead/);

    const resumed = await stack.cli(['rehearse', group, '--schedule', 'resume']);
    assert.equal(resumed.code, 0, showRun(resumed));
    assert.equal((await describeSchedule(stack.client, scheduleId))?.state.paused, false);
    const resumedList = await stack.cli(['rehearse', '--schedules', '--json']);
    const next = scheduleOutput(resumedList.stdout).schedules.find((s) => s.group === group);
    assert.ok(next?.nextRunAt && Date.parse(next.nextRunAt) > Date.now() - 5_000, resumedList.stdout);
    const deleted = await stack.cli(['rehearse', group, '--schedule', 'delete']);
    assert.equal(deleted.code, 0, showRun(deleted));
    assert.equal(await describeSchedule(stack.client, scheduleId), undefined);
    const gone = await stack.cli(['rehearse', group, '--schedule', 'pause']);
    assert.equal(gone.code, 1, showRun(gone));
    assert.match(gone.stderr, /has no rehearsal schedule/);

    // quarterly: Temporal's next runs are the first Tuesday of January, April, July and October, 10:00 UTC.
    const quarterly = await stack.cliAs(REQUESTER, [
      ...['rehearse', group, '--region', region, '--reason', 'quarterly DR rehearsal', '--schedule', 'quarterly'],
      ...['--task-queue', stack.taskQueue, '--json'],
    ]);
    assert.equal(quarterly.code, 0, showRun(quarterly));
    const times = scheduleOutput(quarterly.stdout).schedules[0]?.nextRunTimes ?? [];
    assert.ok(times.length >= 2, quarterly.stdout);
    for (const t of times.map((x) => new Date(x))) {
      assert.deepEqual(
        [
          t.getUTCDay(),
          t.getUTCDate() <= 7,
          [0, 3, 6, 9].includes(t.getUTCMonth()),
          t.getUTCHours(),
          t.getUTCMinutes(),
        ],
        [2, true, true, 10, 0],
        t.toISOString(),
      );
    }
    assert.equal((await stack.cli(['rehearse', group, '--schedule', 'delete'])).code, 0);

    // The same standing order in a run started by hand (a copy out of the history) is refused: named for a second the
    // 3 s schedule never fires at (its own runs hold the others, and none of them is started by a client).
    const offSpec = Math.floor(Date.now() / 3000) * 3000 + 1000;
    const copyId = `${workflowIds.rehearsal(group)}-${new Date(offSpec).toISOString().slice(0, 19)}Z`;
    const copy = await stack.client.workflow.start(WORKFLOW_TYPES.failoverRunbook, {
      taskQueue: stack.taskQueue,
      workflowId: copyId,
      args: [decoded],
    });
    started.push(copy);
    const refused = (await copy.result()) as RunbookResult;
    assert.equal(refused.outcome, 'refused');
    assert.match(refused.summary, /which is not a time of its spec "every 3s"/);

    // The scheduled rehearsal goes on as any rehearsal; a commander's abort ends it (traffic restored).
    // Its unlink gate waits for people (the standing order approves nothing), and they hear it is a rehearsal's.
    const atGate = await waitForStatus(
      handle,
      (s) => s.openGate?.gate === 'approval-unlink',
      'the scheduled rehearsal to wait at approval-unlink',
      120_000,
    );
    assert.equal(step(atGate, 'traffic-reroute').status, 'succeeded');
    assert.deepEqual(atGate.openGate?.approvals, []);
    assert.ok(!atGate.openGate?.eligibleApprovers?.includes(REQUESTER), 'the order’s signer never approves it');
    const gateDeadline = Date.now() + 60_000;
    const gateNotice = (): Record<string, unknown> | undefined =>
      receiver.received.find((b) => b.event === 'approval-needed' && b.workflowId === run.workflowId);
    while (!gateNotice() && Date.now() < gateDeadline) await new Promise((r) => setTimeout(r, 250));
    assert.match(
      String(gateNotice()?.title),
      /^Rehearsal — Approval needed: approval-unlink of /,
      JSON.stringify(gateNotice()),
    );
    assert.equal(gateNotice()?.mode, 'rehearsal');
    const open = await handle.describe();
    if (open.status.name === 'RUNNING') await abortAs(handle, REQUESTER, 'schedule test over').catch(() => undefined);
    const result = (await handle.result()) as RunbookResult;
    assert.equal(result.outcome, 'aborted', result.summary);
    assert.equal(stack.count('forceUnlink'), 0);
    // Traffic moved: the Traffic Manager activities verified the standing order in the worker before calling Azure.
    assert.equal(step(result.status, 'traffic-reroute').status, 'succeeded', result.summary);
    const ended = receiver.received.find((b) => b.event === 'run-ended' && b.workflowId === run.workflowId);
    assert.match(String(ended?.title), /^Rehearsal — Runbook/, JSON.stringify(ended));

    // The auditor verifies the standing order again, from the history alone.
    const out = path.join(stack.dir, 'audit-scheduled');
    const audited = await stack.cli(['audit', run.workflowId, '--out', out]);
    assert.equal(audited.code, 0, showRun(audited));
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      request: { requestedBy: string; signature: { verified: boolean; action?: string; reason?: string } };
    };
    assert.equal(report.request.signature.verified, true, JSON.stringify(report.request.signature));
    assert.equal(report.request.signature.action, 'schedule');
    assert.equal(report.request.requestedBy, REQUESTER);
  });
});
