// Every stored history (test/replay/histories/, recorded from real runs by scripts/record-histories.ts) must
// replay against the current workflow code: a non-deterministic change to a workflow fails here, in CI.
// A deliberate change needs patched() and, once the old runs are gone, fresh recordings (README, "Auditing").
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import { historyWorkflowId, readHistoryFile } from '../../src/audit/history';
import { replayHistory } from '../../src/audit/replay';
import { readHistoryFacts } from '../../src/audit/report/events';
import type { RunbookResult } from '../../src/contract/runbook';
import { getWorkflowBundle, installTestRuntime } from '../helpers/temporal';

const DIR = path.join(__dirname, 'histories');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

const REFRESH =
  'If the change is deliberate, guard it with patched() so running incidents keep their old path, then re-record ' +
  'the histories: TEMPORAL_ADDRESS=<dev server> npx tsx scripts/record-histories.ts (README, "Auditing").';

/** What each recorded scenario must show, so a stored file is what its name says. */
const EXPECTED: Record<string, { type: string; outcome: string; check?: (r: RunbookResult) => void }> = {
  'short-outage': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => assert.equal(r.status.steps.find((s) => s.step === 'force-unlink')?.status, 'skipped'),
  },
  'long-outage-unlink-rejoin': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => {
      assert.equal(r.status.steps.find((s) => s.step === 'force-unlink')?.status, 'succeeded');
      assert.equal(r.status.steps.find((s) => s.step === 'approval-rejoin')?.status, 'succeeded');
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
    check: (r) =>
      assert.equal(r.status.steps.find((s) => s.step === 'approval-unlink')?.gates?.[0]?.outcome, 'rejected'),
  },
  'intervention-retry': {
    type: 'failoverRunbook',
    outcome: 'completed',
    check: (r) => assert.equal(r.status.steps.find((s) => s.step === 'traffic-reroute')?.gates?.[0]?.outcome, 'retry'),
  },
  aborted: { type: 'failoverRunbook', outcome: 'aborted' },
  'rejoin-runbook': { type: 'rejoinRunbook', outcome: 'completed' },
};

describe('stored histories replay against the current workflow code', function () {
  this.timeout(60_000);
  let bundle: WorkflowBundle;

  before(async () => {
    bundle = await getWorkflowBundle();
  });

  it('covers every recorded scenario (happy path, unlink and rejoin, rejected gate, intervention, abort, rejoin)', () => {
    for (const scenario of Object.keys(EXPECTED))
      assert.ok(FILES.includes(`${scenario}.json`), `${scenario}.json is stored`);
  });

  for (const file of FILES) {
    it(`${file} is verified`, async () => {
      const loaded = readHistoryFile(path.join(DIR, file));
      const verdict = await replayHistory(loaded.history, { bundle, workflowId: loaded.workflowId });
      assert.equal(
        verdict.verdict,
        'verified',
        `${file} no longer replays: first mismatch at event ${verdict.mismatch?.eventId} ` +
          `(${verdict.mismatch?.eventType}): ${verdict.mismatch?.message}\n${REFRESH}`,
      );
      const expected = EXPECTED[file.replace(/(\.temporal-cli)?\.json$/, '')];
      if (expected) {
        const facts = readHistoryFacts(loaded.history);
        assert.equal(facts.workflowType, expected.type);
        assert.equal(facts.execution, 'completed');
        const result = facts.result as RunbookResult;
        assert.equal(result.outcome, expected.outcome, result.summary);
        expected.check?.(result);
      }
    });
  }

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
      // failoverRunbook with one timer added before its first step (test/replay/fixtures/changed-workflows.ts).
      changed = await bundleWorkflowCode({
        workflowsPath: require.resolve('./fixtures/changed-workflows'),
        logger: new DefaultLogger('WARN'),
      });
    });

    it('is detected as diverged, naming the first mismatching event', async () => {
      const loaded = readHistoryFile(path.join(DIR, 'short-outage.json'));
      const verdict = await replayHistory(loaded.history, { bundle: changed, against: 'a changed failoverRunbook' });
      assert.equal(verdict.verdict, 'diverged');
      assert.equal(verdict.errorKind, 'nondeterminism');
      // The original code's first commands were the search-attribute upserts (event 5); the change starts a timer.
      assert.equal(verdict.mismatch?.eventId, 5);
      assert.equal(verdict.mismatch?.eventType, 'UpsertWorkflowSearchAttributes');
      assert.match(verdict.mismatch?.message ?? '', /Nondeterminism error/);
      assert.match(verdict.mismatch?.message ?? '', /Timer/);
      assert.doesNotMatch(verdict.mismatch?.message ?? '', /Failure \{/, 'the SDK wrapping is stripped');
      assert.equal(verdict.against, 'a changed failoverRunbook');
    });

    it('leaves the histories of workflows it did not change verified', async () => {
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
