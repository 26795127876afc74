import assert from 'node:assert/strict';
import { ApprovalGate, escalationNotice, type GateRules } from '../../src/workflows/runbook/gate';
import { InterventionGate } from '../../src/workflows/runbook/intervention';

const RULES: GateRules = {
  group: 'leaderboard',
  approvers: ['sre-lead', 'sre-manager', 'data-owner'],
  requestedBy: 'sre-lead',
  quorum: 2,
};

function approve(approver: string, via: 'decide' | 'signal' = 'decide') {
  return { decision: 'approve' as const, approver, via, at: '2026-01-01T00:00:00.000Z' };
}
function reject(approver: string) {
  return { decision: 'reject' as const, approver, via: 'decide' as const, at: '2026-01-01T00:00:01.000Z' };
}

describe('approval gate (pure)', () => {
  let gate: ApprovalGate;
  beforeEach(() => {
    gate = new ApprovalGate('approval-unlink', 'approval-unlink', RULES, '2026-01-01T00:00:00.000Z', { why: 'x' });
  });

  it('needs a quorum of distinct approvers', () => {
    assert.equal(gate.vote(approve('sre-manager')).accepted, true);
    assert.equal(gate.decided, false);
    const again = gate.vote(approve('SRE-Manager'));
    assert.equal(again.accepted, false);
    assert.match(again.reason ?? '', /already voted/);
    assert.equal(gate.decided, false);
    assert.equal(gate.vote(approve('data-owner', 'signal')).accepted, true);
    assert.equal(gate.outcome, 'approved');
    assert.deepEqual(gate.approvals, ['sre-manager', 'data-owner']);
  });

  it('refuses the requester (four-eyes) and says who can approve instead', () => {
    const result = gate.vote(approve('sre-lead'));
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /four-eyes/);
    assert.match(result.reason ?? '', /sre-manager/);
    assert.equal(gate.votes.length, 0);
  });

  it('refuses a name that is not an approver of the group', () => {
    const result = gate.vote(approve('mallory'));
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /mallory is not an approver of group leaderboard/);
  });

  it('lets one authorized reject stop the gate, and refuses votes after a decision', () => {
    assert.equal(gate.vote(approve('sre-manager')).accepted, true);
    assert.equal(gate.vote(reject('data-owner')).accepted, true);
    assert.equal(gate.outcome, 'rejected');
    const late = gate.vote(approve('data-owner'));
    assert.equal(late.accepted, false);
    assert.match(late.reason ?? '', /already decided \(rejected/);
  });

  it('lets the requester reject when they are an approver (stopping is always safe)', () => {
    assert.equal(gate.vote(reject('sre-lead')).accepted, true);
    assert.equal(gate.outcome, 'rejected');
  });

  it('shows who may still approve while open', () => {
    gate.vote(approve('sre-manager'));
    assert.deepEqual(gate.openGate().eligibleApprovers, ['data-owner']);
    assert.deepEqual(gate.openGate().approvals, ['sre-manager']);
    assert.equal(gate.record().votes.length, 1);
  });

  it('builds an escalation notice that names the gate and how to approve', () => {
    const notice = escalationNotice(gate, {
      workflowId: 'failover/leaderboard',
      group: 'leaderboard',
      region: 'eastus',
    });
    assert.equal(notice.body.gate, 'approval-unlink');
    assert.equal(notice.body.workflowId, 'failover/leaderboard');
    const commands = notice.body.howToAnswer as string[];
    assert.ok(commands.includes('geofailover approve leaderboard --by NAME'), commands.join('\n'));
    assert.ok(
      commands.includes(
        `temporal workflow signal --workflow-id failover/leaderboard --name approve --input '{"approver":"NAME"}'`,
      ),
      commands.join('\n'),
    );
    assert.match(notice.message, /approval-unlink/);
    assert.match(notice.message, /failover\/leaderboard/);
  });
});

describe('intervention gate (pure)', () => {
  const failure = { type: 'AzureBadRequest', message: 'BadRequest: endpoint name invalid' };
  let gate: InterventionGate;
  beforeEach(() => {
    gate = new InterventionGate('traffic-reroute', failure, { ...RULES, quorum: 1 }, '2026-01-01T00:00:00.000Z');
  });

  it('is named after the step and carries the failure', () => {
    assert.equal(gate.name, 'intervention:traffic-reroute');
    assert.deepEqual((gate.openGate().request as { failure: unknown }).failure, failure);
  });

  it('retries on `intervene retry`', () => {
    assert.equal(gate.intervene({ action: 'retry', by: 'sre-lead', at: 't' }).accepted, true);
    assert.equal(gate.outcome, 'retry');
  });

  it('refuses an intervention from someone who is neither the requester nor an approver', () => {
    const result = gate.intervene({ action: 'retry', by: 'mallory', at: 't' });
    assert.equal(result.accepted, false);
    assert.equal(gate.decided, false);
  });

  it('needs an approval before it skips', () => {
    assert.equal(gate.intervene({ action: 'skip', by: 'sre-lead', at: 't' }).accepted, true);
    assert.equal(gate.decided, false, 'a skip request alone does not skip');
    assert.equal(gate.openGate().skipRequestedBy, 'sre-lead');
    assert.equal(gate.vote(approve('sre-lead')).accepted, false, 'the requester cannot approve the skip');
    assert.equal(gate.vote(approve('data-owner')).accepted, true);
    assert.equal(gate.outcome, 'skipped');
  });

  it('refuses approvals before a skip is asked for', () => {
    const result = gate.vote(approve('data-owner'));
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /intervene/);
  });

  it('goes back to waiting for an answer when the skip is rejected', () => {
    gate.intervene({ action: 'skip', by: 'sre-lead', at: 't' });
    assert.equal(gate.vote(reject('data-owner')).accepted, true);
    assert.equal(gate.decided, false);
    assert.equal(gate.openGate().skipRequestedBy, undefined);
    assert.equal(gate.intervene({ action: 'abort', by: 'sre-lead', at: 't' }).accepted, true);
    assert.equal(gate.outcome, 'aborted');
    assert.equal(gate.record().interventions?.length, 2);
    assert.equal(gate.record().votes.length, 1);
  });
});
