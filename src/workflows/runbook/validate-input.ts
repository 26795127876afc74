// validate-input: what the runbook checks in its own input before it reads or changes anything. The
// starter validates the configuration first; this is the workflow's own guard, since anyone can start
// it with `temporal workflow start`. Pure.
import type { Duration } from '@temporalio/common';
import type { FailoverRunbookInput, GroupDefinition, RejoinRunbookInput } from '../../contract/runbook';
import { durationMs } from './durations';
import { eligibleApprovers } from './gate';

const DATABASE_ID =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Cache\/redisEnterprise\/[^/]+\/databases\/[^/]+$/i;

/** Every problem of a failoverRunbook input, one sentence each; empty when it can run. */
export function failoverInputProblems(input: FailoverRunbookInput): string[] {
  return [
    ...commonProblems(input.group, input.requestedBy, input.reason),
    ...regionProblems(input.group, input.failedRegion, 'failed region'),
    ...probeAddressProblems(input.group, input.failedRegion),
  ];
}

/** Every problem of a rejoinRunbook input, one sentence each; empty when it can run. */
export function rejoinInputProblems(input: RejoinRunbookInput): string[] {
  return [
    ...commonProblems(input.group, input.requestedBy, input.reason),
    ...regionProblems(input.group, input.region, 'region'),
    ...probeAddressProblems(input.group, input.region),
  ];
}

function commonProblems(group: GroupDefinition | undefined, requestedBy: unknown, reason: unknown): string[] {
  const problems: string[] = [];
  if (typeof requestedBy !== 'string' || !requestedBy.trim())
    problems.push('requestedBy must name who starts the runbook');
  if (typeof reason !== 'string' || !reason.trim()) problems.push('reason must say why the runbook runs');
  if (!group || typeof group !== 'object' || !group.members) return [...problems, 'the input has no group definition'];
  for (const [region, id] of Object.entries(group.members)) {
    if (!DATABASE_ID.test(id)) {
      problems.push(
        `${region}: ${JSON.stringify(id)} is not a database resource id ` +
          '(/subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Cache/redisEnterprise/CLUSTER/databases/NAME)',
      );
    }
  }
  const approvers = group.approvers ?? [];
  const eligible = eligibleApprovers({
    group: group.name,
    approvers,
    requestedBy: typeof requestedBy === 'string' ? requestedBy : '',
    quorum: 0,
  });
  for (const gate of ['unlink', 'rejoin', 'intervention'] as const) {
    const quorum = group.quorum?.[gate];
    if (!Number.isInteger(quorum) || (quorum as number) < 1) {
      problems.push(`quorum.${gate} must be a whole number of at least 1`);
    } else if ((quorum as number) > eligible.length) {
      problems.push(
        `quorum.${gate} is ${quorum} but only ${eligible.length} approver(s) other than the requester ` +
          `${String(requestedBy)} can approve (${eligible.join(', ') || 'none'})`,
      );
    }
  }
  const thresholds = group.memoryThresholds;
  if (!thresholds || !(thresholds.elevatedPercent < thresholds.criticalPercent)) {
    problems.push('memoryThresholds.elevatedPercent must be below criticalPercent');
  }
  for (const [name, value] of Object.entries(group.durations ?? {}) as [string, Duration][]) {
    let ms: number | undefined;
    try {
      ms = durationMs(value);
    } catch {
      ms = undefined;
    }
    if (ms === undefined || !(ms > 0)) {
      problems.push(`durations.${name} is ${JSON.stringify(value)}, expected a positive duration such as '30s'`);
    }
  }
  return problems;
}

function regionProblems(group: GroupDefinition | undefined, region: string, role: string): string[] {
  if (!group?.members) return [];
  const members = Object.keys(group.members);
  if (!members.includes(region)) {
    return [`${role} ${region} is not a member of group ${group.name} (members: ${members.join(', ')})`];
  }
  const problems: string[] = [];
  if (members.length < 2) {
    problems.push(`${region} is the only member of group ${group.name}: there is no survivor to fail over to`);
  }
  if (!group.trafficManager?.endpoints?.[region]) {
    problems.push(`group ${group.name} names no Traffic Manager endpoint for ${region}`);
  }
  return problems;
}

function probeAddressProblems(group: GroupDefinition | undefined, region: string): string[] {
  if (!group?.members || !group.applicationRegions) return [];
  const problems: string[] = [];
  const appRegions = Object.keys(group.applicationRegions);
  if (!appRegions.some((r) => r !== region)) {
    problems.push(`group ${group.name} names no application region other than ${region} to probe from`);
  }
  for (const appRegion of appRegions) {
    for (const member of Object.keys(group.members)) {
      if (!group.applicationRegions[appRegion]?.[member]) {
        problems.push(`application region ${appRegion} has no address for ${member}`);
      }
    }
  }
  return problems;
}
