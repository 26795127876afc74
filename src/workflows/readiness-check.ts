import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { MembershipActivities } from '../contract/activities';
import type { GroupMember, ReadinessCheckInput, ReadinessReport } from '../contract/readiness';
import type { MemberSnapshot } from '../contract/types';
import { readActivityOptions } from './runbook/activity-options';
import { findGroupProblems } from './runbook/group-checks';

/**
 * `readinessCheck` (id `readiness/<group>`): could the group fail over right now? Reads every member in
 * parallel and reports each problem found; never fails because a member is unreachable — that is a finding.
 */
export async function readinessCheck(input: ReadinessCheckInput): Promise<ReadinessReport> {
  const { describeMember } = proxyActivities<MembershipActivities>(readActivityOptions(input.activityTimeouts));
  const members = await Promise.all(
    input.members.map(async (member) => {
      try {
        return await describeMember({ region: member.region, databaseId: member.databaseId });
      } catch (err) {
        if (isCancellation(err)) throw err;
        return unreachableSnapshot(member, err);
      }
    }),
  );
  const problems = findGroupProblems(members);
  return { group: input.group, ready: problems.length === 0, checkedAt: new Date().toISOString(), members, problems };
}

/** A member whose read still failed after its retries counts as unreachable, with the last error. */
function unreachableSnapshot(member: GroupMember, err: unknown): MemberSnapshot {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  let error: { code: string; message: string };
  if (cause instanceof TimeoutFailure) {
    // A timeout's own message is terse; the last attempt's failure says why. The SDK does not convert a
    // timeout's cause into an error, so read it from the failure as recorded in history.
    const lastMessage = cause.cause?.message ?? cause.failure?.cause?.message;
    const last = lastMessage ? `; last attempt: ${lastMessage}` : '';
    error = { code: 'ActivityTimedOut', message: `${cause.timeoutType} timeout${last}` };
  } else if (cause instanceof ApplicationFailure) {
    error = { code: cause.type ?? 'ApplicationFailure', message: cause.message };
  } else {
    error = { code: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
  }
  return { region: member.region, databaseId: member.databaseId, reachable: false, error };
}
