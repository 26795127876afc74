import assert from 'node:assert/strict';
import { workflowIds } from '../../src/contract/names';
import type { GroupDefinition } from '../../src/contract/runbook';
import { abortPayload, decisionPayload, regionRecoveredPayload, unlinkNowPayload } from '../../src/signing/payloads';
import { signAction } from '../../src/signing/sign-action';
import { ApprovalGate } from '../../src/workflows/runbook/gate';
import { RunbookState } from '../../src/workflows/runbook/runbook-state';
import { MAX_REFUSALS_KEPT } from '../../src/workflows/runbook/step-log';
import { OUTSIDER, personKey, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const RUN_ID = 'run-0001';

describe('runbook state behind the handlers (pure)', () => {
  let group: GroupDefinition;
  let workflowId: string;
  let state: RunbookState;
  beforeEach(() => {
    group = testGroup(['eastus', 'westeurope', 'southeastasia']);
    workflowId = workflowIds.failover(group.name);
    state = new RunbookState({
      groupName: group.name,
      region: 'eastus',
      workflowId,
      runId: RUN_ID,
      requestedBy: 'sre-lead',
    });
    state.setPolicy(policyFor(group));
  });

  /** What `actor` signs from the status the runbook shows now, as the CLI does. */
  const as = (actor: string) => ({ key: personKey(actor), actor, workflowId, status: state.status() });

  function openUnlinkGate(quorum = 1): ApprovalGate {
    const gate = new ApprovalGate(
      'approval-unlink',
      'approval-unlink',
      state.rules(quorum),
      't0',
      {},
      state.nextGateInstance(),
      [group.members.eastus!],
    );
    state.gate = gate;
    return gate;
  }

  it('refuses a decision when no gate is open, and keeps the refusal in the step log', () => {
    state.steps.start('traffic-reroute', 'rerouting');
    const result = state.vote({ approver: 'sre-manager' }, 'approve', 'decide');
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /no gate is open \(current step: traffic-reroute\)/);
    const refused = state.steps.get('traffic-reroute').refusedAttempts?.[0];
    assert.equal(refused?.by, 'sre-manager (unverified)');
    assert.equal(refused?.via, 'decide');
    assert.ok(refused?.at);
  });

  it('refuses a decision meant for another gate than the open one', () => {
    openUnlinkGate();
    const result = state.vote({ approver: 'sre-manager', gate: 'approval-rejoin' }, 'approve', 'signal');
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /gate approval-rejoin is not open \(the open gate is approval-unlink\)/);
    assert.equal(state.gate?.decided, false);
  });

  it('names a gate that was already decided', () => {
    const gate = openUnlinkGate();
    gate.vote({ decision: 'approve', approver: 'data-owner', via: 'decide', at: 't1' });
    state.gate = undefined;
    state.closedGates.push(gate);
    const late = state.vote({ approver: 'sre-manager', gate: 'approval-unlink' }, 'approve', 'decide');
    assert.match(late.reason ?? '', /already decided \(approved at t1\)/);
    assert.equal(state.steps.get('approval-unlink').refusedAttempts?.length, 1);
  });

  it('accepts a signed approval by its signer, once', () => {
    const gate = openUnlinkGate(2);
    const payload = decisionPayload(as('sre-manager'), 'approve');
    const first = state.vote(payload, 'approve', 'decide');
    assert.equal(first.accepted, true, first.reason);
    assert.deepEqual(gate.approvals, ['sre-manager']);
    assert.equal(gate.votes[0]?.fingerprint?.startsWith('SHA256:'), true);
    assert.deepEqual(gate.votes[0]?.proof, payload.proof);
    const again = state.vote(payload, 'approve', 'signal');
    assert.equal(again.accepted, false);
    assert.match(again.reason ?? '', /replayed/);
    assert.deepEqual(gate.approvals, ['sre-manager']);
  });

  it('refuses unsigned, outsider and borrowed-name approvals, recording who really asked', () => {
    const gate = openUnlinkGate();
    const unsigned = state.vote({ approver: 'sre-manager' }, 'approve', 'decide');
    assert.match(unsigned.reason ?? '', /^unsigned/);
    const outsider = state.vote(decisionPayload(as(OUTSIDER), 'approve'), 'approve', 'decide');
    assert.match(outsider.reason ?? '', /"mallory" is not a person in the worker's configuration/);
    const borrowed = { ...decisionPayload(as(OUTSIDER), 'approve'), approver: 'sre-manager' };
    const forged = state.vote(borrowed, 'approve', 'signal');
    assert.match(forged.reason ?? '', /not a person/);
    const wrongName = { ...decisionPayload(as('data-owner'), 'approve'), approver: 'sre-manager' };
    const mismatch = state.vote(wrongName, 'approve', 'signal');
    assert.match(mismatch.reason ?? '', /the payload names sre-manager but the statement is signed by data-owner/);
    assert.equal(gate.decided, false);
    assert.deepEqual(
      state.steps.get('approval-unlink').refusedAttempts?.map((r) => r.by),
      ['sre-manager (unverified)', 'mallory (unverified)', 'sre-manager (unverified)', 'data-owner'],
    );
  });

  it('refuses the requester’s own signed approval (four-eyes) and a key the policy does not list', () => {
    const gate = openUnlinkGate();
    const own = state.vote(decisionPayload(as('sre-lead'), 'approve'), 'approve', 'decide');
    assert.equal(own.accepted, false);
    assert.match(own.reason ?? '', /sre-lead requested this incident and cannot approve it \(four-eyes rule\)/);
    // The signature verified, so the record names the signer (see the report: it is marked unverified today).
    assert.match(state.steps.get('approval-unlink').refusedAttempts?.[0]?.by ?? '', /^sre-lead\b/);
    const stranger = { ...as('sre-manager'), key: personKey('sre-manager-laptop') };
    const unknownKey = state.vote(decisionPayload(stranger, 'approve'), 'approve', 'decide');
    assert.match(unknownKey.reason ?? '', /signed by key SHA256:\S+, which is not one of "sre-manager"'s keys/);
    assert.equal(gate.decided, false);
  });

  it('refuses a statement for another run, gate instance or target', () => {
    const gate = openUnlinkGate();
    const base = {
      action: 'approve' as const,
      actor: 'sre-manager',
      workflowId,
      runId: RUN_ID,
      gate: gate.name,
      gateInstance: gate.instance,
      targets: gate.targets,
    };
    const key = personKey('sre-manager');
    const vote = (proof: unknown): string =>
      state.vote({ approver: 'sre-manager', proof }, 'approve', 'decide').reason ?? '';
    assert.match(vote(signAction(key, { ...base, runId: 'run-0002' })), /for run "run-0002", not this run/);
    assert.match(vote(signAction(key, { ...base, gateInstance: 7 })), /for gate instance 7, not 1/);
    assert.match(vote(signAction(key, { ...base, targets: ['/subscriptions/x'] })), /does not name the target/);
    assert.match(vote(signAction(key, { ...base, action: 'reject' })), /is for "reject"/);
    assert.equal(gate.decided, false);
    assert.equal(
      state.vote({ approver: 'sre-manager', proof: signAction(key, base) }, 'approve', 'decide').accepted,
      true,
    );
  });

  it('holds a commander’s action sent before the policy is loaded, and verifies it once it is', () => {
    const fresh = new RunbookState({
      groupName: group.name,
      region: 'eastus',
      workflowId,
      runId: RUN_ID,
      requestedBy: '',
    });
    assert.deepEqual(fresh.group.approvers, []);
    fresh.abort(abortPayload(as('sre-manager'), 'not a commander'));
    fresh.abort({ by: 'sre-lead', reason: 'x', proof: abortPayload(as('sre-lead'), 'x').proof });
    assert.equal(fresh.abortRequest, undefined, 'nothing applies before the policy is known');
    fresh.setPolicy(policyFor(group));
    const abortRequest = (s: RunbookState): RunbookState['abortRequest'] => s.abortRequest;
    assert.equal(abortRequest(fresh)?.by, 'sre-lead');
    const refused = fresh.steps.get(fresh.steps.latest).refusedAttempts ?? [];
    assert.match(refused[0]?.reason ?? '', /not a commander/);
  });

  it('records a refused abort from a stranger and an approver, and accepts a commander', () => {
    state.abort(abortPayload(as(OUTSIDER), 'x'));
    state.abort({ by: 'sre-lead', reason: 'x' });
    state.abort(abortPayload(as('sre-manager'), 'x'));
    assert.equal(state.abortRequest, undefined);
    state.abort(abortPayload(as('sre-lead'), 'drill over'));
    const abortRequest = (s: RunbookState): RunbookState['abortRequest'] => s.abortRequest;
    assert.equal(abortRequest(state)?.by, 'sre-lead');
    assert.equal(abortRequest(state)?.reason, 'drill over');
    const refused = state.steps.get(state.steps.latest).refusedAttempts ?? [];
    assert.deepEqual(
      refused.map((r) => r.by),
      ['mallory (unverified)', 'sre-lead (unverified)', 'sre-manager (unverified)'],
    );
    assert.match(refused[1]?.reason ?? '', /^unsigned/);
    assert.match(refused[2]?.reason ?? '', /sre-manager is not a commander of group/);
  });

  it('accepts regionRecovered and unlinkNow only from a commander', () => {
    state.regionRecovered(regionRecoveredPayload(as('sre-manager'), 'back'));
    state.unlinkNow(unlinkNowPayload(as('data-owner'), 'now'));
    assert.equal(state.recovered, undefined);
    assert.equal(state.trigger.firing, undefined);
    // read through functions: the assertions above narrowed the fields to undefined
    const firing = (s: RunbookState): RunbookState['trigger']['firing'] => s.trigger.firing;
    const recovered = (s: RunbookState): RunbookState['recovered'] => s.recovered;
    state.unlinkNow(unlinkNowPayload(as('sre-lead'), 'down for days'));
    assert.equal(firing(state)?.by, 'sre-lead');
    state.regionRecovered(regionRecoveredPayload(as('sre-lead'), 'back'));
    // regionRecovered asks the recovery watch for a check now; only passing checks make the region recovered.
    assert.equal(recovered(state), undefined);
    assert.deepEqual(state.recovery.pendingAskedBy, ['sre-lead']);
    assert.deepEqual(
      state.recovery.requests.map((r) => [r.by, r.comment]),
      [['sre-lead', 'back']],
    );
  });

  it('refuses unlinkNow and regionRecovered once recovery has ended', () => {
    state.recoveryOpen = false;
    state.unlinkNow(unlinkNowPayload(as('sre-lead'), 'now'));
    state.regionRecovered(regionRecoveredPayload(as('sre-lead')));
    assert.equal(state.trigger.firing, undefined);
    assert.equal(state.recovered, undefined);
    assert.equal(state.recovery.requestsTotal, 0);
    assert.equal(state.steps.get('approval-unlink').refusedAttempts?.[0]?.action, 'unlinkNow');
  });

  it('records a malformed signal', () => {
    state.malformed('approve', undefined, 'approver must be a string', 'signal');
    const refused = state.steps.get('validate-input').refusedAttempts?.[0];
    assert.equal(refused?.by, '(unknown)');
    assert.match(refused?.reason ?? '', /malformed payload/);
  });

  it('keeps refusals bounded: the first ones with short fields, and a count of all', () => {
    const name = 'x'.repeat(1_500_000);
    for (let i = 0; i < 30; i++) state.vote({ approver: name, comment: name, gate: name }, 'approve', 'signal');
    const record = state.steps.get('validate-input');
    assert.equal(record.refusedAttempts?.length, MAX_REFUSALS_KEPT);
    assert.equal(record.refusedTotal, 30);
    for (const r of record.refusedAttempts ?? []) {
      assert.ok(r.by.length <= 100, `by: ${r.by.length}`);
      assert.ok((r.gate ?? '').length <= 100, `gate: ${r.gate?.length}`);
      assert.ok(r.reason.length <= 500, `reason: ${r.reason.length}`);
    }
    assert.ok(JSON.stringify(state.status()).length < 100_000);
  });

  it('shows the open gate, its instance and targets, and the run in the status', () => {
    const gate = openUnlinkGate();
    const status = state.status();
    assert.equal(status.phase, 'awaiting-approval');
    assert.equal(status.currentStep, 'approval-unlink');
    assert.equal(status.runId, RUN_ID);
    assert.equal(status.requestedBy, 'sre-lead');
    assert.equal(status.policyDigest, policyFor(group).digest);
    assert.equal(status.openGate?.gate, 'approval-unlink');
    assert.equal(status.openGate?.instance, gate.instance);
    assert.deepEqual(status.openGate?.targets, [group.members.eastus]);
    assert.ok(
      status.openGate?.howToAnswer?.some((c) => c.includes(`temporal workflow signal --workflow-id ${workflowId}`)),
    );
  });
});
