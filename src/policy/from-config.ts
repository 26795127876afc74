import type { GeofailoverConfig } from '../config/schema';
import type { PolicyLookup, RunbookPolicy } from '../contract/policy';
import { toGroupDefinition } from './group-definition';
import { policyDigest } from './digest';

/**
 * The policy of one group of the configuration: its definition, and the public keys of the people who hold a
 * role in it. Only the worker's own configuration is ever read here.
 */
export function policyFromConfig(config: GeofailoverConfig, groupName: string): PolicyLookup {
  const group = Object.hasOwn(config.groups, groupName) ? config.groups[groupName] : undefined;
  if (!group) {
    const known = Object.keys(config.groups);
    return {
      found: false,
      reason: `the worker's configuration has no group ${JSON.stringify(groupName.slice(0, 64))} (groups: ${known.join(', ')})`,
    };
  }
  const definition = toGroupDefinition(groupName, group);
  const names = [...new Set([...definition.commanders, ...definition.approvers])].sort();
  const people: Record<string, string[]> = {};
  for (const name of names) people[name] = [...(config.people[name]?.keys ?? [])];
  const policy: RunbookPolicy = { group: definition, people, digest: '' };
  policy.digest = policyDigest(policy);
  return { found: true, policy };
}

/** The digest a start signs for `groupName` (`{}` for a group this configuration lacks: the worker then decides). */
export function policyDigestFor(config: GeofailoverConfig, groupName: string): { policyDigest?: string } {
  const lookup = policyFromConfig(config, groupName);
  return lookup.found ? { policyDigest: lookup.policy.digest } : {};
}
