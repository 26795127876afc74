// Every stored history (test/replay/histories/, recorded from real runs by scripts/record-histories.ts) must
// replay against the current workflow code: a non-deterministic change to a workflow fails here, in CI.
//
// Versioning policy (README, "Changing the workflow code"): any change to the commands a workflow issues for an
// existing history — an activity or timer added, removed or moved, their order, what decides between them, a
// continue-as-new point — is guarded with patched('<change-id>') so running incidents keep their
// old path. Never re-record these histories to make a failing replay pass: a divergence means runs already in
// history would break on deploy. Re-record only for a guarded change (to add the new path, after keeping the old
// one as SCENARIO.pre-<change-id>.json until the patch is deprecated) or a breaking release whose notes say open
// runbooks must finish (or be terminated) before its worker starts — as 0.2.0 (continue-as-new) does.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { continuedFromRunId } from '../../src/audit/chain';
import { historyWorkflowId, readHistoryFile, type LoadedHistory } from '../../src/audit/history';
import { replayHistory } from '../../src/audit/replay';
import { readHistoryFacts, type HistoryFacts } from '../../src/audit/report/events';
import type { EvacuationResult } from '../../src/contract/evacuation';
import type { RunbookResult } from '../../src/contract/runbook';
import type { RunbookSnapshot } from '../../src/contract/snapshot';
import type { GateRecord, RunbookStatus, StepRecord } from '../../src/contract/types';
import { getWorkflowBundle, installTestRuntime } from '../helpers/temporal';

// GEOFAILOVER_REPLAY_HISTORIES: histories recorded elsewhere (record-histories.ts --out DIR), checked before committing.
const DIR = process.env.GEOFAILOVER_REPLAY_HISTORIES ?? path.join(__dirname, 'histories');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
/** SCENARIO.run-N.json: run N of an incident that continued as new. */
const RUN_FILE = /^(.+)\.run-(\d+)\.json$/;

const REFRESH =
  'If the change is deliberate, guard it with patched() so running incidents keep their old path, then record the ' +
  'new path: TEMPORAL_ADDRESS=<dev server> npx tsx scripts/record-histories.ts (README, "Changing the workflow code").';

/**
 * The scenario a file records: SCENARIO.json, SCENARIO.temporal-cli.json (the plain CLI's export), SCENARIO.run-N.json
 * (run N of a chain) or SCENARIO.pre-<change-id>.json (the path from before a patch, kept until it is deprecated).
 */
const scenarioOf = (file: string): string => file.split('.')[0] ?? file;
const stepOf = (s: RunbookStatus, name: string): StepRecord | undefined => s.steps.find((r) => r.step === name);
const gatesOf = (s: RunbookStatus, name: string): GateRecord[] => stepOf(s, name)?.gates ?? [];
const activityCount = (facts: HistoryFacts, type: string): number =>
  facts.activities.filter((a) => a.type === type).length;

interface Expected {
  type: string;
  outcome: string;
  /** recorded run by run (SCENARIO.run-N.json); the outcome and check are the last run's */
  chain?: true;
  check?: (r: RunbookResult, facts: HistoryFacts) => void;
}

/** What each recorded scenario must show, so a stored file is what its name says. */
const EXPECTED: Record<string, Expected> = {
  'short-outage': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => assert.equal(stepOf(r.status, 'force-unlink')?.status, 'skipped'),
  },
  'long-outage-unlink-rejoin': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => {
      assert.equal(stepOf(r.status, 'force-unlink')?.status, 'succeeded');
      assert.equal(stepOf(r.status, 'approval-rejoin')?.status, 'succeeded');
      // The outsider's approval, signed with a key in no policy, stays refused in the recording.
      const refused = r.status.steps.flatMap((s) => s.refusedAttempts ?? []);
      assert.ok(
        refused.some((a) => a.by.startsWith('mallory') && /not a person/.test(a.reason)),
        JSON.stringify(refused),
      );
    },
  },
  'rejected-unlink': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => assert.equal(gatesOf(r.status, 'approval-unlink')[0]?.outcome, 'rejected'),
  },
  'intervention-retry': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => assert.equal(gatesOf(r.status, 'traffic-reroute')[0]?.outcome, 'retry'),
  },
  aborted: { type: 'failoverRunbook', outcome: 'aborted' },
  'rejoin-runbook': { type: 'rejoinRunbook', outcome: 'completed' },
  escalation: {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r, facts) => {
      // The unlink gate waited past approvalTimeout, escalated (the notifyEscalation activity ran), then was approved.
      const [gate] = gatesOf(r.status, 'approval-unlink');
      assert.ok(gate?.escalatedAt, 'the unlink gate escalated');
      assert.ok(gate.escalation, 'the escalation is recorded on the gate, delivered or not');
      assert.equal(gate.outcome, 'approved');
      assert.ok(Date.parse(gate.decidedAt ?? '') > Date.parse(gate.escalatedAt), 'approved after escalating');
      assert.ok(activityCount(facts, 'notifyEscalation') >= 1, 'notifyEscalation ran');
      assert.equal(stepOf(r.status, 'force-unlink')?.status, 'succeeded');
    },
  },
  skip: {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => {
      const verify = stepOf(r.status, 'verify');
      assert.equal(verify?.status, 'skipped');
      const [gate] = verify?.gates ?? [];
      assert.equal(gate?.outcome, 'skipped');
      assert.deepEqual(
        gate?.interventions?.map((i) => [i.action, i.by]),
        [['skip', 'sre-lead']],
      );
      // Four-eyes: the one who asked for the skip was refused; someone else approved it.
      assert.deepEqual(
        gate?.votes.map((v) => v.approver),
        ['sre-manager'],
      );
      assert.equal(verify?.actor, 'sre-manager');
      assert.match(verify?.refusedAttempts?.[0]?.reason ?? '', /four-eyes/);
    },
  },
  timeout: {
    type: 'failoverRunbook',
    outcome: 'stopped',
    check: (r, facts) => {
      // Nobody answered: the intervention gate escalated, timed out, and the run stopped before any change.
      const [gate] = gatesOf(r.status, 'traffic-reroute');
      assert.ok(gate?.escalatedAt, 'the gate escalated');
      assert.equal(gate.outcome, 'timed-out');
      assert.equal(activityCount(facts, 'notifyEscalation'), 1);
      assert.match(r.summary, /nobody answered the intervention gate of traffic-reroute/);
      assert.equal(activityCount(facts, 'forceUnlink'), 0);
    },
  },
  'unlink-now': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r, facts) => {
      // The commander's unlinkNow opened the gate: no memory pressure, no outage limit.
      const [gate] = gatesOf(r.status, 'approval-unlink');
      assert.equal((gate?.request as { trigger?: { reason?: string } }).trigger?.reason, 'unlink-now');
      assert.equal(gate?.outcome, 'approved');
      assert.ok(
        facts.signals.some((s) => s.name === 'unlinkNow'),
        'the signed unlinkNow signal is in the history',
      );
      assert.equal(stepOf(r.status, 'force-unlink')?.status, 'succeeded');
      assert.equal(activityCount(facts, 'forceUnlink'), 1);
    },
  },
  recreate: {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r, facts) => {
      const rejoins = facts.activities.filter((a) => a.type === 'rejoinMember');
      assert.equal(rejoins.length, 1);
      assert.equal((rejoins[0]?.input as { method?: string }).method, 'recreate');
      assert.match(stepOf(r.status, 'rejoin')?.summary ?? '', /recreate/);
    },
  },
  'continue-as-new': {
    type: 'failoverRunbook',
    outcome: 'completed',
    chain: true,
    check: (r) => {
      // The last run's step log is the incident's: the unlink gate of an earlier run and its force-unlink are in it.
      assert.deepEqual(
        gatesOf(r.status, 'approval-unlink').map((g) => g.outcome),
        ['approved'],
      );
      assert.equal(stepOf(r.status, 'force-unlink')?.status, 'succeeded');
      assert.equal(stepOf(r.status, 'rejoin')?.status, 'succeeded');
      assert.ok(r.rtoMs !== undefined, "the RTO is the first run's");
    },
  },
  'evacuation-aborted': {
    type: 'regionEvacuation',
    outcome: 'aborted',
    check: (r) => {
      const evacuation = r as unknown as EvacuationResult;
      assert.equal(evacuation.status.groups.length, 1);
      assert.equal(evacuation.status.groups[0]?.outcome, 'aborted', evacuation.status.groups[0]?.summary);
      assert.ok(evacuation.status.actions.some((a) => a.action === 'abort' && a.accepted));
    },
  },
  rehearsal: {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r, facts) => {
      assert.equal(r.mode, 'rehearsal');
      assert.equal(stepOf(r.status, 'hold')?.status, 'succeeded');
      assert.equal(stepOf(r.status, 'replication-check')?.status, 'succeeded');
      assert.equal(stepOf(r.status, 'await-recovery')?.status, 'skipped');
      assert.equal(activityCount(facts, 'forceUnlink'), 0, 'nothing destructive in a rehearsal of this group');
    },
  },
};

/** The stored runs of a chain scenario, run 1 first. */
function chainFiles(scenario: string): string[] {
  return FILES.map((f) => RUN_FILE.exec(f))
    .filter((m): m is RegExpExecArray => m?.[1] === scenario)
    .sort((a, b) => Number(a[2]) - Number(b[2]))
    .map((m) => m[0]);
}

function load(file: string): { loaded: LoadedHistory; facts: HistoryFacts } {
  const loaded = readHistoryFile(path.join(DIR, file));
  return { loaded, facts: readHistoryFacts(loaded.history) };
}

describe('stored histories replay against the current workflow code', function () {
  this.timeout(60_000);
  let bundle: WorkflowBundle;

  before(async () => {
    bundle = await getWorkflowBundle();
  });

  it('covers every recorded scenario (incl. escalation, skip, timeout, unlink-now, recreate, a continue-as-new chain)', () => {
    for (const [scenario, expected] of Object.entries(EXPECTED)) {
      if (expected.chain) assert.ok(chainFiles(scenario).length > 0, `${scenario}.run-N.json are stored`);
      else assert.ok(FILES.includes(`${scenario}.json`), `${scenario}.json is stored`);
    }
    for (const file of FILES) assert.ok(EXPECTED[scenarioOf(file)], `${file} is a known scenario (add it to EXPECTED)`);
  });

  for (const file of FILES) {
    it(`${file} is verified`, async () => {
      const { loaded, facts } = load(file);
      const verdict = await replayHistory(loaded.history, { bundle, workflowId: loaded.workflowId });
      assert.equal(
        verdict.verdict,
        'verified',
        `${file} no longer replays: first mismatch at event ${verdict.mismatch?.eventId} ` +
          `(${verdict.mismatch?.eventType}): ${verdict.mismatch?.message}\n${REFRESH}`,
      );
      const expected = EXPECTED[scenarioOf(file)];
      assert.ok(expected, `${file} is a known scenario`);
      assert.equal(facts.workflowType, expected.type);
      // A chain's earlier runs end by continuing as new: the chain test checks them.
      if (expected.chain && facts.execution === 'continued-as-new') return;
      assert.equal(facts.execution, 'completed');
      const result = facts.result as RunbookResult;
      assert.equal(result.outcome, expected.outcome, result.summary);
      expected.check?.(result, facts);
    });
  }

  it('continue-as-new.run-N.json are one incident: run 1 starts it, each later run continues the one before, the last completes', () => {
    const files = chainFiles('continue-as-new');
    assert.ok(files.length >= 3, `three or more runs are stored (${files.join(', ')})`);
    assert.deepEqual(
      files,
      files.map((_, i) => `continue-as-new.run-${i + 1}.json`),
      'runs numbered 1..N without gaps',
    );
    const runs = files.map(load);
    const first = runs[0]!;
    const firstRunId = first.facts.runId;
    assert.ok(firstRunId);
    runs.forEach(({ loaded, facts }, i) => {
      const file = files[i];
      const input = facts.input as { continued?: RunbookSnapshot };
      assert.equal(loaded.workflowId, 'failover/leaderboard', file);
      if (i === 0) {
        assert.equal(input.continued, undefined, 'the first run starts the incident: no snapshot');
        assert.equal(continuedFromRunId(loaded.history), undefined);
      } else {
        const previous = runs[i - 1]!.facts.runId;
        assert.ok(input.continued, `${file} carries the incident's state in input.continued`);
        assert.equal(input.continued.firstRunId, firstRunId, file);
        assert.equal(input.continued.previousRunId, previous, file);
        assert.equal(input.continued.runsBefore, i, file);
        assert.equal(continuedFromRunId(loaded.history), previous, `${file} continues the run before it`);
      }
      if (i < runs.length - 1) {
        assert.equal(facts.execution, 'continued-as-new', `${file} hands over`);
        assert.equal(facts.closeReason, `continued as new run ${runs[i + 1]!.facts.runId}`, file);
      } else {
        assert.equal(facts.execution, 'completed', `${file} (the last run) completes`);
        const result = facts.result as RunbookResult;
        assert.equal(result.status.continued?.run, runs.length);
        assert.equal(result.status.continued?.firstRunId, firstRunId);
      }
    });
    // Destructive calls once over the whole incident, each in the run that made it.
    const total = (type: string): number => runs.reduce((n, r) => n + activityCount(r.facts, type), 0);
    assert.equal(total('forceUnlink'), 1, 'force-unlink once over every run');
    assert.equal(total('rejoinMember'), 1, 'rejoin once');
    assert.equal(total('setEndpointStatus'), 2, 'traffic moved once each way');
    assert.equal(activityCount(first.facts, 'forceUnlink'), 0, 'the unlink came in a later run');
  });

  it('a history exported with the plain Temporal CLI loads like our own export', () => {
    const ours = readHistoryFile(path.join(DIR, 'short-outage.json'));
    const cli = readHistoryFile(path.join(DIR, 'short-outage.temporal-cli.json'));
    assert.deepEqual(JSON.parse(cli.json), JSON.parse(ours.json), 'the same run, the same events');
    assert.equal(cli.workflowId, 'failover/leaderboard');
    assert.equal(historyWorkflowId(cli.history), 'failover/leaderboard');
    assert.equal(cli.history.events?.length, ours.history.events?.length);
  });

  describe('a deliberately changed workflow', () => {
    let changed: WorkflowBundle;

    before(async () => {
      installTestRuntime();
      // One timer added before the first command: failoverRunbook's unguarded, rejoinRunbook's behind patched()
      // (test/replay/fixtures/changed-workflows.ts).
      changed = await bundleWorkflowCode({
        workflowsPath: require.resolve('./fixtures/changed-workflows'),
        logger: new DefaultLogger('WARN'),
      });
    });

    it('is detected as diverged, naming the first mismatching event', async () => {
      const loaded = readHistoryFile(path.join(DIR, 'short-outage.json'));
      const verdict = await replayHistory(loaded.history, {
        bundle: changed,
        against: 'a changed failoverRunbook',
        workflowId: loaded.workflowId,
      });
      assert.equal(verdict.verdict, 'diverged');
      assert.equal(verdict.errorKind, 'nondeterminism');
      // The original code's first command was the search-attribute upsert (event 5); the change starts a timer.
      assert.equal(verdict.mismatch?.eventId, 5);
      assert.equal(verdict.mismatch?.eventType, 'UpsertWorkflowSearchAttributes');
      assert.match(verdict.mismatch?.message ?? '', /Nondeterminism error/);
      assert.match(verdict.mismatch?.message ?? '', /Timer/);
      assert.doesNotMatch(verdict.mismatch?.message ?? '', /Failure \{/, 'the SDK wrapping is stripped');
      assert.equal(verdict.against, 'a changed failoverRunbook');
    });

    it('is caught in a continued run too (an incident open across the deploy is in a later run)', async () => {
      const [, second] = chainFiles('continue-as-new');
      const loaded = readHistoryFile(path.join(DIR, second ?? 'missing'));
      const verdict = await replayHistory(loaded.history, { bundle: changed, workflowId: loaded.workflowId });
      assert.equal(verdict.verdict, 'diverged');
      assert.equal(verdict.errorKind, 'nondeterminism');
      assert.ok(verdict.mismatch?.eventId, 'names the first mismatching event');
      assert.match(verdict.mismatch?.message ?? '', /Timer/);
    });

    it('is not caught when guarded by patched(): the stored histories keep their old path and replay', async () => {
      // rejoinRunbook has the same pause as failoverRunbook, behind patched() (the policy's way to change a workflow).
      const loaded = readHistoryFile(path.join(DIR, 'rejoin-runbook.json'));
      // The workflow id matters: the signed start names it, and a replay under another id is refused.
      const verdict = await replayHistory(loaded.history, { bundle: changed, workflowId: loaded.workflowId });
      assert.equal(verdict.verdict, 'verified', verdict.mismatch?.message);
    });
  });
});

describe('stored history files', () => {
  it('carry no secrets: no access keys or tokens in inputs, results or payloads', () => {
    for (const file of FILES) {
      const text = readFileSync(path.join(DIR, file), 'utf8');
      const decoded = [...text.matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)]
        .map((m) => Buffer.from(m[1] as string, 'base64').toString('utf8'))
        .join('\n');
      assert.doesNotMatch(decoded, /primaryKey|secondaryKey|accessKey|Bearer |password/i, file);
    }
  });
});
