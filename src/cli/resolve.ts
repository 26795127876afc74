/**
 * From the configuration file to what the runbook acts on: the group's GroupDefinition, checked before
 * anything starts, and the plan `start --dry-run` prints.
 */
import type { Duration } from '@temporalio/common';
import { parseDatabaseId, parseTrafficManagerProfileId, ResourceIdParseError } from '../azure/resource-ids';
import { loadConfig, resolveConfigPath } from '../config/load';
import type { GeofailoverConfig } from '../config/schema';
import { probeTaskQueue, WORKFLOW_TYPES, workflowIds, type RunbookPhase, type StepName } from '../contract/names';
import type { GroupMember } from '../contract/readiness';
import type { Proof } from '../contract/policy';
import type { EndpointRef, FailoverRunbookInput, GroupDefinition } from '../contract/runbook';
import { RUNBOOK_STEPS, type ActivityName, type ApprovalGateName } from '../contract/steps';
import { toGroupDefinition } from '../policy/group-definition';
import { RefusedError } from './errors';

export interface LoadedConfig {
  file: string;
  config: GeofailoverConfig;
}

/**
 * Loads and validates the configuration (--config, GEOFAILOVER_CONFIG, ./geofailover.config.json).
 * @throws ConfigError naming the file, the field and what is expected.
 */
export function loadCliConfig(explicitPath?: string): LoadedConfig {
  const file = resolveConfigPath(explicitPath);
  return { file, config: loadConfig(file) };
}

/**
 * The named group as the runbook receives it, its resource ids checked.
 * @throws RefusedError for an unknown group (listing the known ones) or a malformed resource id.
 */
export function resolveGroup(loaded: LoadedConfig, name: string): GroupDefinition {
  const known = Object.keys(loaded.config.groups);
  const group = Object.hasOwn(loaded.config.groups, name) ? loaded.config.groups[name] : undefined;
  if (!group) {
    throw new RefusedError(
      `no group "${name}" in ${loaded.file}; known groups: ${known.join(', ')}`,
      `pass one of them to --group, or add "${name}" to the configuration`,
      'unknown-group',
      { group: name, knownGroups: known },
    );
  }
  const definition = toGroupDefinition(name, group);
  checkResourceIds(definition, loaded.file);
  return definition;
}

export { toGroupDefinition } from '../policy/group-definition';

function checkResourceIds(group: GroupDefinition, file: string): void {
  const check = (field: string, parse: () => unknown): void => {
    try {
      parse();
    } catch (e) {
      if (!(e instanceof ResourceIdParseError)) throw e;
      throw new RefusedError(
        `${file}: groups.${group.name}.${field}: ${e.message}`,
        'fix the resource id in the configuration; nothing was started',
        'malformed-resource-id',
        { field: `groups.${group.name}.${field}`, resourceId: e.resourceId },
      );
    }
  };
  for (const [region, id] of Object.entries(group.members)) check(`members.${region}`, () => parseDatabaseId(id));
  check('trafficManager.profileId', () => parseTrafficManagerProfileId(group.trafficManager.profileId));
}

/** The group's members in configuration order, as readinessCheck and describeMember take them. */
export function groupMembers(group: GroupDefinition): GroupMember[] {
  return Object.entries(group.members).map(([region, databaseId]) => ({ region, databaseId }));
}

/**
 * The surviving regions when `failedRegion` fails.
 * @throws RefusedError when the region is not a member, has no Traffic Manager endpoint, or leaves no survivor.
 */
export function checkFailedRegion(group: GroupDefinition, failedRegion: string): string[] {
  const members = Object.keys(group.members);
  if (!members.includes(failedRegion)) {
    const near = members.find((m) => m.toLowerCase() === failedRegion.toLowerCase().replace(/[\s_-]/g, ''));
    throw new RefusedError(
      `${failedRegion} is not a member of group ${group.name}; its members are ${members.join(', ')}`,
      near ? `did you mean --failed-region ${near}?` : 'pass one of the members to --failed-region',
      'not-a-member',
      { group: group.name, failedRegion, members },
    );
  }
  const survivors = members.filter((m) => m !== failedRegion);
  if (survivors.length === 0) {
    throw new RefusedError(
      `${failedRegion} is the only member of group ${group.name}: there is no surviving member to fail over to`,
      'a failover needs at least one other member in the geo-replication group',
      'no-survivor',
      { group: group.name, failedRegion, members },
    );
  }
  if (!group.trafficManager.endpoints[failedRegion]) {
    throw new RefusedError(
      `group ${group.name} names no Traffic Manager endpoint for ${failedRegion}, so traffic cannot be moved away from it`,
      `add trafficManager.endpoints.${failedRegion} to the group in the configuration`,
      'no-endpoint',
    );
  }
  return survivors;
}

export interface FailoverRequest {
  /** the group as this configuration defines it (the worker's own copy is what the runbook acts under) */
  group: GroupDefinition;
  failedRegion: string;
  reason: string;
  /** who signs the start */
  requestedBy: string;
  /** the signed start; a dry run without a key shows a placeholder */
  request?: Proof;
  acceptSettingsMismatch?: boolean;
}

/** What a dry run shows for a start nobody has signed yet. */
export const UNSIGNED_REQUEST: Proof = { statement: '(signed with --key when the run starts)', signature: '' };

/** The workflow input, exactly as it will be recorded in history: names and the signed start, nothing more. */
export function buildFailoverInput(request: FailoverRequest): FailoverRunbookInput {
  return {
    group: request.group.name,
    failedRegion: request.failedRegion,
    reason: request.reason,
    request: request.request ?? UNSIGNED_REQUEST,
    ...(request.acceptSettingsMismatch ? { acceptSettingsMismatch: true } : {}),
  };
}

/** One step of the plan: the step table's entry (src/contract/steps.ts) with this group's targets. */
export interface PlanStep {
  step: StepName;
  /** the RunbookPhase it runs in */
  phase: RunbookPhase;
  /** the activities it calls */
  calls: ActivityName[];
  /** the approval gate that must pass before it acts */
  gate: ApprovalGateName | 'none';
  /** deletes or discards something in Azure (force-unlink, rejoin) */
  destructive: boolean;
  /** changes the Traffic Manager profile */
  mutatesTrafficManager: boolean;
  /** what the step does */
  action: string;
  /** what it reads, probes or changes */
  targets: string[];
}

export interface PlanGate {
  gate: 'approval-unlink' | 'approval-rejoin' | 'intervention';
  quorum: number;
  approvers: string[];
  /** approvers who may approve this incident: everyone listed except the requester */
  eligible: string[];
  approvalTimeout: Duration;
  escalationTimeout: Duration;
}

/** What `start --dry-run` prints: every step with its targets, the gates, and the input it would send. */
export interface FailoverPlan {
  dryRun: true;
  workflowId: string;
  workflowType: string;
  taskQueue: string;
  group: string;
  failedRegion: string;
  survivors: string[];
  requestedBy: string;
  reason: string;
  steps: PlanStep[];
  gates: PlanGate[];
  warnings: string[];
  input: FailoverRunbookInput;
}

function showDuration(d: Duration): string {
  return typeof d === 'number' ? `${d} ms` : String(d);
}

/** `.../redisEnterprise/CLUSTER/databases/DB` → `CLUSTER/DB`, for lines that already named the full id. */
function shortId(databaseId: string): string {
  try {
    const id = parseDatabaseId(databaseId);
    return `${id.clusterName}/${id.databaseName}`;
  } catch {
    return databaseId;
  }
}

function endpointName(e: EndpointRef | undefined): string {
  return e ? `${e.type}/${e.name}` : '(none)';
}

/** Gate rules the plan shows and `start` warns about: a quorum the eligible approvers cannot reach. */
export function planGates(group: GroupDefinition, requestedBy: string): PlanGate[] {
  const eligible = group.approvers.filter((a) => a !== requestedBy);
  const gate = (name: PlanGate['gate'], quorum: number): PlanGate => ({
    gate: name,
    quorum,
    approvers: [...group.approvers],
    eligible,
    approvalTimeout: group.durations.approvalTimeout,
    escalationTimeout: group.durations.escalationTimeout,
  });
  return [
    gate('approval-unlink', group.quorum.unlink),
    gate('approval-rejoin', group.quorum.rejoin),
    gate('intervention', group.quorum.intervention),
  ];
}

/** Warnings a commander should read before starting; none of them stops the start. */
export function planWarnings(request: FailoverRequest): string[] {
  return planGates(request.group, request.requestedBy)
    .filter((g) => g.eligible.length < g.quorum)
    .map(
      (g) =>
        `the ${g.gate} gate needs ${g.quorum} approver(s) other than ${request.requestedBy}, but only ` +
        `${g.eligible.length} are configured (${g.eligible.join(', ') || 'none'}): it can only time out and stop safely`,
    );
}

/** The dry-run plan: steps in the runbook's order with their targets, and the gates. */
export function planFailover(request: FailoverRequest, taskQueue: string): FailoverPlan {
  const input = { ...buildFailoverInput(request), requestedBy: request.requestedBy };
  const { group, failedRegion } = request;
  const survivors = Object.keys(group.members).filter((r) => r !== failedRegion);
  const failedId = group.members[failedRegion] ?? '';
  const failedEndpoint = group.trafficManager.endpoints[failedRegion];
  const d = group.durations;
  const gates = planGates(group, input.requestedBy);
  const gateLine = (g: PlanGate): string =>
    `quorum ${g.quorum} of ${g.eligible.join(', ') || '(nobody)'}` +
    (g.eligible.length < g.approvers.length ? ` (not ${input.requestedBy}, who requested it)` : '') +
    `; escalates after ${showDuration(g.approvalTimeout)}, stops safely ${showDuration(g.escalationTimeout)} later`;
  const [unlinkGate, rejoinGate] = gates as [PlanGate, PlanGate, PlanGate];
  const survivorIds = survivors.map((r) => `${r}: ${shortId(group.members[r] ?? '')}`);
  // This group's details per step; a step without details shows the table's description.
  const details: Partial<Record<StepName, { action?: string; targets: string[] }>> = {
    'validate-input': {
      action:
        "check the input, load the group's policy from the worker's own configuration, verify the commander's signed start",
      targets: [`group ${group.name}`, `failed region ${failedRegion}`, `requested by ${input.requestedBy}`],
    },
    membership: {
      action:
        'before-snapshot of every member; survivors must agree on SKU, capacity, modules, eviction, clustering, ' +
        `TLS and high availability${input.acceptSettingsMismatch ? ' (a mismatch is accepted and recorded)' : ''}`,
      targets: Object.entries(group.members).map(([r, id]) => `${r}${r === failedRegion ? ' (failed)' : ''}: ${id}`),
    },
    memory: {
      action: `used/max memory per survivor, elevated at ${group.memoryThresholds.elevatedPercent} %, critical at ${group.memoryThresholds.criticalPercent} %`,
      targets: survivorIds,
    },
    firewall: {
      action:
        `TCP, TLS, AUTH and PING from each application region but the failed one to each survivor ` +
        `(${showDuration(d.probeTimeout)} per stage); any failure keeps traffic where it is`,
      targets: Object.entries(group.applicationRegions)
        .filter(([app]) => app !== failedRegion)
        .flatMap(([app, addresses]) =>
          survivors.map(
            (r) => `from ${app} (task queue ${probeTaskQueue(app)}) to ${r} at ${addresses[r] ?? '(none)'}`,
          ),
        ),
    },
    'traffic-reroute': {
      targets: [
        `disable ${endpointName(failedEndpoint)} in ${group.trafficManager.profileId}`,
        ...survivors.map((r) => `keep enabled ${endpointName(group.trafficManager.endpoints[r])}`),
      ],
    },
    verify: { targets: survivorIds },
    'await-recovery': {
      action:
        `re-read the survivors’ memory and the failed member every ${showDuration(d.recoveryPollInterval)}; ` +
        `the unlink trigger fires at critical pressure, after an outage of ${showDuration(d.maxOutageBeforeUnlink)}, or on unlink-now`,
      targets: [`${failedRegion}: ${shortId(failedId)}`, ...survivorIds],
    },
    'approval-unlink': { action: 'only if the unlink trigger fires', targets: [gateLine(unlinkGate)] },
    'force-unlink': {
      action: 're-read membership, then force-unlink called on one survivor (skipped if already unlinked)',
      targets: [`remove ${failedId}`, `called on one of: ${survivors.join(', ')}`],
    },
    'approval-rejoin': { action: 'only if the failed member was unlinked', targets: [gateLine(rejoinGate)] },
    rejoin: {
      action:
        `if unlinked: ${group.rejoinMethod} (discards ${failedRegion}’s data); otherwise wait up to ` +
        `${showDuration(d.resyncTimeout)} for the group to resynchronise; then every member must list every other as Linked`,
      targets: [`${failedRegion}: ${failedId}`],
    },
    'traffic-failback': {
      action: `re-enable the endpoint once ${failedRegion} passes the same probes`,
      targets: [
        `enable ${endpointName(failedEndpoint)} in ${group.trafficManager.profileId}`,
        ...Object.entries(group.applicationRegions).map(
          ([app, addresses]) => `probe from ${app} to ${failedRegion} at ${addresses[failedRegion] ?? '(none)'}`,
        ),
      ],
    },
  };
  return {
    dryRun: true,
    workflowId: workflowIds.failover(group.name),
    workflowType: WORKFLOW_TYPES.failoverRunbook,
    taskQueue,
    group: group.name,
    failedRegion,
    survivors,
    requestedBy: input.requestedBy,
    reason: input.reason,
    steps: RUNBOOK_STEPS.map((spec): PlanStep => ({
      step: spec.name,
      phase: spec.phase,
      calls: [...spec.calls],
      gate: spec.gate,
      destructive: spec.destructive,
      mutatesTrafficManager: spec.mutatesTrafficManager,
      action: details[spec.name]?.action ?? spec.description,
      targets: details[spec.name]?.targets ?? [],
    })),
    gates,
    warnings: planWarnings(request),
    input: buildFailoverInput(request),
  };
}
