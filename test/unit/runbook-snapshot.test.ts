// The incident's state as one snapshot (continue-as-new): what a run saves is what the next run shows and enforces,
// and only a run Temporal continued from the run that saved it takes a snapshot over.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { History } from '@temporalio/common/lib/proto-utils';
import { mergeRuns } from '../../src/audit/chain';
import { readHistoryFacts } from '../../src/audit/report/events';
import { workflowIds } from '../../src/contract/names';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { RunbookSnapshot } from '../../src/contract/snapshot';
import { decisionPayload, unlinkNowPayload } from '../../src/signing/payloads';
import { ApprovalGate } from '../../src/workflows/runbook/gate';
import { RunbookState } from '../../src/workflows/runbook/runbook-state';
import { resumeProblems } from '../../src/workflows/runbook/validate-input';
import { personKey, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const FIRST = 'run-0001';
const SECOND = 'run-0002';

describe('runbook snapshot (continue-as-new, pure)', () => {
  let group: GroupDefinition;
  let workflowId: string;

  const stateOf = (runId: string): RunbookState =>
    new RunbookState({ groupName: group.name, region: 'eastus', workflowId, runId, requestedBy: '' });

  beforeEach(() => {
    group = testGroup(['eastus', 'westeurope', 'southeastasia']);
    workflowId = workflowIds.failover(group.name);
  });

  /** A first run that went through an approved unlink gate and an unlinkNow, saved for its next run. */
  function savedFirstRun(): {
    state: RunbookState;
    snapshot: RunbookSnapshot;
    used: ReturnType<typeof decisionPayload>;
  } {
    const state = stateOf(FIRST);
    state.setPolicy(policyFor(group));
    state.context.requestedBy = 'sre-lead';
    state.startProof = { statement: 's', signature: 'x' };
    state.steps.start('validate-input', 'checking');
    state.steps.succeed('validate-input', 'ok', undefined, 'sre-lead');
    state.steps.start('await-recovery', 'watching');
    const gate = new ApprovalGate(
      'approval-unlink',
      'approval-unlink',
      state.rules(1),
      't0',
      { why: 'critical' },
      state.nextGateInstance(),
      [group.members.eastus!],
    );
    state.gate = gate;
    state.steps.addGate('approval-unlink', gate);
    const status = state.status();
    const used = decisionPayload(
      { key: personKey('sre-manager'), actor: 'sre-manager', workflowId, status },
      'approve',
    );
    assert.equal(state.vote(used, 'approve', 'decide').accepted, true);
    state.gate = undefined;
    state.closedGates.push(gate);
    state.steps.succeed('approval-unlink', 'approved by sre-manager', undefined, 'sre-manager');
    state.unlinked = true;
    state.trigger.opened();
    state.trigger.closed(1000);
    const snapshot = state.save({
      stage: 'await-recovery',
      startedAt: '2026-12-02T00:00:00.000Z',
      survivors: [{ region: 'westeurope', databaseId: group.members.westeurope! }],
      rtoMs: 1234,
      firstRunId: FIRST,
      runsBefore: 0,
    });
    return { state, snapshot, used };
  }

  it('a continued run shows and enforces what the previous run saved', () => {
    const { state, snapshot, used } = savedFirstRun();
    // Through JSON, as Temporal carries it.
    const carried = JSON.parse(JSON.stringify(snapshot)) as RunbookSnapshot;
    assert.equal(carried.previousRunId, FIRST);
    assert.equal(carried.runsBefore, 1);
    const next = stateOf(SECOND);
    next.restore(carried);

    const before = state.status();
    const after = next.status();
    const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value));
    assert.deepEqual(
      json(after.steps),
      json(before.steps),
      'the same step log, the closed gate with its vote included',
    );
    assert.equal(after.requestedBy, 'sre-lead');
    assert.equal(after.policyDigest, before.policyDigest);
    assert.equal(after.runId, SECOND, 'people now sign for the new run');
    assert.deepEqual(after.continued, { run: 2, firstRunId: FIRST, incidentStartedAt: '2026-12-02T00:00:00.000Z' });
    assert.equal(next.unlinked, true);
    assert.equal(next.nextGateInstance(), 2, 'gate instances keep counting');
    assert.deepEqual(next.trigger.save(), state.trigger.save());

    // A decision for a gate of the earlier run names it as decided.
    const late = next.vote({ approver: 'data-owner', gate: 'approval-unlink' }, 'approve', 'decide');
    assert.match(late.reason ?? '', /gate approval-unlink was already decided \(approved at /);

    // The commander can still act, signing for the new run.
    next.recoveryOpen = true;
    next.unlinked = false;
    const now = unlinkNowPayload(
      { key: personKey('sre-lead'), actor: 'sre-lead', workflowId, status: next.status() },
      'down for days',
    );
    next.unlinkNow(now);
    assert.equal(next.trigger.firing?.reason, 'unlink-now');
    // A statement signed for the earlier run is refused in this one.
    const stale = next.vote(used, 'approve', 'decide');
    assert.equal(stale.accepted, false);
  });

  it('takes a snapshot over only from the run Temporal says it continues, never from a start, cron or retry', () => {
    const { snapshot } = savedFirstRun();
    const carried = JSON.parse(JSON.stringify(snapshot)) as unknown;
    const run = { continuedFromRunId: FIRST, firstRunId: FIRST, cron: false };
    assert.equal(resumeProblems(carried, run), undefined);
    assert.match(resumeProblems(carried, { ...run, continuedFromRunId: undefined }) ?? '', /continues no earlier run/);
    assert.match(resumeProblems(carried, { ...run, cron: true }) ?? '', /cron schedule/);
    assert.match(
      resumeProblems(carried, { ...run, continuedFromRunId: 'run-9999' }) ?? '',
      /this run continues run-9999/,
    );
    assert.match(resumeProblems(carried, { ...run, firstRunId: 'run-0000' }) ?? '', /first run/);
    assert.match(
      resumeProblems({ ...(carried as object), stage: 'unlink-everything' }, run) ?? '',
      /stage "unlink-everything" is unknown/,
    );
  });

  it('never throws on any JSON, and answers in one bounded sentence', () => {
    fc.assert(
      fc.property(fc.anything(), fc.option(fc.string(), { nil: undefined }), fc.boolean(), (value, from, cron) => {
        const problem = resumeProblems(value, { continuedFromRunId: from, firstRunId: FIRST, cron });
        assert.ok(problem === undefined || (typeof problem === 'string' && problem.length < 400));
      }),
      { numRuns: 300 },
    );
  });

  it('merges an incident’s runs into one history: unique ids, references kept, every run named', () => {
    const event = (eventId: number, eventType: string, attributes: Record<string, unknown>): unknown => ({
      eventId,
      eventTime: { seconds: 1_800_000_000 + eventId },
      eventType,
      ...attributes,
    });
    const started = (runId: string, continued?: string) =>
      event(1, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', {
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: 'failoverRunbook' },
          originalExecutionRunId: runId,
          firstExecutionRunId: FIRST,
          ...(continued ? { continuedExecutionRunId: continued, initiator: 1 } : {}),
        },
      });
    const activity = (id: number, type: string) => [
      event(id, 'EVENT_TYPE_ACTIVITY_TASK_SCHEDULED', {
        activityTaskScheduledEventAttributes: { activityId: String(id), activityType: { name: type } },
      }),
      event(id + 1, 'EVENT_TYPE_ACTIVITY_TASK_COMPLETED', {
        activityTaskCompletedEventAttributes: { scheduledEventId: id },
      }),
    ];
    const first = {
      events: [
        started(FIRST),
        ...activity(2, 'describeMember'),
        event(4, 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW', {
          workflowExecutionContinuedAsNewEventAttributes: { newExecutionRunId: SECOND },
        }),
      ],
    } as unknown as History;
    const second = {
      events: [
        started(SECOND, FIRST),
        ...activity(2, 'readMemory'),
        event(4, 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', { workflowExecutionCompletedEventAttributes: {} }),
      ],
    } as unknown as History;
    const merged = mergeRuns([first, second]);
    const ids = (merged.events ?? []).map((e) => Number(e.eventId));
    assert.deepEqual(ids, [1, 2, 3, 4, 5, 6, 7]);
    const facts = readHistoryFacts(merged);
    assert.deepEqual(facts.runIds, [FIRST, SECOND]);
    assert.equal(facts.execution, 'completed', 'the hand-over is not the end');
    assert.deepEqual(
      facts.activities.map((a) => [a.type, a.outcome]),
      [
        ['describeMember', 'completed'],
        ['readMemory', 'completed'],
      ],
    );
  });
});
