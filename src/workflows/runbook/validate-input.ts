// validate-input: what the runbook checks before it reads or changes anything. Anyone who can reach the
// namespace can start a runbook with any JSON, so the input is checked as `unknown` (never trusted, never
// thrown on); the group's definition, people and roles come from the worker's policy, checked afterwards.
// Pure.
import type { Duration } from '@temporalio/common';
import type { RunbookPolicy } from '../../contract/policy';
import { workflowIds } from '../../contract/names';
import { INCIDENT_ID, RUNBOOK_MODES, type GroupDefinition, type RunbookMode } from '../../contract/runbook';
import type { RunbookStage } from '../../contract/snapshot';
import { scheduledRunTime } from '../../policy/standing-order';
import { bounded } from './bounded';
import { durationMs } from './durations';
import { eligibleApprovers } from './gate';

const GROUP_NAME = /^[A-Za-z0-9-]{1,63}$/;
const REGION = /^[a-z][a-z0-9]{1,39}$/;
const MAX_REASON = 2000;
const MAX_STATEMENT = 8192;
const MAX_SIGNATURE = 4096;

export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON of a value for a message, never long. */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(typeof value);
  }
  return bounded(text, 60);
}

// `continued` is the runbook's own snapshot, handed to the next run when it continues as new (see resumeProblems).
const FAILOVER_FIELDS = [
  'group',
  'failedRegion',
  'reason',
  'incident',
  'request',
  'acceptSettingsMismatch',
  'mode',
  'hold',
  'tuning',
  'continued',
];
/** The longest hold a rehearsal may ask for: traffic is off a healthy region meanwhile. */
const MAX_HOLD_MS = 7 * 24 * 3_600_000;
const REJOIN_FIELDS = ['group', 'region', 'reason', 'incident', 'request', 'tuning', 'continued'];
const STAGES: readonly RunbookStage[] = ['checks', 'reroute', 'verify', 'await-recovery', 'rejoin', 'failback'];
const TUNING_DURATIONS = [
  'mutationInitialRetryInterval',
  'probeScheduleToStart',
  'heartbeatTimeout',
  'failedMemberRead',
  'failbackOnlineTimeout',
  'replicationCheckTimeout',
];
const READ_DURATIONS = ['startToClose', 'scheduleToClose', 'initialRetryInterval'];

function durationProblem(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'string' || value.length > 40) {
    return `${field} is ${shown(value)}, expected a duration such as '30s'`;
  }
  try {
    if (durationMs(value as Duration) > 0) return undefined;
  } catch {
    // reported below
  }
  return `${field} is ${shown(value)}, expected a positive duration such as '30s'`;
}

function tuningProblems(tuning: unknown): string[] {
  if (tuning === undefined) return [];
  if (!isObject(tuning)) return [`tuning must be an object, not ${shown(tuning)}`];
  const known = [...TUNING_DURATIONS, 'reads', 'mutationMaximumAttempts', 'lroPollIntervalMs', 'pollsPerRun'];
  const problems = Object.keys(tuning)
    .filter((k) => !known.includes(k))
    .slice(0, 5)
    .map((k) => `tuning has an unknown field ${shown(k)}`);
  for (const field of TUNING_DURATIONS) {
    const problem = durationProblem(tuning[field], `tuning.${field}`);
    if (problem) problems.push(problem);
  }
  for (const [field, max] of [
    ['mutationMaximumAttempts', 100],
    ['lroPollIntervalMs', 3_600_000],
    ['pollsPerRun', 10_000],
  ] as const) {
    const value = tuning[field];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 1 && (value as number) <= max)) {
      problems.push(`tuning.${field} is ${shown(value)}, expected a whole number from 1 to ${max}`);
    }
  }
  const reads = tuning.reads;
  if (reads !== undefined) {
    if (!isObject(reads)) problems.push(`tuning.reads must be an object, not ${shown(reads)}`);
    else {
      for (const k of Object.keys(reads)
        .filter((k) => !READ_DURATIONS.includes(k))
        .slice(0, 5)) {
        problems.push(`tuning.reads has an unknown field ${shown(k)}`);
      }
      for (const field of READ_DURATIONS) {
        const problem = durationProblem(reads[field], `tuning.reads.${field}`);
        if (problem) problems.push(problem);
      }
    }
  }
  return problems;
}

/**
 * Every problem of a runbook input, one bounded sentence each; empty when its shape is right. Never throws, for
 * any JSON value. The signed request's signature is checked later, against the worker's policy.
 */
export function inputProblems(kind: 'failover' | 'rejoin', input: unknown): string[] {
  if (!isObject(input)) return [`the input must be an object, not ${shown(input)}`];
  const fields = kind === 'failover' ? FAILOVER_FIELDS : REJOIN_FIELDS;
  const regionField = kind === 'failover' ? 'failedRegion' : 'region';
  const problems: string[] = [];
  const unknown = Object.keys(input).filter((k) => !fields.includes(k));
  if (unknown.length > 0) {
    problems.push(
      `unknown field(s) ${unknown.slice(0, 5).map(shown).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}: ` +
        "the input names the group, the region, the reason and the signed request; the group's definition, " +
        "approvers and quorum come from the worker's configuration",
    );
  }
  const group = input.group;
  if (isObject(group)) {
    problems.push(
      "group must be the name of a group in the worker's configuration, not a definition: " +
        'a runbook cannot bring its own members, approvers or quorum',
    );
  } else if (typeof group !== 'string' || !GROUP_NAME.test(group)) {
    problems.push(`group is ${shown(group)}, expected a group name of letters, digits and dashes`);
  }
  const region = input[regionField];
  if (typeof region !== 'string' || !REGION.test(region)) {
    problems.push(`${regionField} is ${shown(region)}, expected an Azure region name such as eastus`);
  }
  const reason = input.reason;
  if (typeof reason !== 'string' || !reason.trim()) problems.push('reason must say why the runbook runs');
  else if (reason.length > MAX_REASON)
    problems.push(`reason is longer than ${MAX_REASON} characters (${reason.length})`);
  const incident = input.incident;
  if (incident !== undefined && (typeof incident !== 'string' || !INCIDENT_ID.test(incident))) {
    problems.push(
      `incident is ${shown(incident)}, expected a tracker id of at most 64 letters, digits and . _ : # / - such as INC-4711`,
    );
  }
  const request = input.request;
  if (!isObject(request)) {
    problems.push(
      'request must be the signed start {"statement": …, "signature": …} of a commander ' +
        '(geofailover start signs it; --print-payload shows it)',
    );
  } else if (
    typeof request.statement !== 'string' ||
    typeof request.signature !== 'string' ||
    request.statement.length > MAX_STATEMENT ||
    request.signature.length > MAX_SIGNATURE
  ) {
    problems.push(
      `request must hold a statement (at most ${MAX_STATEMENT} characters) and its signature (at most ${MAX_SIGNATURE})`,
    );
  }
  if (
    kind === 'failover' &&
    input.acceptSettingsMismatch !== undefined &&
    typeof input.acceptSettingsMismatch !== 'boolean'
  ) {
    problems.push(`acceptSettingsMismatch is ${shown(input.acceptSettingsMismatch)}, expected true or false`);
  }
  if (kind === 'failover') problems.push(...modeProblems(input.mode, input.hold));
  problems.push(...tuningProblems(input.tuning));
  return problems;
}

function modeProblems(mode: unknown, hold: unknown): string[] {
  const problems: string[] = [];
  if (mode !== undefined && !(RUNBOOK_MODES as readonly unknown[]).includes(mode)) {
    problems.push(`mode is ${shown(mode)}, expected one of ${RUNBOOK_MODES.join(', ')}`);
  }
  if (hold === undefined) return problems;
  if (mode !== 'rehearsal') {
    problems.push(
      'hold applies to a rehearsal only (mode: "rehearsal"): an incident fails back once the region recovers',
    );
    return problems;
  }
  const problem = durationProblem(hold, 'hold');
  if (problem) problems.push(problem);
  else if (durationMs(hold as Duration) > MAX_HOLD_MS) {
    problems.push(`hold is ${shown(hold)}, longer than 7 days; without a hold a rehearsal waits for endRehearsal`);
  }
  return problems;
}

/**
 * Whether the run's mode fits its workflow id: a rehearsal runs as `rehearsal/<group>` (its signed start names that
 * id, so an incident's start cannot start a rehearsal, nor the other way round), and nothing else does. Never throws.
 */
export function modeIdProblems(mode: RunbookMode, group: string, workflowId: string): string[] {
  const rehearsalId = workflowIds.rehearsal(group);
  // A rehearsal schedule's runs are `rehearsal/<group>-<nominal time>` (src/policy/standing-order.ts).
  if (mode === 'rehearsal' && workflowId !== rehearsalId && scheduledRunTime(rehearsalId, workflowId) === undefined) {
    return [`a rehearsal runs as workflow ${bounded(rehearsalId, 80)}, not ${bounded(workflowId, 80)}`];
  }
  if (mode !== 'rehearsal' && workflowId.startsWith(workflowIds.rehearsal(''))) {
    return [`workflow ${bounded(workflowId, 80)} is a rehearsal's id, but the input's mode is ${mode}`];
  }
  return [];
}

/**
 * Problems of the worker's policy for this run: the region, the probes, and whether each quorum can be met by
 * approvers other than the requester. The configuration schema checks most of it; this is the runbook's own
 * guard, one sentence each.
 */
export function policyProblems(policy: RunbookPolicy, region: string, requestedBy: string): string[] {
  const group = policy.group;
  return [
    ...quorumProblems(group, requestedBy),
    ...regionProblems(group, region, 'region'),
    ...probeAddressProblems(group, region),
  ];
}

function quorumProblems(group: GroupDefinition, requestedBy: string): string[] {
  const problems: string[] = [];
  const eligible = eligibleApprovers({ group: group.name, approvers: group.approvers ?? [], requestedBy, quorum: 0 });
  for (const gate of ['unlink', 'rejoin', 'intervention'] as const) {
    const quorum = group.quorum?.[gate];
    if (!Number.isInteger(quorum) || (quorum as number) < 1) {
      problems.push(`quorum.${gate} must be a whole number of at least 1`);
    } else if ((quorum as number) > eligible.length) {
      problems.push(
        `quorum.${gate} is ${quorum} but only ${eligible.length} approver(s) other than the requester ` +
          `${requestedBy} can approve (${eligible.join(', ') || 'none'})`,
      );
    }
  }
  for (const [name, value] of Object.entries(group.durations ?? {}) as [string, Duration][]) {
    const problem = durationProblem(value, `durations.${name}`);
    if (problem) problems.push(problem);
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

/**
 * Why a run may not take over the snapshot in its input (`continued`); undefined when it may. Only the runbook itself
 * writes one, when a run continues as new: Temporal then tells the new run which run it continues (a client cannot
 * say so when it starts a workflow), and the snapshot names that run and the incident's first run. A start, a cron
 * run or a retry that carries a snapshot is refused. Never throws.
 */
export function resumeProblems(
  continued: unknown,
  run: { continuedFromRunId?: string; firstRunId: string; cron: boolean },
): string | undefined {
  const refuse = (why: string): string =>
    `the input carries a continued-run snapshot, which only the runbook itself hands to its next run: ${why}`;
  if (!isObject(continued)) return refuse(`it is ${shown(continued)}, not a snapshot`);
  if (run.cron) return refuse('this run was started on a cron schedule');
  if (!run.continuedFromRunId) return refuse('Temporal says this run continues no earlier run');
  if (continued.previousRunId !== run.continuedFromRunId) {
    return refuse(`it names run ${shown(continued.previousRunId)}, but this run continues ${run.continuedFromRunId}`);
  }
  if (continued.firstRunId !== run.firstRunId) {
    return refuse(`it names first run ${shown(continued.firstRunId)}, not ${run.firstRunId}`);
  }
  if (continued.version !== 1) return refuse(`version ${shown(continued.version)} is not known to this worker`);
  if (!STAGES.includes(continued.stage as RunbookStage)) return refuse(`stage ${shown(continued.stage)} is unknown`);
  const policy = continued.policy;
  if (!isObject(policy) || !isObject(policy.group) || typeof policy.digest !== 'string') {
    return refuse('it has no policy');
  }
  for (const field of ['steps', 'closedGates', 'usedNonces', 'survivors'] as const) {
    if (!Array.isArray(continued[field])) return refuse(`${field} is not a list`);
  }
  if (!isObject(continued.trigger) || !isObject(continued.startProof)) return refuse('it is incomplete');
  if (typeof continued.startedAt !== 'string' || Number.isNaN(Date.parse(continued.startedAt))) {
    return refuse('startedAt is not a time');
  }
  return undefined;
}
