// approval-rejoin and rejoin: force-link (or recreate) an unlinked member after its gate, or, when nothing
// was unlinked, wait for the group to resynchronise by itself; either way every member must list every
// other as Linked.
import { condition, patched } from '@temporalio/workflow';
import type { GeoReplicationActivities } from '../../contract/activities';
import { rejoinCheck, type MemberView, type RejoinCheck } from '../../azure/rejoin-check';
import { FAILURE_TYPES } from '../../contract/failures';
import type { MemberSnapshot } from '../../contract/types';
import { formatMs } from './durations';
import { ApprovalGate } from './gate';
import { alreadyDone } from './attempts';
import { linkProblems, memberStateProblems } from './group-checks';
import { StepFailure } from './intervention';
import { now, RunbookStop, type Runbook, type StepDone } from './runbook';

/** Polls every member until each lists every other as Linked; throws ResyncTimeout after `resyncTimeout`. */
async function waitForResync(rb: Runbook): Promise<MemberSnapshot[]> {
  const deadline = Date.now() + rb.resyncMs;
  for (;;) {
    const members = await rb.describeMembers('rejoin', rb.allMembers);
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

/**
 * Patch id: the rejoin step checks the group before calling rejoinMember, and verifies apart from the call, so an
 * intervention `retry` after a failed verification re-checks and re-verifies instead of calling force-link again.
 * Runs started before it took the old path (call, then verify, on every attempt); see README "Replay tests".
 */
export const REJOIN_CHECKS_BEFORE_ACTING_PATCH = 'rejoin-checks-before-acting';

/** What the rejoin check sees of one member read (an unreadable member is never taken as in the group). */
function viewOf(member: MemberSnapshot): MemberView {
  return {
    id: member.databaseId,
    name: member.region,
    reachable: member.reachable || member.error?.code === FAILURE_TYPES.azureNotFound,
    exists: member.reachable,
    links: member.linkedDatabases ?? [],
  };
}

/** Where the rejoining member stands, as it and every other member report it. */
export function rejoinCheckOf(region: string, members: readonly MemberSnapshot[]): RejoinCheck {
  const views = members.map(viewOf);
  const i = members.findIndex((m) => m.region === region);
  const mine = views[i] ?? { id: '', name: region, reachable: false, exists: false, links: [] };
  return rejoinCheck(
    mine,
    views.filter((_, j) => j !== i),
  );
}

function rejoinInput(rb: Runbook, gate: ApprovalGate): Parameters<GeoReplicationActivities['rejoinMember']>[0] {
  return {
    databaseId: rb.member.databaseId,
    groupNickname: rb.groupNickname ?? rb.group.name,
    memberDatabaseIds: rb.allMembers.map((m) => m.databaseId),
    method: rb.group.rejoinMethod,
    group: rb.group.name,
    authorization: rb.authorization(gate),
    ...(rb.tuning.lroPollIntervalMs !== undefined ? { pollIntervalMs: rb.tuning.lroPollIntervalMs } : {}),
  };
}

/**
 * One attempt of rejoin: check (every member read), call rejoinMember only when the member is not in the group
 * (Linking or Linked, as it and every other member report it), then verify: every member lists every other as
 * Linked within resyncTimeout. A retry after a failed verification finds the member in the group and only
 * verifies again; the activity checks again before it acts, too.
 */
async function rejoinAttempt(rb: Runbook, gate: ApprovalGate): Promise<StepDone<undefined>> {
  const method = rb.group.rejoinMethod;
  const check = rejoinCheckOf(rb.region, await rb.describeMembers('rejoin', rb.allMembers));
  let result: Awaited<ReturnType<GeoReplicationActivities['rejoinMember']>> | undefined;
  if (check.inGroup) {
    rb.steps.setSummary('rejoin', `${check.summary}; nothing to call, verifying the links`);
  } else {
    rb.steps.setSummary('rejoin', `${check.summary}; calling ${method}`);
    result = await rb.actsFor('rejoin').rejoinMember(rejoinInput(rb, gate));
  }
  // Recorded at once: a run stopped from here on left the member back in the group (see left-state.ts).
  rb.steps.addEvidence('rejoin', { memberInGroup: true });
  const after = await waitForResync(rb);
  const how =
    result === undefined
      ? `was already in the group, nothing was called (${check.summary})`
      : result.skipped
        ? result.foundAtAttempt === undefined
          ? `needed no ${method} call (${result.reason ?? 'already done'})`
          : `${alreadyDone('in the group', result.foundAtAttempt)} (${result.reason ?? 'already done'})`
        : `rejoined (${method})`;
  return {
    summary: `${rb.region} ${how}; every member lists every other as Linked`,
    evidence: {
      check,
      called: result !== undefined,
      ...(result !== undefined ? { result } : {}),
      after,
      groupNickname: rb.groupNickname ?? rb.group.name,
    },
    value: undefined,
  };
}

/** The attempt of runs started before REJOIN_CHECKS_BEFORE_ACTING_PATCH: call, then verify, every time. */
async function callThenVerify(rb: Runbook, gate: ApprovalGate): Promise<StepDone<undefined>> {
  const method = rb.group.rejoinMethod;
  const result = await rb.actsFor('rejoin').rejoinMember(rejoinInput(rb, gate));
  const after = await waitForResync(rb);
  return {
    summary: `${rb.region} ${result.skipped ? 'was already linked' : `rejoined (${method})`}; every member lists every other as Linked`,
    evidence: { result, after, groupNickname: rb.groupNickname ?? rb.group.name },
    value: undefined,
  };
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
  const run = await rb.runStep('rejoin', `rejoining ${rb.region} (${method}), then waiting for the links`, () =>
    patched(REJOIN_CHECKS_BEFORE_ACTING_PATCH) ? rejoinAttempt(rb, gate) : callThenVerify(rb, gate),
  );
  if (!run.skipped) state.unlinked = false;
}
