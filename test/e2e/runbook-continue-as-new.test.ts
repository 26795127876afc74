// A long outage on the real workflow (shared dev server, mocked activities): the runbook continues as new while it
// waits, carrying the whole incident (step log, gates, decisions, trigger, recovery checks), and people keep
// answering the gates of whichever run is current. A start that brings its own snapshot is refused.
import assert from 'node:assert/strict';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { fetchIncidentRuns, incidentHistory } from '../../src/audit/chain';
import { buildEvidenceReport } from '../../src/audit/report/model';
import { statusQuery } from '../../src/contract/messages';
import type { FailoverRunbookInput } from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import type { failoverRunbook } from '../../src/workflows';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { decideAs, recoveredAs } from '../helpers/people';
import { FakeGroup, TEST_TUNING, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';

type Handle = WorkflowHandle<typeof failoverRunbook> & { firstExecutionRunId: string };

describe('a long outage continues as new (mocked activities)', function () {
  this.timeout(120_000);
  const t = useRunbookTestEnv();

  const start = (taskQueue: string, input: FailoverRunbookInput): Promise<Handle> => t.startFailover(taskQueue, input);

  it('goes on over several runs: gates answered in later runs, destructive calls once, one step log, one report', async () => {
    const regions = testRegions();
    const [failed, survivor] = regions;
    const fake = new FakeGroup(testGroup(regions), failed);
    const input: FailoverRunbookInput = {
      ...testInput(fake.group, failed),
      tuning: { ...TEST_TUNING, pollsPerRun: 3 },
    };
    await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const handle = await start(taskQueue, input);
      // Polls go on while nothing happens: the incident moves to a second run, then a third.
      const continued = await waitForStatus(handle, (s) => (s.continued?.run ?? 1) >= 3, 'third run', 60_000);
      assert.equal(continued.continued?.firstRunId, handle.firstExecutionRunId);
      assert.notEqual(continued.runId, handle.firstExecutionRunId, 'the status names the run people sign for');
      assert.equal(step(continued, 'traffic-reroute').status, 'succeeded', 'the step log goes on');
      assert.equal(step(continued, 'await-recovery').status, 'running');
      assert.equal(step(continued, 'await-recovery').attempts, 1, 'a continued run resumes the step, not a new one');
      assert.equal(fake.calls.setEndpointStatus, 1, 'traffic moved once');

      // The trigger fires in a later run; the approval is signed for that run.
      fake.memoryPercent[survivor] = 95;
      const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate', 60_000);
      const approved = await decideAs(handle, 'sre-manager', 'approve');
      assert.equal(approved.accepted, true, approved.reason);
      await waitForStatus(handle, (s) => step(s, 'force-unlink').status === 'succeeded', 'force-unlink', 60_000);
      assert.equal(fake.calls.forceUnlink, 1);
      fake.memoryPercent[survivor] = 40;

      await recoveredAs(handle, 'sre-lead', `${failed} is back`);
      fake.failedAnswers = true;
      const rejoinGate = await waitForStatus(
        handle,
        (s) => s.openGate?.gate === 'approval-rejoin',
        'rejoin gate',
        60_000,
      );
      assert.ok(
        (rejoinGate.openGate?.instance ?? 0) > (gate.openGate?.instance ?? 0),
        'gate instances keep counting across runs',
      );
      const rejoin = await decideAs(handle, 'data-owner', 'approve');
      assert.equal(rejoin.accepted, true, rejoin.reason);
      const result = await handle.result();
      assert.equal(result.outcome, 'completed', result.summary);
      assert.match(result.summary, /force-unlinked and rejoined/);
      assert.equal(fake.calls.forceUnlink, 1, 'force-unlink once over every run');
      assert.equal(fake.calls.rejoinMember, 1, 'rejoin once');
      assert.equal(fake.endpointStatus[failed], 'Enabled');
      const final = result.status as RunbookStatus;
      assert.ok((final.continued?.run ?? 1) >= 3);
      const unlinkGates = step(final, 'approval-unlink').gates ?? [];
      assert.deepEqual(
        unlinkGates.map((g) => g.outcome),
        ['approved'],
        "the unlink gate of an earlier run is in the last run's step log",
      );
      assert.ok(result.rtoMs !== undefined && result.rtoMs > 0, 'the RTO is the first run’s');

      // Every run replays against the code, and the audit reads the incident as one.
      const runs = await fetchIncidentRuns(t.env.client, handle.workflowId);
      assert.ok(runs.length >= 3, `${runs.length} runs`);
      assert.equal(runs[0]?.runId, handle.firstExecutionRunId);
      for (const run of runs)
        await Worker.runReplayHistory({ workflowBundle: t.bundle }, run.history, handle.workflowId);
      const merged = incidentHistory(runs);
      const report = buildEvidenceReport(merged.history, {
        workflowId: handle.workflowId,
        source: { kind: 'temporal', address: 'test', namespace: 'default' },
        replay: {
          verdict: 'verified',
          workflowType: 'failoverRunbook',
          checkedAt: new Date().toISOString(),
          durationMs: 0,
          against: 'test',
        },
      });
      assert.equal(report.outcome.outcome, 'completed');
      const approvals = report.decisions.filter(
        (d) => d.verdict === 'accepted' && d.signature?.verified && d.signature.action === 'approve',
      );
      assert.equal(approvals.length, 2, 'both approvals, each signed for its own run, verify in the report');
    });
  });

  it('refuses a start that brings its own snapshot: only the runbook hands one to its next run', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const fake = new FakeGroup(testGroup(regions), failed);
    await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const forged = {
        ...testInput(fake.group, failed),
        continued: { version: 1, stage: 'rejoin', unlinked: true, previousRunId: 'x', firstRunId: 'y' },
      } as FailoverRunbookInput;
      const handle = await start(taskQueue, forged);
      const result = await handle.result();
      assert.equal(result.outcome, 'refused');
      assert.match(result.summary, /continued-run snapshot.*continues no earlier run/);
      assert.equal(fake.calls.describeMember, 0, 'nothing was read');
      assert.equal(fake.calls.setEndpointStatus + fake.calls.rejoinMember + fake.calls.forceUnlink, 0);
      const status = (await handle.query(statusQuery)) as RunbookStatus;
      assert.equal(status.continued, undefined);
    });
  });
});
