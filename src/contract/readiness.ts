import type { Duration } from '@temporalio/common';
import type { MemberSnapshot } from './types';

/** Timeouts of the read activities (describe a member, read memory); production defaults when omitted. */
export interface ReadActivityTimeouts {
  /** One attempt of one read. Default '30 seconds'. */
  startToClose?: Duration;
  /** All attempts of one read, retries included; after it the member counts as unreachable. Default '2 minutes'. */
  scheduleToClose?: Duration;
  /** Delay before the first retry; it doubles on each retry. Default '1 second'. */
  initialRetryInterval?: Duration;
}

/** One member of a geo-replication group, as the configuration names it. */
export interface GroupMember {
  region: string;
  /** ARM resource id of the member's database */
  databaseId: string;
}

/** Input of the `readinessCheck` workflow. */
export interface ReadinessCheckInput {
  group: string;
  members: GroupMember[];
  activityTimeouts?: ReadActivityTimeouts;
}

/** Result of the `readinessCheck` workflow. */
export interface ReadinessReport {
  group: string;
  /** true when `problems` is empty: the group could fail over right now */
  ready: boolean;
  /** ISO time of the check (workflow time) */
  checkedAt: string;
  /** one snapshot per configured member, in input order */
  members: MemberSnapshot[];
  /** one sentence per problem, naming the region(s) and values involved */
  problems: string[];
}
