/**
 * The readiness watch: a Temporal Schedule `readiness/<group>` that starts `readinessCheck` every interval, with
 * `notifyOnChange` so that a verdict crossing between fail and not-fail reaches the group's webhook once.
 */
import { type Client, type ScheduleDescription, type ScheduleHandle } from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';
import { WORKFLOW_TYPES, workflowIds } from '../contract/names';
import type { ReadinessCheckInput, ReadinessReport, ReadinessVerdict } from '../contract/readiness';
import {
  changeSchedule,
  describeSchedule,
  describeSchedules,
  parseInterval as parseScheduleInterval,
  scheduleState,
  upsertSchedule,
} from '../temporal/schedules';

/** Schedules shorter than this would start a check before the last one has read its members. */
export const MIN_INTERVAL_MS = 1000;

/** A scheduled check that has not finished by then is stopped (the next one starts fresh). */
const CHECK_TIMEOUT = '10 minutes';

export const SCHEDULE_PREFIX = workflowIds.readiness('');

export interface ReadinessScheduleView {
  scheduleId: string;
  group: string;
  /** the interval, as Temporal reports it, in ms */
  everyMs?: number;
  paused: boolean;
  note?: string;
  taskQueue?: string;
  nextRunAt?: string;
  /** the newest completed check's verdict and time */
  lastVerdict?: ReadinessVerdict;
  lastCheckedAt?: string;
}

/** `'15m'`, `'30 seconds'`, `'1h'` → ms; undefined for anything else (or under a second). */
export function parseInterval(value: string): number | undefined {
  return parseScheduleInterval(value, MIN_INTERVAL_MS);
}

export interface ScheduleOptions {
  group: string;
  everyMs: number;
  taskQueue: string;
  /** test tuning carried into every scheduled check (read timeouts, probe wait) */
  input?: Omit<ReadinessCheckInput, 'group' | 'notifyOnChange'>;
  /** who set it, for the schedule's note */
  by?: string;
}

/**
 * Creates the schedule, or updates its interval, task queue and input when it exists (its paused state is kept).
 * A new schedule runs its first check at once. Resolves with `created` false when it updated one.
 */
export async function upsertReadinessSchedule(
  client: Client,
  options: ScheduleOptions,
): Promise<{ created: boolean; handle: ScheduleHandle }> {
  const scheduleId = workflowIds.readiness(options.group);
  const args: [ReadinessCheckInput] = [{ ...options.input, group: options.group, notifyOnChange: true }];
  const action = {
    type: 'startWorkflow' as const,
    workflowType: WORKFLOW_TYPES.readinessCheck,
    taskQueue: options.taskQueue,
    workflowId: scheduleId,
    args,
    workflowExecutionTimeout: CHECK_TIMEOUT,
  };
  return upsertSchedule(client, {
    scheduleId,
    spec: { intervals: [{ every: options.everyMs }] },
    action,
    // A check still running when the next is due: skip the next, never pile them up or run two at once.
    policies: { overlap: 'SKIP', catchupWindow: '1 minute' },
    triggerImmediately: true,
    note: `readiness watch of ${options.group}${options.by ? `, set by ${options.by}` : ''}`,
  });
}

/** Pauses, resumes or deletes the group's schedule. @throws ScheduleNotFoundError when there is none. */
export async function changeReadinessSchedule(
  client: Client,
  group: string,
  change: 'pause' | 'resume' | 'delete',
  by?: string,
): Promise<void> {
  await changeSchedule(client, workflowIds.readiness(group), change, by);
}

/** The newest completed check among the schedule's recent actions. */
async function lastCheck(
  client: Client,
  description: ScheduleDescription,
): Promise<{ verdict: ReadinessVerdict; checkedAt: string } | undefined> {
  for (const a of scheduleState(description).recentRuns) {
    const handle = client.workflow.getHandle(a.workflowId, a.runId);
    try {
      if ((await handle.describe()).status.name !== 'COMPLETED') continue;
      const report = (await handle.result()) as ReadinessReport;
      return { verdict: report.verdict, checkedAt: report.checkedAt };
    } catch {
      continue;
    }
  }
  return undefined;
}

function view(client: Client, scheduleId: string, d: ScheduleDescription): Promise<ReadinessScheduleView> {
  const every = d.spec.intervals?.[0]?.every;
  const { paused, note, taskQueue, nextRunTimes } = scheduleState(d);
  const v: ReadinessScheduleView = {
    scheduleId,
    group: scheduleId.slice(SCHEDULE_PREFIX.length),
    paused,
    ...(every !== undefined ? { everyMs: msToNumber(every) } : {}),
    ...(note ? { note } : {}),
    ...(taskQueue ? { taskQueue } : {}),
    ...(nextRunTimes[0] ? { nextRunAt: nextRunTimes[0] } : {}),
  };
  return lastCheck(client, d).then((last) =>
    last ? { ...v, lastVerdict: last.verdict, lastCheckedAt: last.checkedAt } : v,
  );
}

/** One group's schedule, or undefined when it has none. */
export async function describeReadinessSchedule(
  client: Client,
  group: string,
): Promise<ReadinessScheduleView | undefined> {
  const scheduleId = workflowIds.readiness(group);
  const description = await describeSchedule(client, scheduleId);
  return description ? view(client, scheduleId, description) : undefined;
}

/** Every readiness schedule of the namespace (ids `readiness/<group>`), by group. */
export async function listReadinessSchedules(client: Client): Promise<ReadinessScheduleView[]> {
  const described = await describeSchedules(client, SCHEDULE_PREFIX);
  const views = await Promise.all(described.map((d) => view(client, d.scheduleId, d.description)));
  return views.sort((a, b) => (a.group < b.group ? -1 : 1));
}
