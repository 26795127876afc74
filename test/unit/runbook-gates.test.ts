import assert from 'node:assert/strict';
import { ApprovalGate, escalationNotice, type GateRules } from '../../src/workflows/runbook/gate';
import { InterventionGate } from '../../src/workflows/runbook/intervention';

const RULES: GateRules = {
  group: 'leaderboard',
  approvers: ['sre-lead', 'sre-manager', 'data-owner'],
  requestedBy: 'sre-lead',
  quorum: 2,
};
/** who may answer an intervention gate: the group's commanders and approvers */
const ANSWERERS = ['sre-lead', 'sre-manager', 'data-owner'];
const DB =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/redis-eastus/databases/default';

function approve(approver: string, via: 'decide' | 'signal' = 'decide') {
  return { decision: 'approve' as const, approver, via, at: '2026-01-01T00:00:00.000Z' };
}
function reject(approver: string) {
  return { decision: 'reject' as const, approver, via: 'decide' as const, at: '2026-01-01T00:00:01.000Z' };
}

describe('approval gate (pure)', () => {
  let gate: ApprovalGate;
  beforeEach(() => {
    gate = new ApprovalGate('approval-unlink', 'approval-unlink', RULES, '2026-01-01T00:00:00.000Z', { why: 'x' }, 3, [
      DB,
    ]);
  });

  it('needs a quorum of distinct approvers', () => {
    assert.equal(gate.vote(approve('sre-manager')).accepted, true);
    assert.equal(gate.decided, false);
    const again = gate.vote(approve('sre-manager', 'signal'));
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

  it('compares names exactly: another spelling of an approver is nobody', () => {
    const result = gate.vote(approve('SRE-Manager'));
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /SRE-Manager is not an approver of group leaderboard/);
    assert.equal(gate.votes.length, 0);
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

  it('shows who may still approve while open, and what a signed decision must name', () => {
    gate.vote(approve('sre-manager'));
    const open = gate.openGate();
    assert.deepEqual(open.eligibleApprovers, ['data-owner']);
    assert.deepEqual(open.approvals, ['sre-manager']);
    assert.equal(open.instance, 3);
    assert.deepEqual(open.targets, [DB]);
    const record = gate.record();
    assert.equal(record.votes.length, 1);
    assert.equal(record.instance, 3);
    assert.deepEqual(record.targets, [DB]);
  });

  it('hands the destructive activity only the signed approvals', () => {
    const proof = { statement: '{}', signature: 'sig' };
    gate.vote({ ...approve('sre-manager'), proof });
    assert.deepEqual(gate.approvalProofs, [proof]);
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
    assert.ok(commands.includes('geofailover approve leaderboard --key KEY_FILE'), commands.join('\n'));
    assert.ok(
      commands.includes(
        'geofailover approve leaderboard --key KEY_FILE --print-payload > approve.json && ' +
          'temporal workflow signal --workflow-id failover/leaderboard --name approve --input-file approve.json',
      ),
      commands.join('\n'),
    );
    assert.deepEqual(notice.body.waitingFor, '2 more approval(s) from sre-manager, data-owner');
    assert.match(notice.message, /approval-unlink/);
    assert.match(notice.message, /failover\/leaderboard/);
  });
});

describe('intervention gate (pure)', () => {
  const failure = { type: 'AzureBadRequest', message: 'BadRequest: endpoint name invalid' };
  let gate: InterventionGate;
  beforeEach(() => {
    gate = new InterventionGate(
      'traffic-reroute',
      failure,
      { ...RULES, quorum: 1 },
      '2026-01-01T00:00:00.000Z',
      5,
      ANSWERERS,
    );
  });

  it('is named after the step and carries the failure, its instance and no targets', () => {
    assert.equal(gate.name, 'intervention:traffic-reroute');
    assert.deepEqual((gate.openGate().request as { failure: unknown }).failure, failure);
    assert.equal(gate.openGate().instance, 5);
    assert.deepEqual(gate.openGate().targets, []);
  });

  it('retries on `intervene retry`', () => {
    assert.equal(gate.intervene({ action: 'retry', by: 'sre-lead', at: 't' }).accepted, true);
    assert.equal(gate.outcome, 'retry');
  });

  it('refuses an intervention from someone who is neither a commander nor an approver', () => {
    const result = gate.intervene({ action: 'retry', by: 'mallory', at: 't' });
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /mallory is neither a commander nor an approver of group leaderboard/);
    assert.equal(gate.decided, false);
  });

  it('needs an approval before it skips', () => {
    assert.equal(gate.intervene({ action: 'skip', by: 'sre-lead', at: 't' }).accepted, true);
    assert.equal(gate.decided, false, 'a skip request alone does not skip');
    assert.equal(gate.openGate().skipRequestedBy, 'sre-lead');
    assert.equal(gate.vote(approve('sre-lead')).accepted, false, 'the requester cannot approve the skip');
    assert.equal(gate.vote(approve('data-owner')).accepted, true);
    assert.equal(gate.outcome, 'skipped');
    assert.deepEqual(gate.skipApprovers, ['data-owner']);
  });

  it('refuses the approval of whoever asked for the skip (four-eyes), even when they are not the requester', () => {
    assert.equal(gate.intervene({ action: 'skip', by: 'sre-manager', at: 't' }).accepted, true);
    assert.deepEqual(gate.openGate().eligibleApprovers, ['data-owner']);
    const own = gate.vote(approve('sre-manager'));
    assert.equal(own.accepted, false);
    assert.match(own.reason ?? '', /sre-manager asked for this skip and cannot approve it \(four-eyes rule\)/);
    assert.equal(gate.decided, false);
    assert.equal(gate.vote(approve('data-owner')).accepted, true);
    assert.equal(gate.outcome, 'skipped');
  });

  it('refuses a second skip while one waits for approval', () => {
    gate.intervene({ action: 'skip', by: 'sre-manager', at: 't' });
    const again = gate.intervene({ action: 'skip', by: 'data-owner', at: 't' });
    assert.equal(again.accepted, false);
    assert.match(again.reason ?? '', /already waits for approval/);
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
