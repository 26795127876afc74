// approval-rejoin and rejoin: force-link (or recreate) an unlinked member after its gate, or, when nothing
// was unlinked, wait for the group to resynchronise by itself; either way every member must list every
// other as Linked.
import { condition } from '@temporalio/workflow';
import type { MemberSnapshot } from '../../contract/types';
import { formatMs } from './durations';
import { ApprovalGate } from './gate';
import { linkProblems, memberStateProblems } from './group-checks';
import { StepFailure } from './intervention';
import { now, RunbookStop, type Runbook } from './runbook';

/** Polls every member until each lists every other as Linked; throws ResyncTimeout after `resyncTimeout`. */
async function waitForResync(rb: Runbook): Promise<MemberSnapshot[]> {
  const deadline = Date.now() + rb.resyncMs;
  for (;;) {
    const members = await rb.describeMembers(rb.allMembers);
    const problems = [...members.flatMap(memberStateProblems), ...linkProblems(members)];
    if (problems.length === 0) return members;
    if (Date.now() >= deadline) {
      throw new StepFailure(
        `the group did not resynchronise within ${formatMs(rb.resyncMs)}: ${problems.join('; ')}`,
        'ResyncTimeout',
        { after: members, problems },
      );
    }
    rb.steps.setSummary(
      'rejoin',
      `waiting for the group to resynchronise: ${problems.length} problem(s), first: ${problems[0]}`,
    );
    await condition(() => !!rb.state.abortRequest, Math.max(1, Math.min(rb.pollMs, deadline - Date.now())));
    rb.checkAbort();
  }
}

/** approval-rejoin (when the member was unlinked), then rejoin. */
export async function rejoinSteps(rb: Runbook): Promise<void> {
  const { state, steps } = rb;
  rb.checkAbort();
  rb.setPhase('rejoining');
  if (!state.unlinked) {
    steps.skip(
      'approval-rejoin',
      `${rb.region} was not unlinked: nothing to approve; the group resynchronises by itself`,
    );
    await rb.runStep(
      'rejoin',
      `waiting up to ${formatMs(rb.resyncMs)} for every member to list every other as Linked`,
      async () => {
        const after = await waitForResync(rb);
        return {
          summary: `the group resynchronised by itself: every member lists every other as Linked`,
          evidence: { after },
          value: undefined,
        };
      },
    );
    return;
  }

  const method = rb.group.rejoinMethod;
  const gate = new ApprovalGate(
    'approval-rejoin',
    'approval-rejoin',
    state.rules(rb.group.quorum.rejoin),
    now(),
    {
      member: rb.member,
      method,
      effect: `${rb.region}'s database data is discarded; it resynchronises from the group`,
    },
    state.nextGateInstance(),
    [rb.member.databaseId],
  );
  await rb.holdGate(
    gate,
    `waiting for ${gate.rules.quorum} approval(s) to rejoin ${rb.region} (${method}), discarding its data`,
  );
  rb.checkAbort();
  if (gate.outcome !== 'approved') {
    const who = gate.votes.find((v) => v.decision === 'reject')?.approver;
    const how = gate.outcome === 'rejected' ? `rejected by ${who}` : 'timed out after escalating';
    const summary =
      `approval-rejoin ${how}; stopped safely: ${rb.region} stays unlinked and its endpoint disabled, ` +
      'traffic stays on the survivors; rejoin later with rejoinRunbook';
    steps.fail('approval-rejoin', how);
    throw new RunbookStop('stopped', summary);
  }
  const approvers = gate.approvals.join(', ');
  steps.succeed('approval-rejoin', `approved by ${approvers}`, undefined, approvers);
  const run = await rb.runStep('rejoin', `rejoining ${rb.region} (${method}), then waiting for the links`, async () => {
    const result = await rb.acts.rejoinMember({
      databaseId: rb.member.databaseId,
      groupNickname: rb.groupNickname ?? rb.group.name,
      memberDatabaseIds: rb.allMembers.map((m) => m.databaseId),
      method,
      group: rb.group.name,
      authorization: rb.authorization(gate),
      ...(rb.tuning.lroPollIntervalMs !== undefined ? { pollIntervalMs: rb.tuning.lroPollIntervalMs } : {}),
    });
    const after = await waitForResync(rb);
    return {
      summary: `${rb.region} ${result.skipped ? 'was already linked' : `rejoined (${method})`}; every member lists every other as Linked`,
      evidence: { result, after, groupNickname: rb.groupNickname ?? rb.group.name },
      value: undefined,
    };
  });
  if (!run.skipped) state.unlinked = false;
}
