// regionEvacuation's pure parts: the input check (any JSON, never throws), the plan from the worker's configuration,
// and the batch approval: one statement bound to the evacuation's run, counted by a destructive activity only for a
// run that Temporal says the evacuation started, only at approval-unlink, only for the databases it names.
import assert from 'node:assert/strict';
import { evacuationPlan } from '../../src/activities/evacuation';
import type { EvacuationChild } from '../../src/contract/evacuation';
import { workflowIds } from '../../src/contract/names';
import type { PolicyLookup } from '../../src/contract/policy';
import { destructiveRefusal } from '../../src/policy/authorize';
import { signAction } from '../../src/signing/sign-action';
import { verifyBatch } from '../../src/workflows/evacuation/batch';
import { EvacuationState } from '../../src/workflows/evacuation/state';
import { batchPayloadProblem, evacuationInputProblems } from '../../src/workflows/evacuation/validate';
import { personKey, policyFor, signedStart } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const REGION = 'eastus';
const EVACUATION = { workflowId: workflowIds.evacuation(REGION), runId: 'evac-run-1' };

function batchApproval(targets: string[], groups: string[], options: { runId?: string; gate?: string } = {}) {
  return signAction(personKey('data-owner'), {
    action: 'approve',
    actor: 'data-owner',
    workflowId: EVACUATION.workflowId,
    runId: options.runId ?? EVACUATION.runId,
    gate: options.gate ?? 'approval-unlink',
    targets,
    detail: { groups: groups.join(',') },
  });
}

describe('regionEvacuation: input, plan and batch approval', () => {
  const group = testGroup([REGION, 'westeurope', 'southeastasia']);
  const other = testGroup(['westeurope', 'southeastasia']);
  const policy = policyFor(group);
  const db = group.members[REGION]!;

  it('the input check names every problem and never throws, for any JSON', () => {
    const good = {
      region: REGION,
      reason: 'eastus is down',
      request: { statement: '{}', signature: 'sig' },
      starts: { [group.name]: { statement: '{}', signature: 'sig' } },
      concurrency: 5,
    };
    assert.deepEqual(evacuationInputProblems(good), []);
    for (const bad of [null, 1, 'x', [], {}, { ...good, region: 'East US' }, { ...good, concurrency: 0 }]) {
      assert.ok(evacuationInputProblems(bad).length > 0, JSON.stringify(bad));
    }
    assert.match(evacuationInputProblems({ ...good, members: {} }).join(';'), /unknown field/);
    assert.match(evacuationInputProblems({ ...good, starts: { 'no spaces': {} } }).join(';'), /not group names/);
    assert.match(evacuationInputProblems({ ...good, concurrency: 1e9 }).join(';'), /from 1 to 200/);
    assert.equal(batchPayloadProblem({ approver: 'a', groups: [], proof: {} }), 'groups must list 1 to 32 group names');
    assert.equal(batchPayloadProblem({ approver: 'a', groups: ['g'], proof: {} }), undefined);
  });

  it("the plan lists the configuration's groups with a member in the region, their people and the approval policy", () => {
    const lookups: Record<string, PolicyLookup> = {
      [group.name]: { found: true, policy },
      [other.name]: { found: true, policy: policyFor(other) },
    };
    const deps = { policies: (g: string) => lookups[g]!, groupNames: [group.name, other.name] };
    const plan = evacuationPlan(deps, REGION);
    assert.deepEqual(plan.groups, [{ group: group.name, databaseId: db }]);
    assert.equal(plan.unlinkApproval, 'per-group');
    assert.deepEqual(plan.roles[group.name]?.approvers, group.approvers);
    assert.ok(plan.people['data-owner']?.length);
    assert.equal(evacuationPlan({ ...deps, evacuation: { unlinkApproval: 'batch' } }, REGION).unlinkApproval, 'batch');
    assert.deepEqual(evacuationPlan({}, REGION).groups, [], 'a worker without a configuration plans nothing');
  });

  it('a batch approval verifies for the groups and databases it names, bound to the evacuation run', () => {
    const proof = batchApproval([db], [group.name]);
    const binding = { ...EVACUATION, targets: [db], groups: [group.name], nowMs: Date.now() };
    const ok = verifyBatch(proof, 'data-owner', policy, binding);
    assert.ok(typeof ok !== 'string', String(ok));
    assert.match(String(verifyBatch(proof, 'sre-manager', policy, binding)), /another approver/);
    assert.match(String(verifyBatch(proof, 'data-owner', policy, { ...binding, runId: 'other' })), /run/);
    assert.match(
      String(verifyBatch(proof, 'data-owner', policy, { ...binding, groups: [group.name, 'sessions'] })),
      /not every group/,
    );
  });

  it('a destructive activity counts a batch approval only for a run its evacuation started, and only at approval-unlink', () => {
    const run = { workflowId: workflowIds.failover(group.name), runId: 'child-run-1' };
    const request = signedStart(group, REGION, run.workflowId);
    const base = { policy, ...run, target: db, gate: 'approval-unlink' as const };
    const approvals = [batchApproval([db], [group.name])];
    assert.equal(
      destructiveRefusal({ ...base, authorization: { request, approvals }, evacuation: EVACUATION }),
      undefined,
    );
    assert.match(
      String(destructiveRefusal({ ...base, authorization: { request, approvals } })),
      /approval is not valid/,
      'without the evacuation Temporal names, the batch is not this run’s approval',
    );
    assert.match(
      String(
        destructiveRefusal({
          ...base,
          authorization: { request, approvals },
          evacuation: { ...EVACUATION, runId: 'another-evacuation' },
        }),
      ),
      /approval is not valid/,
    );
    assert.match(
      String(
        destructiveRefusal({
          ...base,
          authorization: { request, approvals: [batchApproval([other.members.westeurope!], [group.name])] },
          evacuation: EVACUATION,
        }),
      ),
      /approval is not valid/,
      'a batch that does not name this database',
    );
    assert.match(
      String(
        destructiveRefusal({
          ...base,
          gate: 'approval-rejoin',
          authorization: { request, approvals: [batchApproval([db], [group.name], { gate: 'approval-rejoin' })] },
          evacuation: EVACUATION,
        }),
      ),
      /approval is not valid/,
      'a batch covers unlink gates only',
    );
  });

  it('the concurrency bound counts only children before their traffic reroute; progress comes only for its own children', () => {
    const state = new EvacuationState(REGION, EVACUATION.workflowId, EVACUATION.runId, new Date(0).toISOString());
    const child = (name: string, phase: EvacuationChild['phase']): EvacuationChild => ({
      group: name,
      workflowId: workflowIds.failover(name),
      phase,
    });
    for (const [name, phase] of [
      ['a', 'starting'],
      ['b', 'validating'],
      ['c', 'rerouting'],
      ['d', 'queued'],
      ['e', 'awaiting-recovery'],
    ] as const) {
      state.children.set(name, child(name, phase));
    }
    assert.equal(state.inFlight, 3);
    // c's traffic moved (its RTO is known): it frees its place even before its phase changes.
    state.progress({ workflowId: workflowIds.failover('c'), phase: 'rerouting', rtoMs: 1200 });
    assert.equal(state.inFlight, 2);
    // b waits on a person at an intervention gate: it holds nobody up.
    state.progress({
      workflowId: workflowIds.failover('b'),
      phase: 'intervention',
      openGate: { gate: 'intervention:firewall', kind: 'intervention', step: 'firewall', instance: 1 },
    });
    assert.equal(state.inFlight, 1);
    assert.deepEqual(state.status().gatesOpen, [
      { workflowId: workflowIds.failover('b'), group: 'b', gate: 'intervention:firewall' },
    ]);
    // A report older than the last one of the same run arrives late: it is ignored.
    state.progress({ workflowId: workflowIds.failover('e'), runId: 'r1', seq: 5, phase: 'awaiting-approval' });
    state.progress({ workflowId: workflowIds.failover('e'), runId: 'r1', seq: 4, phase: 'rerouting' });
    assert.equal(state.children.get('e')!.phase, 'awaiting-approval');
    state.progress({ workflowId: workflowIds.failover('e'), runId: 'r1', seq: 6, phase: 'awaiting-recovery' });
    // Reports about anything else are ignored; so is a queued child's (it has not started).
    state.progress({ workflowId: workflowIds.failover('zzz'), phase: 'completed' });
    state.progress({ workflowId: workflowIds.failover('d'), phase: 'completed' });
    state.progress('garbage');
    assert.equal(state.children.get('d')!.phase, 'queued');
    assert.deepEqual(state.status().byPhase, {
      starting: 1,
      intervention: 1,
      rerouting: 1,
      queued: 1,
      'awaiting-recovery': 1,
    });
  });
});
