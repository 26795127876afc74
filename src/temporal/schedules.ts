/**
 * Temporal Schedules as geofailover uses them (the readiness watch, rehearsals on a schedule): create or update one
 * by id, pause/resume/delete it, list those of one id prefix, with one view of what people ask about (paused, next
 * runs, recent runs).
 */
import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
  type Workflow,
} from '@temporalio/client';
import { msToNumber } from '@temporalio/common/lib/time';

export type ScheduleChange = 'pause' | 'resume' | 'delete';

/** `'15m'`, `'30 seconds'`, `'1h'` → ms; undefined for anything else (or under `minMs`, a second by default). */
export function parseInterval(value: string, minMs = 1000): number | undefined {
  try {
    const ms = msToNumber(value.trim() as never);
    return Number.isFinite(ms) && ms >= minMs ? ms : undefined;
  } catch {
    return undefined;
  }
}

export interface UpsertSchedule {
  scheduleId: string;
  spec: ScheduleSpec;
  action: ScheduleOptionsStartWorkflowAction<Workflow>;
  policies?: ScheduleOptions['policies'];
  /** whether a new schedule runs its action at once (an update never does) */
  triggerImmediately?: boolean;
  /** the schedule's note (who set it, why) */
  note?: string;
}

/**
 * Creates the schedule, or updates its spec and action when it exists (its paused state is kept). Resolves with
 * `created` false when it updated one.
 */
export async function upsertSchedule(
  client: Client,
  options: UpsertSchedule,
): Promise<{ created: boolean; handle: ScheduleHandle }> {
  const { scheduleId, spec, action } = options;
  try {
    const handle = await client.schedule.create({
      scheduleId,
      spec,
      action,
      ...(options.policies ? { policies: options.policies } : {}),
      state: {
        ...(options.triggerImmediately ? { triggerImmediately: true } : {}),
        ...(options.note ? { note: options.note } : {}),
      },
    });
    return { created: true, handle };
  } catch (e) {
    if (!(e instanceof ScheduleAlreadyRunning)) throw e;
    const handle = client.schedule.getHandle(scheduleId);
    await handle.update((previous) => ({
      ...previous,
      spec,
      action: { ...previous.action, ...action },
      ...(options.policies ? { policies: { ...previous.policies, ...options.policies } } : {}),
      // The note says who set it last; the paused state stays as it was.
      ...(options.note ? { state: { ...previous.state, note: options.note } } : {}),
    }));
    return { created: false, handle };
  }
}

/** Pauses, resumes or deletes a schedule. @throws ScheduleNotFoundError when there is none. */
export async function changeSchedule(
  client: Client,
  scheduleId: string,
  change: ScheduleChange,
  by?: string,
): Promise<void> {
  const handle = client.schedule.getHandle(scheduleId);
  const note = by ? `${change}d by ${by}` : undefined;
  if (change === 'pause') await handle.pause(note);
  else if (change === 'resume') await handle.unpause(note);
  else await handle.delete();
}

/** The schedule's description, or undefined when there is none. */
export async function describeSchedule(client: Client, scheduleId: string): Promise<ScheduleDescription | undefined> {
  try {
    return await client.schedule.getHandle(scheduleId).describe();
  } catch (e) {
    if (e instanceof ScheduleNotFoundError) return undefined;
    throw e;
  }
}

/** Every schedule of the namespace whose id starts with `prefix`, described, by id. */
export async function describeSchedules(
  client: Client,
  prefix: string,
): Promise<{ scheduleId: string; description: ScheduleDescription }[]> {
  const ids: string[] = [];
  for await (const s of client.schedule.list()) {
    if (s.scheduleId.startsWith(prefix)) ids.push(s.scheduleId);
  }
  const described = await Promise.all(
    ids.map(async (scheduleId) => {
      const description = await describeSchedule(client, scheduleId);
      return description ? { scheduleId, description } : undefined;
    }),
  );
  return described
    .filter((d): d is { scheduleId: string; description: ScheduleDescription } => d !== undefined)
    .sort((a, b) => (a.scheduleId < b.scheduleId ? -1 : 1));
}

/** What people ask of any schedule: paused, its note, its next run times and its recent runs (newest first). */
export interface ScheduleState {
  paused: boolean;
  note?: string;
  taskQueue?: string;
  /** the next few action times, ISO 8601 */
  nextRunTimes: string[];
  /** recent runs, newest first */
  recentRuns: { workflowId: string; runId: string; scheduledAt: string; takenAt: string }[];
}

export function scheduleState(d: ScheduleDescription): ScheduleState {
  return {
    paused: d.state.paused,
    ...(d.state.note ? { note: d.state.note } : {}),
    ...(d.action.type === 'startWorkflow' ? { taskQueue: d.action.taskQueue } : {}),
    nextRunTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns: [...d.info.recentActions]
      .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime())
      .map((a) => ({
        workflowId: a.action.workflow.workflowId,
        runId: a.action.workflow.firstExecutionRunId,
        scheduledAt: a.scheduledAt.toISOString(),
        takenAt: a.takenAt.toISOString(),
      })),
  };
}
