// What an evacuation of one region acts on, from the worker's own configuration: every group with a member in
// the region, who holds which role in them, and the approval policy. Never from the workflow's input.
import type { EvacuationActivities, EvacuationPlan, UnlinkApprovalPolicy } from '../contract/evacuation';

export type { EvacuationActivities } from '../contract/evacuation';
import { MAX_EVACUATION_GROUPS } from '../contract/evacuation';
import type { PolicySource } from './policy';

export interface EvacuationDependencies {
  policies?: PolicySource;
  /** every group of the worker's configuration */
  groupNames?: readonly string[];
  /** the configuration's `evacuation` section */
  evacuation?: { unlinkApproval?: UnlinkApprovalPolicy };
}

export function evacuationPlan(deps: EvacuationDependencies, region: unknown): EvacuationPlan {
  const name = typeof region === 'string' ? region.slice(0, 40) : '';
  const plan: EvacuationPlan = {
    region: name,
    groups: [],
    unlinkApproval: deps.evacuation?.unlinkApproval ?? 'per-group',
    roles: {},
    people: {},
  };
  if (!deps.policies) return plan;
  for (const group of deps.groupNames ?? []) {
    const lookup = deps.policies(group);
    if (!lookup.found) continue;
    const databaseId = Object.hasOwn(lookup.policy.group.members, name) ? lookup.policy.group.members[name] : undefined;
    if (!databaseId) continue;
    if (plan.groups.length >= MAX_EVACUATION_GROUPS) break;
    plan.groups.push({ group, databaseId });
    plan.roles[group] = {
      commanders: [...lookup.policy.group.commanders],
      approvers: [...lookup.policy.group.approvers],
    };
    for (const [person, keys] of Object.entries(lookup.policy.people)) plan.people[person] ??= [...keys];
  }
  return plan;
}

export function createEvacuationActivities(deps: EvacuationDependencies): EvacuationActivities {
  return {
    async planEvacuation({ region }) {
      return evacuationPlan(deps, region);
    },
  };
}
