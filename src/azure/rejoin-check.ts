// Is a member already back in its geo-replication group? Decided from what the member and every other member
// report, so a rejoin never calls Azure again for a member that is already in (a retry, a resumed run, a rejoin done
// by hand). Pure: the rejoin activity and the runbook's rejoin step both use it.
import { sameLinkedId } from './resource-ids';

/** Link states of a member that is in the group: linking (resynchronising) or linked. */
export const IN_GROUP_LINK_STATES: readonly string[] = ['Linking', 'Linked'];

/** One member as ARM shows it; `exists: false` when the database does not exist, `reachable: false` when unread. */
export interface MemberView {
  id: string;
  name: string;
  reachable: boolean;
  exists: boolean;
  links: readonly { id: string; state?: string }[];
}

export interface RejoinCheck {
  /** every other member lists it, and it lists every other, as Linking or Linked: nothing to call */
  inGroup: boolean;
  /**
   * other members that list it back, in any state: it joined the group (force-linked or recreated into it), so it
   * is not a stale copy left by a force-unlink (which lists the others, but nobody lists it)
   */
  listedBy: { name: string; state: string }[];
  /** why it is not in the group ([] when it is) */
  problems: string[];
  /** the finding in words */
  summary: string;
}

function stateOf(view: MemberView, id: string): string | undefined {
  const link = view.links.find((l) => sameLinkedId(l.id, id));
  return link ? (link.state ?? 'Unknown') : undefined;
}

/** Where `member` stands in the group of `others`, as they and it report it. */
export function rejoinCheck(member: MemberView, others: readonly MemberView[]): RejoinCheck {
  const problems: string[] = [];
  const listedBy: RejoinCheck['listedBy'] = [];
  if (!member.reachable) problems.push(`${member.name} could not be read`);
  else if (!member.exists) problems.push(`${member.name} does not exist`);
  for (const other of others) {
    if (!other.reachable) {
      problems.push(`${other.name} could not be read`);
      continue;
    }
    const theirs = other.exists ? stateOf(other, member.id) : undefined;
    if (theirs !== undefined) listedBy.push({ name: other.name, state: theirs });
    if (!IN_GROUP_LINK_STATES.includes(theirs ?? '')) {
      problems.push(`${other.name} lists ${member.name} as ${theirs ?? 'nothing'}`);
    }
    if (member.reachable && member.exists) {
      const mine = stateOf(member, other.id);
      if (!IN_GROUP_LINK_STATES.includes(mine ?? '')) {
        problems.push(`${member.name} lists ${other.name} as ${mine ?? 'nothing'}`);
      }
    }
  }
  const inGroup = problems.length === 0;
  const summary = inGroup
    ? `${member.name} is in the group: it and every other member list each other as Linking or Linked`
    : `${member.name} is not in the group: ${problems.join('; ')}`;
  return { inGroup, listedBy, problems, summary };
}
