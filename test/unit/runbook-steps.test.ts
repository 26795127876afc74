// The runbook as data: one step table (src/contract/steps.ts) from which the step names, the step log, the rejoin
// skip list, the dry-run plan and the audit's activity → step mapping are derived; they must agree. And every
// activity a runbook schedules carries its step (ActivityOptions.summary): real workflows on the shared dev
// server with fake activities, their histories read event by event.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { fetchIncidentRuns } from '../../src/audit/chain';
import { activitySummaries, eventType, type History, type HistoryEvent } from '../../src/audit/history';
import type { ReplayVerdict } from '../../src/audit/replay';
import type { ActivityEvents } from '../../src/audit/report/events';
import { activityStep, buildEvidenceReport } from '../../src/audit/report/model';
import { loadCliConfig, planFailover, resolveGroup } from '../../src/cli/resolve';
import { STEP_NAMES, WORKFLOW_TYPES, workflowIds, type StepName } from '../../src/contract/names';
import type { RejoinRunbookInput, RunbookResult } from '../../src/contract/runbook';
import {
  GATE_CALLS,
  NOT_IN_RUNBOOK,
  RUNBOOK_STEPS,
  stepMayCall,
  stepSpec,
  stepsNotIn,
  type StepSpec,
} from '../../src/contract/steps';
import { StepLog } from '../../src/workflows/runbook/step-log';
import type { rejoinRunbook } from '../../src/workflows';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { decideAs, signedStart } from '../helpers/people';
import { FakeGroup, TEST_TUNING, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';

const FAILED = 'eastus';
const SURVIVOR = 'westeurope';

/** An activity as the audit reads it from history, scheduled while the step's phase was in force. */
function scheduled(type: string, spec: StepSpec): ActivityEvents {
  const input: Record<string, unknown> = {};
  // The inputs the old (untagged) guess looks at: who is read, and which way an endpoint goes.
  if (type === 'describeMember') input.region = spec.name === 'await-recovery' ? FAILED : SURVIVOR;
  if (type === 'setEndpointStatus') input.status = spec.name === 'traffic-failback' ? 'Enabled' : 'Disabled';
  return {
    activityId: '1',
    type,
    input,
    scheduledEventId: 5,
    scheduledAt: '2026-01-01T00:00:00.000Z',
    scheduledAtMs: 0,
    workflowTaskCompletedEventId: 4,
    phase: spec.phase,
    outcome: 'completed',
  };
}

describe('the runbook as data: one step table, every view derived from it', () => {
  it('STEP_NAMES is the table, in order, each name once', () => {
    assert.deepEqual(
      [...STEP_NAMES],
      RUNBOOK_STEPS.map((s) => s.name),
    );
    assert.equal(new Set(STEP_NAMES).size, STEP_NAMES.length);
    for (const name of STEP_NAMES) assert.equal(stepSpec(name).name, name);
  });

  it('the step log has one record per table step, in the table’s order', () => {
    assert.deepEqual(
      new StepLog(() => '2026-01-01T00:00:00.000Z').snapshot().map((r) => r.step),
      RUNBOOK_STEPS.map((s) => s.name),
    );
  });

  it('rejoinRunbook skips exactly the table’s failover-only steps, in order', () => {
    const notInRejoin = RUNBOOK_STEPS.filter((s) => !(s.runbooks as readonly string[]).includes('rejoin'));
    assert.deepEqual(
      stepsNotIn('rejoin'),
      notInRejoin.map((s) => s.name),
    );
    assert.deepEqual(stepsNotIn('rejoin'), [
      'memory',
      'firewall',
      'traffic-reroute',
      'verify',
      'await-recovery',
      'approval-unlink',
      'force-unlink',
      'hold',
      'replication-check',
    ]);
    assert.deepEqual(
      stepsNotIn('failover'),
      ['hold', 'replication-check'],
      'an incident runs every step but a rehearsal’s',
    );
    assert.deepEqual(stepsNotIn('rehearsal'), ['await-recovery'], 'a rehearsal runs every step but the outage watch');
    for (const s of notInRejoin as readonly StepSpec[])
      assert.ok(s.skippedWhen.includes(NOT_IN_RUNBOOK.rejoin), `${s.name} says why`);
  });

  it('the table says what is destructive, what changes Traffic Manager, and which gate guards it', () => {
    const names = (pick: (s: StepSpec) => boolean): string[] =>
      (RUNBOOK_STEPS as readonly StepSpec[]).filter(pick).map((s) => s.name);
    assert.deepEqual(
      names((s) => s.destructive),
      ['force-unlink', 'rejoin'],
    );
    assert.deepEqual(
      names((s) => s.mutatesTrafficManager),
      ['traffic-reroute', 'traffic-failback'],
    );
    // A destructive step runs only behind its approval gate, which comes before it.
    for (const s of RUNBOOK_STEPS.filter((x) => x.destructive)) {
      assert.notEqual(s.gate, 'none', `${s.name} is guarded`);
      const gate = stepSpec(s.gate as StepName);
      assert.equal(gate.kind, 'approval');
      assert.ok(STEP_NAMES.indexOf(gate.name as StepName) < STEP_NAMES.indexOf(s.name));
    }
    assert.deepEqual(
      names((s) => s.kind === 'approval'),
      ['approval-unlink', 'approval-rejoin'],
    );
  });

  it('the dry-run plan is the table with this group’s targets', () => {
    const group = resolveGroup(
      loadCliConfig(path.resolve(__dirname, '../../geofailover.config.example.json')),
      'leaderboard',
    );
    const plan = planFailover({ group, failedRegion: FAILED, reason: 'drill', requestedBy: 'sre-lead' }, 'geofailover');
    assert.deepEqual(
      plan.steps.map(({ step, phase, calls, gate, destructive, mutatesTrafficManager }) => ({
        step,
        phase,
        calls,
        gate,
        destructive,
        mutatesTrafficManager,
      })),
      RUNBOOK_STEPS.map((s) => ({
        step: s.name,
        phase: s.phase,
        calls: [...s.calls],
        gate: s.gate,
        destructive: s.destructive,
        mutatesTrafficManager: s.mutatesTrafficManager,
      })),
    );
    for (const s of plan.steps) assert.ok(s.action.length > 0, `${s.step} says what it does`);
  });

  it('the audit maps every activity a step calls back to that step: from its tag, and by the old guess', () => {
    for (const spec of RUNBOOK_STEPS as readonly StepSpec[]) {
      for (const type of spec.calls) {
        const a = scheduled(type, spec);
        assert.equal(activityStep(a, FAILED, spec.name), spec.name, `${type} tagged ${spec.name}`);
        // Histories recorded before activities were tagged: the phase and input still point at the step (notify
        // and the rehearsal's canaries came later: they are always tagged).
        if (!['notify', 'canaryWrite', 'canaryRead'].includes(type))
          assert.equal(activityStep(a, FAILED), spec.name, `${type} in phase ${spec.phase}, untagged`);
      }
      for (const type of GATE_CALLS) {
        assert.equal(activityStep(scheduled(type, spec), FAILED, spec.name), spec.name, `${type} of ${spec.name}`);
      }
    }
    assert.equal(
      activityStep(scheduled('describeMember', stepSpec('membership')), FAILED, 'no-such-step'),
      'membership',
    );
  });
});

const VERIFIED: ReplayVerdict = {
  verdict: 'verified',
  workflowType: 'failoverRunbook',
  checkedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1,
  against: 'the current workflow code (src/workflows)',
};

/** Every run of a workflow, oldest first, as the audit reads them. */
async function chainHistories(client: Client, handle: WorkflowHandle): Promise<History[]> {
  return (await fetchIncidentRuns(client, handle.workflowId)).map((run) => run.history);
}

/** Every ActivityTaskScheduled is tagged with a step whose table entry lists it; returns the (step, type) pairs. */
function checkTags(history: History): Set<string> {
  const seen = new Set<string>();
  const tags = activitySummaries(history);
  for (const event of history.events ?? []) {
    if (eventType(event as HistoryEvent) !== 'ActivityTaskScheduled') continue;
    const id = Number(event.eventId);
    const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '?';
    const tag = tags.get(id);
    assert.ok(tag !== undefined, `event ${id} (${type}) carries no step`);
    assert.ok((STEP_NAMES as readonly string[]).includes(tag), `event ${id} (${type}) is tagged ${tag}, not a step`);
    assert.ok(stepMayCall(tag as StepName, type), `${tag} calls ${type}, but the step table does not say so`);
    seen.add(`${tag} ${type}`);
  }
  return seen;
}

/** The evidence report names, for every activity row, the step the activity was tagged with. */
function checkReport(history: History, workflowId: string): void {
  const tags = activitySummaries(history);
  const built = buildEvidenceReport(history, { replay: VERIFIED, workflowId, source: { kind: 'file', file: 'x' } });
  assert.ok(built.activities.length > 0);
  for (const row of built.activities) assert.equal(row.step, tags.get(row.scheduledEventId), `${row.type}`);
}

describe('every activity a runbook schedules is tagged with its step (real workflows, fake activities)', function () {
  this.timeout(120_000);
  const t = useRunbookTestEnv();

  it('failoverRunbook with an escalated unlink gate, force-unlink, rejoin and failback', async () => {
    const regions = testRegions();
    const [failed, survivor] = regions;
    const fake = new FakeGroup(
      testGroup(regions, (g) => {
        g.durations.approvalTimeout = '1s';
        g.durations.escalationTimeout = '1m';
      }),
      failed,
    );
    fake.memoryPercent[survivor] = 95; // critical: the unlink trigger fires
    const { result, histories } = await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await t.startFailover(taskQueue, testInput(fake.group, failed));
      await waitForStatus(handle, (s) => !!s.openGate?.escalatedAt, 'the unlink gate escalated', 30_000);
      assert.equal((await decideAs(handle, 'sre-manager', 'approve')).accepted, true);
      await waitForStatus(handle, (s) => step(s, 'force-unlink').status === 'succeeded', 'force-unlink', 30_000);
      fake.failedAnswers = true;
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate', 30_000);
      assert.equal((await decideAs(handle, 'data-owner', 'approve')).accepted, true);
      const result: RunbookResult = await handle.result();
      return { result, histories: await chainHistories(t.env.client, handle) };
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.deepEqual(
      result.status.steps.map((s) => s.step),
      [...STEP_NAMES],
      'the step log’s records are the table’s steps',
    );
    const seen = new Set<string>();
    for (const history of histories) {
      for (const pair of checkTags(history)) seen.add(pair);
      checkReport(history, workflowIds.failover(fake.group.name));
    }
    for (const pair of [
      'validate-input loadPolicy',
      'membership describeMember',
      'memory readMemory',
      'firewall probeEndpoints',
      'traffic-reroute setEndpointStatus',
      'verify canaryWriteRead',
      'await-recovery readMemory',
      'await-recovery describeMember',
      'approval-unlink notifyEscalation',
      'force-unlink forceUnlink',
      'rejoin rejoinMember',
      'traffic-failback probeEndpoints',
      'traffic-failback setEndpointStatus',
    ]) {
      assert.ok(seen.has(pair), `the run scheduled ${pair}; seen: ${[...seen].sort().join(', ')}`);
    }
  });

  it('rejoinRunbook: the steps it skips are the table’s, and its activities are tagged too', async () => {
    const regions = testRegions();
    const [region] = regions;
    const fake = new FakeGroup(testGroup(regions), region);
    fake.unlinked = true;
    fake.failedAnswers = true;
    fake.endpointStatus[region] = 'Disabled';
    const input: RejoinRunbookInput = {
      group: fake.group.name,
      region,
      reason: 'back',
      request: signedStart(fake.group, region, workflowIds.rejoin(fake.group.name)),
      tuning: TEST_TUNING,
    };
    const { result, histories } = await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await t.env.client.workflow.start<typeof rejoinRunbook>(WORKFLOW_TYPES.rejoinRunbook, {
        taskQueue,
        workflowId: workflowIds.rejoin(fake.group.name),
        args: [input],
      });
      t.track(handle);
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-rejoin', 'rejoin gate', 30_000);
      assert.equal((await decideAs(handle, 'data-owner', 'approve')).accepted, true);
      const result: RunbookResult = await handle.result();
      return { result, histories: await chainHistories(t.env.client, handle) };
    });
    assert.equal(result.outcome, 'completed', result.summary);
    assert.deepEqual(
      result.status.steps.filter((s) => s.summary === NOT_IN_RUNBOOK.rejoin).map((s) => s.step),
      stepsNotIn('rejoin'),
    );
    for (const history of histories) {
      checkTags(history);
      checkReport(history, workflowIds.rejoin(fake.group.name));
    }
  });
});
