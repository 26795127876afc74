import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  TimeoutFailure,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  DataPlaneActivities,
  MembershipActivities,
  NotificationActivities,
  PolicyActivities,
  ProbeActivities,
  TrafficActivities,
} from '../contract/activities';
import { probeTaskQueue, workflowIds } from '../contract/names';
import type {
  GroupMember,
  ReadinessChange,
  ReadinessCheckInput,
  ReadinessActivities,
  ReadinessCheckResult,
  ReadinessReport,
} from '../contract/readiness';
import type { GroupDefinition } from '../contract/runbook';
import type { MemberSnapshot } from '../contract/types';
import {
  memoryHeadroomCheck,
  membershipCheck,
  probesCheck,
  probeWorkersCheck,
  quorumCheck,
  settingsCheck,
  trafficManagerCheck,
  worst,
  type MemoryRead,
  type RegionProbes,
} from './readiness/checks';
import { readActivityOptions, probeActivityOptions } from './runbook/activity-options';
import { bounded } from './runbook/bounded';
import { durationMs } from './runbook/durations';

const MAX_REASON = 500;
const MAX_REASONS = 40;
const DEFAULT_PROBE_SCHEDULE_TO_START = '30 seconds';

/** What an activity's failure after its retries came to, as a code and a message. */
function failureOf(err: unknown): { code: string; message: string } {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  if (cause instanceof TimeoutFailure) {
    // A timeout's own message is terse; the last attempt's failure says why. The SDK does not convert a
    // timeout's cause into an error, so read it from the failure as recorded in history.
    const last = cause.cause?.message ?? cause.failure?.cause?.message;
    return {
      code: 'ActivityTimedOut',
      message: `${cause.timeoutType} timeout${last ? `; last attempt: ${last}` : ''}`,
    };
  }
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'ApplicationFailure', message: cause.message };
  return { code: 'Error', message: cause instanceof Error ? cause.message : String(cause) };
}

function errorText(err: unknown): string {
  const { code, message } = failureOf(err);
  return `${code}: ${message}`;
}

/** Awaits `p`; a failure (not a cancellation) becomes `onError(text)`. */
async function settle<T, E>(p: Promise<T>, onError: (error: string) => E): Promise<T | E> {
  try {
    return await p;
  } catch (err) {
    if (isCancellation(err)) throw err;
    return onError(bounded(errorText(err), MAX_REASON));
  }
}

/** The input, checked without throwing: a bad group name is a failed check, not a failed workflow. */
function groupName(input: ReadinessCheckInput): string | undefined {
  const g = (input as { group?: unknown } | undefined)?.group;
  return typeof g === 'string' && /^[A-Za-z0-9-]{1,63}$/.test(g) ? g : undefined;
}

function boundedCheck(c: ReadinessCheckResult): ReadinessCheckResult {
  const reasons = c.reasons.slice(0, MAX_REASONS).map((r) => bounded(r, MAX_REASON));
  if (c.reasons.length > MAX_REASONS) reasons.push(`… and ${c.reasons.length - MAX_REASONS} more`);
  return { ...c, reasons };
}

function report(
  group: string,
  checks: ReadinessCheckResult[],
  members: MemberSnapshot[],
  policyDigest?: string,
): ReadinessReport {
  const bounded = checks.map(boundedCheck);
  const verdict = worst(bounded.map((c) => c.verdict));
  return {
    group,
    verdict,
    ready: verdict !== 'fail',
    checkedAt: new Date().toISOString(),
    ...(policyDigest ? { policyDigest } : {}),
    checks: bounded,
    members,
    problems: bounded.filter((c) => c.verdict !== 'pass').flatMap((c) => c.reasons),
  };
}

/**
 * `readinessCheck` (id `readiness/<group>`, or started by the schedule `readiness/<group>`): could the group fail
 * over right now? Every check reads in parallel and ends pass, warn or fail with its reasons; an unreachable member,
 * a missing probe worker or an unreadable profile is a finding, never a failed workflow.
 */
export async function readinessCheck(input: ReadinessCheckInput): Promise<ReadinessReport> {
  const name = groupName(input);
  const reads = proxyActivities<
    PolicyActivities & MembershipActivities & DataPlaneActivities & Pick<TrafficActivities, 'readProfile'>
  >(readActivityOptions(input?.activityTimeouts));
  const server = proxyActivities<ReadinessActivities>(readActivityOptions(input?.activityTimeouts));
  if (!name) {
    return report('(invalid)', [{ check: 'policy', verdict: 'fail', reasons: ['the group must be a short name'] }], []);
  }
  const lookup = await settle(reads.loadPolicy({ group: name }), (error) => ({ found: false as const, reason: error }));
  if (!lookup.found) {
    return report(name, [{ check: 'policy', verdict: 'fail', reasons: [lookup.reason] }], []);
  }
  const { group, people, digest } = lookup.policy;
  const members: GroupMember[] = Object.entries(group.members).map(([region, databaseId]) => ({ region, databaseId }));
  const appRegions = Object.keys(group.applicationRegions);

  const [snapshots, memory, profile, pollers] = await Promise.all([
    Promise.all(
      members.map(async (m): Promise<MemberSnapshot> => {
        try {
          return await reads.describeMember(m);
        } catch (err) {
          if (isCancellation(err)) throw err;
          const { code, message } = failureOf(err);
          return { ...m, reachable: false, error: { code, message: bounded(message, MAX_REASON) } };
        }
      }),
    ),
    Promise.all(members.map((m) => settle<MemoryRead, MemoryRead>(reads.readMemory(m), (error) => ({ ...m, error })))),
    settle(reads.readProfile({ profileId: group.trafficManager.profileId }), (error) => ({ error })),
    settle(server.countActivityPollers({ taskQueues: appRegions.map(probeTaskQueue) }), () => []),
  ]);
  const queues = appRegions.map((applicationRegion) => ({
    applicationRegion,
    ...(pollers.find((p) => p.taskQueue === probeTaskQueue(applicationRegion)) ?? {
      taskQueue: probeTaskQueue(applicationRegion),
      error: 'not described',
    }),
  }));
  const probes = await probeEveryRegion(input, group, members, queues);

  const checks: ReadinessCheckResult[] = [
    { check: 'policy', verdict: 'pass', reasons: [`group ${name} from the worker's configuration (${digest})`] },
    membershipCheck(snapshots),
    settingsCheck(snapshots),
    memoryHeadroomCheck(memory, group.memoryThresholds),
    probesCheck(probes),
    trafficManagerCheck(group, profile),
    quorumCheck(group, people),
    probeWorkersCheck(queues),
  ];
  const result = report(name, checks, snapshots, digest);
  if (input.notifyOnChange === true) {
    const change = await verdictChange(name, result, server);
    if (change) result.change = change;
  }
  return result;
}

/** Probes every member from every application region whose probe queue has a poller (others: not run). */
async function probeEveryRegion(
  input: ReadinessCheckInput,
  group: GroupDefinition,
  members: GroupMember[],
  queues: { applicationRegion: string; taskQueue: string; pollers?: number }[],
): Promise<RegionProbes[]> {
  const probeTimeoutMs = durationMs(group.durations.probeTimeout);
  const scheduleToStart = input.probeScheduleToStart ?? DEFAULT_PROBE_SCHEDULE_TO_START;
  return Promise.all(
    queues.map(async ({ applicationRegion, taskQueue, pollers }): Promise<RegionProbes> => {
      if (pollers === 0) {
        return { applicationRegion, error: `not probed: no probe worker polls ${taskQueue}` };
      }
      const { probeEndpoints } = proxyActivities<ProbeActivities>(
        probeActivityOptions(applicationRegion, {
          probeTimeoutMs,
          tuning: { probeScheduleToStart: scheduleToStart },
        }),
      );
      const addresses = group.applicationRegions[applicationRegion] ?? {};
      return settle(
        probeEndpoints({
          applicationRegion,
          targets: members.map((m) => ({
            memberRegion: m.region,
            databaseId: m.databaseId,
            address: addresses[m.region] ?? '',
          })),
          timeoutMs: probeTimeoutMs,
        }).then((probes) => ({ applicationRegion, probes })),
        (error) => ({ applicationRegion, error: `the probe could not run (${error})` }),
      );
    }),
  );
}

/**
 * Compares with the schedule's previous completed check and tells the group's webhook when the verdict crossed
 * between fail and not-fail (once per change: the next check compares with this one). With no previous check,
 * only a failing verdict is a change.
 */
async function verdictChange(
  group: string,
  result: ReadinessReport,
  server: ReadinessActivities,
): Promise<ReadinessChange | undefined> {
  const previous = await settle(server.previousReadiness({ scheduleId: workflowIds.readiness(group) }), (reason) => ({
    found: false as const,
    reason,
  }));
  const wasFailing = previous.found && previous.verdict === 'fail';
  const failing = result.verdict === 'fail';
  if (wasFailing === failing) return undefined;
  const change: ReadinessChange = {
    from: previous.found ? previous.verdict : 'none',
    to: result.verdict,
    ...(previous.found ? { previousWorkflowId: previous.workflowId } : {}),
  };
  const notify = proxyActivities<Pick<NotificationActivities, 'notifyEscalation'>>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 2 },
  });
  const title = failing
    ? `Readiness of ${group} turned FAIL: it could not fail over safely right now`
    : `Readiness of ${group} is back to ${result.verdict.toUpperCase()}`;
  const body = {
    source: 'geofailover',
    version: 1,
    event: 'readiness-changed',
    title,
    group,
    workflowId: workflowInfo().workflowId,
    from: change.from,
    to: change.to,
    checkedAt: result.checkedAt,
    checks: result.checks.map((c) => ({ check: c.check, verdict: c.verdict })),
    failing: result.checks.filter((c) => c.verdict === 'fail').map((c) => ({ check: c.check, reasons: c.reasons })),
    howToCheck: [`geofailover readiness ${group}`],
  };
  const delivery = await settle(notify.notifyEscalation({ group, body }), (error) => ({
    delivered: false,
    attempts: 0,
    error,
  }));
  change.webhook = delivery;
  return change;
}
