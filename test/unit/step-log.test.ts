import assert from 'node:assert/strict';
import { STEP_NAMES } from '../../src/contract/names';
import { MAX_REFUSALS_KEPT, StepLog } from '../../src/workflows/runbook/step-log';

describe('step log (pure)', () => {
  let tick = 0;
  const clock = (): string => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)).toISOString();
  let log: StepLog;
  beforeEach(() => {
    tick = 0;
    log = new StepLog(clock);
  });

  it('lists the thirteen steps in order, pending', () => {
    const steps = log.snapshot();
    assert.deepEqual(
      steps.map((s) => s.step),
      [...STEP_NAMES],
    );
    assert.ok(steps.every((s) => s.status === 'pending' && s.attempts === 0));
    assert.equal(log.current, null);
  });

  it('records times, attempts, summary, actor and evidence', () => {
    log.start('membership', 'reading members');
    assert.equal(log.current, 'membership');
    log.succeed('membership', 'all members read', { before: [] });
    const record = log.get('membership');
    assert.equal(record.status, 'succeeded');
    assert.equal(record.attempts, 1);
    assert.ok(record.startedAt && record.endedAt && record.startedAt < record.endedAt);
    assert.deepEqual(record.evidence, { before: [] });
    log.start('traffic-reroute', 'again');
    log.fail('traffic-reroute', 'BadRequest');
    log.start('traffic-reroute', 'retry');
    assert.equal(log.get('traffic-reroute').attempts, 2);
    assert.equal(log.get('traffic-reroute').endedAt, undefined);
  });

  it('merges evidence', () => {
    log.addEvidence('await-recovery', { polls: 1 });
    log.addEvidence('await-recovery', { trend: 'rising' });
    assert.deepEqual(log.get('await-recovery').evidence, { polls: 1, trend: 'rising' });
  });

  it('names a waiting step as current before a running one', () => {
    log.start('await-recovery', 'watching');
    log.wait('approval-unlink', 'waiting for approvers');
    assert.equal(log.current, 'approval-unlink');
  });

  it('keeps refused attempts on the step', () => {
    log.refuse('approval-unlink', {
      by: 'mallory (unverified)',
      action: 'approve',
      via: 'decide',
      reason: 'no',
      at: 't',
    });
    assert.equal(log.get('approval-unlink').refusedAttempts?.[0]?.by, 'mallory (unverified)');
    assert.equal(log.get('approval-unlink').refusedTotal, 1);
  });

  it('keeps the first refused attempts of a step and counts the rest', () => {
    for (let i = 0; i < MAX_REFUSALS_KEPT + 15; i++) {
      log.refuse('approval-unlink', { by: `p${i}`, action: 'approve', via: 'signal', reason: 'no', at: 't' });
    }
    const record = log.get('approval-unlink');
    assert.equal(MAX_REFUSALS_KEPT, 20);
    assert.equal(record.refusedAttempts?.length, MAX_REFUSALS_KEPT);
    assert.equal(record.refusedTotal, MAX_REFUSALS_KEPT + 15);
    assert.deepEqual(record.refusedAttempts?.map((r) => r.by).slice(0, 2), ['p0', 'p1']);
    const snapshot = log.snapshot().find((s) => s.step === 'approval-unlink');
    assert.equal(snapshot?.refusedAttempts?.length, MAX_REFUSALS_KEPT);
    snapshot?.refusedAttempts?.pop();
    assert.equal(log.get('approval-unlink').refusedAttempts?.length, MAX_REFUSALS_KEPT, 'a snapshot is a copy');
  });

  it('marks what never ran as skipped, with the reason', () => {
    log.start('await-recovery', 'watching');
    log.finishRemaining('aborted by sre-lead');
    const steps = log.snapshot();
    assert.equal(steps.find((s) => s.step === 'await-recovery')?.status, 'skipped');
    assert.equal(steps.find((s) => s.step === 'rejoin')?.summary, 'not run: aborted by sre-lead');
    assert.equal(steps.find((s) => s.step === 'await-recovery')?.summary, 'interrupted: aborted by sre-lead');
    assert.equal(log.current, null);
  });
});
