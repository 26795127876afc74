import assert from 'node:assert/strict';
import { ApprovalGate } from '../../src/workflows/runbook/gate';
import { RunbookState } from '../../src/workflows/runbook/runbook-state';
import { testGroup } from '../helpers/runbook-fakes';

describe('runbook state behind the handlers (pure)', () => {
  let state: RunbookState;
  beforeEach(() => {
    state = new RunbookState({
      group: testGroup(['eastus', 'westeurope', 'southeastasia']),
      region: 'eastus',
      requestedBy: 'sre-lead',
      workflowId: 'failover/leaderboard',
    });
  });

  function openUnlinkGate(): ApprovalGate {
    const gate = new ApprovalGate('approval-unlink', 'approval-unlink', state.rules(1), 't0');
    state.gate = gate;
    return gate;
  }

  it('refuses a decision when no gate is open, and keeps the refusal in the step log', () => {
    state.steps.start('traffic-reroute', 'rerouting');
    const result = state.vote({ approver: 'sre-manager' }, 'approve', 'decide');
    assert.equal(result.accepted, false);
    assert.match(result.reason ?? '', /no gate is open \(current step: traffic-reroute\)/);
    const refused = state.steps.get('traffic-reroute').refusedAttempts?.[0];
    assert.equal(refused?.by, 'sre-manager');
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

  it('records a refused abort from a stranger and accepts the requester', () => {
    state.abort({ by: 'mallory', reason: 'x' });
    assert.equal(state.abortRequest, undefined);
    state.abort({ by: 'sre-lead', reason: 'drill over' });
    const abortRequest = (s: RunbookState): RunbookState['abortRequest'] => s.abortRequest;
    assert.equal(abortRequest(state)?.by, 'sre-lead');
    const refused = state.steps.get(state.steps.latest).refusedAttempts ?? [];
    assert.equal(refused[0]?.by, 'mallory');
  });

  it('refuses unlinkNow and regionRecovered once recovery has ended', () => {
    state.recoveryOpen = false;
    state.unlinkNow({ by: 'sre-lead', reason: 'now' });
    state.regionRecovered({ by: 'sre-lead' });
    assert.equal(state.trigger.firing, undefined);
    assert.equal(state.recovered, undefined);
    assert.equal(state.steps.get('approval-unlink').refusedAttempts?.[0]?.action, 'unlinkNow');
  });

  it('records a malformed signal', () => {
    state.malformed('approve', undefined, 'approver must be a string', 'signal');
    const refused = state.steps.get('validate-input').refusedAttempts?.[0];
    assert.equal(refused?.by, '(unknown)');
    assert.match(refused?.reason ?? '', /malformed payload/);
  });

  it('shows the open gate and its phase in the status', () => {
    openUnlinkGate();
    const status = state.status();
    assert.equal(status.phase, 'awaiting-approval');
    assert.equal(status.currentStep, 'approval-unlink');
    assert.equal(status.openGate?.gate, 'approval-unlink');
    assert.ok(
      status.openGate?.howToAnswer?.some((c) =>
        c.startsWith('temporal workflow signal --workflow-id failover/leaderboard'),
      ),
    );
  });
});
