// A rehearsal (failoverRunbook, mode rehearsal, id rehearsal/<group>) with mocked activities on the shared dev
// server: what a commander sees (traffic drains and returns, the hold ends on a signed endRehearsal or its time,
// destructive steps only where the configuration allows, an abort gives the region its traffic back).
import assert from 'node:assert/strict';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type { FailoverRunbookInput, GroupDefinition, RunbookResult } from '../../src/contract/runbook';
import type { failoverRunbook } from '../../src/workflows';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { abortAs, decideAs, endRehearsalAs, signedStart } from '../helpers/people';
import { FakeGroup, TEST_TUNING, testGroup, testRegions } from '../helpers/runbook-fakes';
import { step, stepStatuses, waitForStatus } from '../helpers/runbook-status';

function rehearsalInput(group: GroupDefinition, region: string, extra: Partial<FailoverRunbookInput> = {}) {
  return {
    group: group.name,
    failedRegion: region,
    reason: 'quarterly rehearsal (test)',
    mode: 'rehearsal' as const,
    request: signedStart(group, region, workflowIds.rehearsal(group.name)),
    tuning: { ...TEST_TUNING, replicationCheckTimeout: '5s' },
    ...extra,
  } satisfies FailoverRunbookInput;
}

describe('failoverRunbook in rehearsal mode (mocked activities)', function () {
  this.timeout(90_000);
  const t = useRunbookTestEnv();

  async function start(
    taskQueue: string,
    input: FailoverRunbookInput,
    workflowId = workflowIds.rehearsal(input.group),
  ) {
    const handle = await t.env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
      taskQueue,
      workflowId,
      args: [input],
    });
    return t.track(handle);
  }

  function healthyFake(change?: (g: GroupDefinition) => void): FakeGroup {
    const regions = testRegions();
    const fake = new FakeGroup(testGroup(regions, change), regions[0]);
    fake.failedAnswers = true;
    return fake;
  }

  it('drains the region, holds until a commander ends it, fails back and proves replication; nothing destructive', async () => {
    const fake = healthyFake();
    const region = fake.failedRegion;
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (queue) => {
      const handle = await start(queue, rehearsalInput(fake.group, region));
      const holding = await waitForStatus(handle, (s) => s.phase === 'holding', 'the hold', 30_000);
      assert.equal(holding.mode, 'rehearsal');
      assert.equal(fake.endpointStatus[region], 'Disabled', 'traffic drained from the region');
      assert.equal(step(holding, 'await-recovery').status, 'skipped');
      assert.match(step(holding, 'force-unlink').summary, /does not allow rehearsing destructive steps/);
      // Someone who is not a commander cannot end it; the commander can.
      await endRehearsalAs(handle, 'sre-manager', 'not mine to end');
      const refused = await waitForStatus(
        handle,
        (s) => (step(s, 'hold').refusedAttempts?.length ?? 0) > 0,
        'the refusal of a non-commander',
      );
      assert.match(step(refused, 'hold').refusedAttempts?.[0]?.reason ?? '', /not a commander/);
      await endRehearsalAs(handle, 'sre-lead', 'seen enough');
      return (await handle.result()) as RunbookResult;
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.equal(result.mode, 'rehearsal');
    assert.match(result.summary, /^rehearsal of .* destructive steps skipped/);
    assert.equal(fake.endpointStatus[region], 'Enabled', 'traffic came back');
    assert.equal(fake.calls.forceUnlink, 0);
    assert.equal(fake.calls.rejoinMember, 0);
    assert.ok(fake.calls.canaryWrite >= 2 && fake.calls.canaryRead >= 3, 'canaries written and read');
    const statuses = stepStatuses(result.status);
    assert.equal(statuses.hold, 'succeeded');
    assert.equal(statuses['replication-check'], 'succeeded');
    assert.match(step(result.status, 'hold').summary, /ended by sre-lead/);
  });

  it('a hold with a duration ends by itself', async () => {
    const fake = healthyFake();
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (queue) => {
      const handle = await start(queue, rehearsalInput(fake.group, fake.failedRegion, { hold: '1s' }));
      return (await handle.result()) as RunbookResult;
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.match(step(result.status, 'hold').summary, /held for .*: the hold is over/);
  });

  it('an abort during the hold gives the region its traffic back and ends safely', async () => {
    const fake = healthyFake();
    const region = fake.failedRegion;
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (queue) => {
      const handle = await start(queue, rehearsalInput(fake.group, region));
      await waitForStatus(handle, (s) => s.phase === 'holding', 'the hold', 30_000);
      await abortAs(handle, 'sre-lead', 'players complain');
      return (await handle.result()) as RunbookResult;
    });
    assert.equal(result.outcome, 'aborted', result.summary);
    assert.match(result.summary, /rehearsal aborted by sre-lead.*traffic restored/);
    assert.equal(fake.endpointStatus[region], 'Enabled');
    assert.equal(fake.calls.forceUnlink, 0);
  });

  it('a group allowed to rehearse destructively goes through unlink and rejoin behind their gates', async () => {
    const fake = healthyFake((g) => (g.rehearsal = { destructive: true }));
    const region = fake.failedRegion;
    const result = await withFakeWorkers(t.env, t.bundle, fake, async (queue) => {
      const handle = await start(queue, rehearsalInput(fake.group, region, { hold: '500ms' }));
      const unlinkGate = await waitForStatus(
        handle,
        (s) => s.openGate?.gate === 'approval-unlink',
        'unlink gate',
        30_000,
      );
      assert.match(JSON.stringify(unlinkGate.openGate), /discarded when it rejoins/);
      assert.equal((await decideAs(handle, 'sre-lead')).accepted, false, 'four-eyes');
      assert.equal((await decideAs(handle, 'sre-manager')).accepted, true);
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate', 30_000);
      assert.equal(fake.endpointStatus[region], 'Disabled');
      assert.equal((await decideAs(handle, 'data-owner')).accepted, true);
      return (await handle.result()) as RunbookResult;
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.match(result.summary, /force-unlinked and rejoined \(destructive steps rehearsed\)/);
    assert.equal(fake.calls.forceUnlink, 1);
    assert.equal(fake.calls.rejoinMember, 1);
    assert.equal(fake.endpointStatus[region], 'Enabled');
  });

  it('a rejected unlink gate skips the destructive exercise; a rejected rejoin gate stops with the region drained', async () => {
    const skipped = healthyFake((g) => (g.rehearsal = { destructive: true }));
    const first = await withFakeWorkers(t.env, t.bundle, skipped, async (queue) => {
      const handle = await start(queue, rehearsalInput(skipped.group, skipped.failedRegion, { hold: '200ms' }));
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate', 30_000);
      assert.equal((await decideAs(handle, 'sre-manager', 'reject', 'not today')).accepted, true);
      return (await handle.result()) as RunbookResult;
    });
    assert.equal(first.outcome, 'completed', first.summary);
    assert.match(step(first.status, 'force-unlink').summary, /rejected by sre-manager; nothing destructive was called/);
    assert.equal(skipped.calls.forceUnlink, 0);
    assert.equal(skipped.endpointStatus[skipped.failedRegion], 'Enabled');

    const stopped = healthyFake((g) => (g.rehearsal = { destructive: true }));
    const second = await withFakeWorkers(t.env, t.bundle, stopped, async (queue) => {
      const handle = await start(queue, rehearsalInput(stopped.group, stopped.failedRegion, { hold: '200ms' }));
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate', 30_000);
      assert.equal((await decideAs(handle, 'sre-manager')).accepted, true);
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate', 30_000);
      assert.equal((await decideAs(handle, 'data-owner', 'reject')).accepted, true);
      return (await handle.result()) as RunbookResult;
    });
    assert.equal(second.outcome, 'stopped', second.summary);
    assert.match(second.summary, /traffic not restored: .* is force-unlinked/);
    assert.equal(stopped.endpointStatus[stopped.failedRegion], 'Disabled', 'an unlinked member gets no traffic');
    assert.equal(stopped.calls.rejoinMember, 0);
  });

  it('refuses a rehearsal under an incident id, and an incident under a rehearsal id', async () => {
    const fake = healthyFake();
    const region = fake.failedRegion;
    const [asIncident, asRehearsal] = await withFakeWorkers(t.env, t.bundle, fake, async (queue) => {
      const input = rehearsalInput(fake.group, region, {
        request: signedStart(fake.group, region, workflowIds.failover(fake.group.name)),
      });
      const a = (await (await start(queue, input, workflowIds.failover(fake.group.name))).result()) as RunbookResult;
      const { mode: _mode, ...incident } = rehearsalInput(fake.group, region);
      const b = (await (await start(queue, incident)).result()) as RunbookResult;
      return [a, b];
    });
    assert.equal(asIncident.outcome, 'refused');
    assert.match(asIncident.summary, /a rehearsal runs as workflow rehearsal\//);
    assert.equal(asRehearsal.outcome, 'refused');
    assert.match(asRehearsal.summary, /is a rehearsal's id, but the input's mode is incident/);
    assert.equal(fake.calls.setEndpointStatus, 0);
  });
});
