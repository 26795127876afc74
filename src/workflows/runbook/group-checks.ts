// Pure checks over member snapshots of one geo-replication group. Runs inside the workflow sandbox:
// no Node built-ins, no I/O, no locale-dependent functions.
import { sameLinkedId } from '../../azure/resource-ids';
import type { MemberSnapshot } from '../../contract/types';

type MemberSettings = NonNullable<MemberSnapshot['settings']>;

/** Settings every member of a group must share. */
export const GROUP_SETTINGS = [
  'sku',
  'capacity',
  'modules',
  'evictionPolicy',
  'clusteringPolicy',
  'clientProtocol',
  'highAvailability',
] as const satisfies readonly (keyof MemberSettings)[];

/**
 * Every reason the group is not ready to fail over, one sentence each, in a stable order: group size,
 * member states, links, then settings that differ. Empty when the group is healthy.
 */
export function findGroupProblems(members: readonly MemberSnapshot[]): string[] {
  return [
    ...groupShapeProblems(members),
    ...members.flatMap(memberStateProblems),
    ...linkProblems(members),
    ...settingsProblems(members),
  ];
}

function groupShapeProblems(members: readonly MemberSnapshot[]): string[] {
  const problems: string[] = [];
  if (members.length < 2) {
    problems.push(`the group has ${members.length} member(s) configured; failing over needs at least two`);
  }
  const regions = members.map((m) => m.region);
  for (const region of new Set(regions.filter((r, i) => regions.indexOf(r) !== i))) {
    problems.push(`${region}: configured more than once`);
  }
  return problems;
}

/** Reachability and provisioning/resource state of one member. */
export function memberStateProblems(member: MemberSnapshot): string[] {
  if (!member.reachable) {
    const why = member.error ? ` (${member.error.code}: ${member.error.message})` : '';
    return [`${member.region}: unreachable${why}`];
  }
  const problems: string[] = [];
  if (member.provisioningState !== 'Succeeded') {
    problems.push(
      `${member.region}: provisioningState is ${member.provisioningState ?? 'not reported'}, not Succeeded`,
    );
  }
  if (member.resourceState !== undefined && member.resourceState !== 'Running') {
    problems.push(`${member.region}: resourceState is ${member.resourceState}, not Running`);
  }
  return problems;
}

// Linked ids are compared the way Azure does, case-sensitively for the resource names (see sameLinkedId);
// `resourcegroups` vs `resourceGroups` and other case-insensitive ARM segments still match.
const sameId = sameLinkedId;

/**
 * Each reachable member must list every other configured member as `Linked`, and nothing else
 * (itself aside). Unreachable members cannot be checked and are reported by `memberStateProblems`.
 */
export function linkProblems(members: readonly MemberSnapshot[]): string[] {
  const problems: string[] = [];
  for (const member of members) {
    if (!member.reachable) continue;
    const links = member.linkedDatabases ?? [];
    for (const other of members) {
      if (other === member) continue;
      const link = links.find((l) => sameId(l.id, other.databaseId));
      if (!link) {
        problems.push(`${member.region}: linkedDatabases does not list ${other.region} (${other.databaseId})`);
      } else if (link.state !== 'Linked') {
        problems.push(`${member.region}: link to ${other.region} is ${link.state}, not Linked`);
      }
    }
    for (const link of links) {
      if (!members.some((m) => sameId(m.databaseId, link.id))) {
        problems.push(
          `${member.region}: linkedDatabases lists ${link.id} (${link.state}), which is not a configured member`,
        );
      }
    }
  }
  return problems;
}

function formatSetting(value: MemberSettings[keyof MemberSettings]): string {
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) {
    const sorted = [...value].sort((a, b) =>
      a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0,
    );
    return `[${sorted.join(', ')}]`;
  }
  return String(value);
}

function differs(name: string, values: { region: string; value: string }[]): string[] {
  if (new Set(values.map((v) => v.value)).size <= 1) return [];
  return [`${name} differs: ${values.map((v) => `${v.region}=${v.value}`).join(', ')}`];
}

/**
 * Settings (and the group nickname) that differ between reachable members, naming the value in each region.
 * Module lists compare as sets.
 */
export function settingsProblems(members: readonly MemberSnapshot[]): string[] {
  const reachable = members.filter((m) => m.reachable);
  const problems: string[] = reachable
    .filter((m) => !m.settings)
    .map((m) => `${m.region}: settings not reported, so they cannot be compared with the other members`);
  problems.push(
    ...differs(
      'groupNickname',
      reachable.map((m) => ({ region: m.region, value: m.groupNickname ?? '(unset)' })),
    ),
  );
  const withSettings = reachable.filter((m): m is MemberSnapshot & { settings: MemberSettings } => !!m.settings);
  for (const key of GROUP_SETTINGS) {
    problems.push(
      ...differs(
        key,
        withSettings.map((m) => ({ region: m.region, value: formatSetting(m.settings[key]) })),
      ),
    );
  }
  return problems;
}
