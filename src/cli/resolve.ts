/**
 * From the configuration file to what the runbook acts on: the group's GroupDefinition, checked before
 * anything starts, and the plan `start --dry-run` prints.
 */
import type { Duration } from '@temporalio/common';
import { parseDatabaseId } from '../azure/resource-ids';
import { buildFailoverInput, type FailoverRequest } from '../contract/failover-request';
import { probeTaskQueue, WORKFLOW_TYPES, workflowIds, type RunbookPhase, type StepName } from '../contract/names';
import type { EndpointRef, FailoverRunbookInput, GroupDefinition } from '../contract/runbook';
import { RUNBOOK_STEPS, type ActivityName, type ApprovalGateName } from '../contract/steps';

// Shared with the drill: the configuration's groups (src/config/groups.ts) and the input a request becomes.
export { checkFailedRegion, loadCliConfig, resolveGroup, type LoadedConfig } from '../config/groups';
export { buildFailoverInput, UNSIGNED_REQUEST, type FailoverRequest } from '../contract/failover-request';
export { toGroupDefinition } from '../policy/group-definition';

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
