import type { GroupMember } from '../contract/readiness';
import type { MemberSnapshot } from '../contract/types';

/**
 * Reads of group membership. Workflows proxy these by type only; the implementation against Azure
 * (or the emulator) lives beside this file.
 */
export interface MembershipActivities {
  /**
   * Reads one member's database: states, linkedDatabases and the settings that must match across the group.
   * Resolves with `reachable: false` when ARM cannot be reached for the member's region; throws (a retryable or
   * non-retryable ApplicationFailure of a contract failure type) for other errors.
   */
  describeMember(member: GroupMember): Promise<MemberSnapshot>;
}

/** Every activity the main worker registers. */
export type GeofailoverActivities = MembershipActivities;
