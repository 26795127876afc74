// Anyone who can reach the namespace can send any JSON as a signal or update payload: the checks the handlers run
// never throw, and what passes them never makes the runbook state throw either (a throw there would fail the
// workflow task over and over). Property-based, over arbitrary JSON-like values and huge strings.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { workflowIds } from '../../src/contract/names';
import {
  byPayloadProblem,
  decisionPayloadProblem,
  interventionPayloadProblem,
} from '../../src/workflows/runbook/handlers';
import { RunbookState } from '../../src/workflows/runbook/runbook-state';
import { MAX_REFUSALS_KEPT } from '../../src/workflows/runbook/step-log';
import { policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

// Long enough to show that nothing echoes a value unbounded; the 1.5 MB case has a test of its own (runbook-trust).
const huge = 'x'.repeat(100_000);
const field = fc.oneof(
  fc.anything(),
  fc.string(),
  fc.constantFrom('approve', 'reject', 'retry', 'skip', 'abort', 'sre-lead', 'approval-unlink', huge),
);
const proof = fc.oneof(
  fc.anything(),
  fc.record({
    statement: fc.oneof(fc.string(), fc.constant(huge), fc.json()),
    signature: fc.oneof(fc.string(), fc.constant(huge)),
  }),
);
const payload = fc.oneof(
  fc.anything(),
  fc.record(
    { decision: field, approver: field, by: field, action: field, comment: field, reason: field, gate: field, proof },
    { requiredKeys: [] },
  ),
);

function freshState(): RunbookState {
  const group = testGroup(['eastus', 'westeurope', 'southeastasia']);
  const state = new RunbookState({
    groupName: group.name,
    region: 'eastus',
    workflowId: workflowIds.failover(group.name),
    runId: 'run-0001',
    requestedBy: 'sre-lead',
  });
  state.setPolicy(policyFor(group));
  return state;
}

describe('signal and update payloads from anyone (property-based)', () => {
  it('the payload checks never throw and answer in one bounded sentence', () => {
    fc.assert(
      fc.property(payload, (p) => {
        for (const problem of [
          decisionPayloadProblem(p, true),
          decisionPayloadProblem(p, false),
          byPayloadProblem(p, true),
          interventionPayloadProblem(p),
        ]) {
          if (problem !== undefined) assert.ok(problem.length <= 300, problem.slice(0, 100));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('what passes the checks is refused or applied, never thrown on, and every stored refusal stays short', () => {
    const state = freshState();
    fc.assert(
      fc.property(payload, (p) => {
        const q = p as never;
        if (!decisionPayloadProblem(p, true)) state.vote(q, (p as { decision: 'approve' }).decision, 'decide');
        if (!decisionPayloadProblem(p, false)) state.vote(q, 'approve', 'signal');
        if (!interventionPayloadProblem(p)) state.intervene(q);
        if (!byPayloadProblem(p, false)) state.regionRecovered(q);
        if (!byPayloadProblem(p, true)) {
          state.unlinkNow(q);
          state.abort(q);
        }
        state.malformed('approve', (p as { approver?: unknown })?.approver, 'x', 'signal');
      }),
      { numRuns: 300 },
    );
    assert.equal(state.abortRequest, undefined, 'nothing unsigned was applied');
    const status = JSON.stringify(state.status());
    assert.ok(status.length < 200_000, `the status stays small (${status.length} characters)`);
    for (const step of state.status().steps) {
      assert.ok((step.refusedAttempts?.length ?? 0) <= MAX_REFUSALS_KEPT);
      for (const r of step.refusedAttempts ?? []) {
        assert.ok(
          r.by.length <= 120 && r.reason.length <= 500 && r.action.length <= 80,
          JSON.stringify(r).slice(0, 200),
        );
      }
    }
  });
});
