// Reads the readiness check needs from the Temporal server itself: who polls the probe task queues, and the
// verdict of the schedule's previous check (so that a change, not every failing check, tells people).
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { WORKFLOW_TYPES } from '../contract/names';
import type { ReadinessActivities, ReadinessReport, ReadinessVerdict, TaskQueuePollers } from '../contract/readiness';

export type { PreviousReadiness, ReadinessActivities, TaskQueuePollers } from '../contract/readiness';

const MAX_QUEUES = 20;
const MAX_IDENTITIES = 10;

function message(e: unknown): string {
  return String((e as Error)?.message ?? e).slice(0, 300);
}

function isVerdict(v: unknown): v is ReadinessVerdict {
  return v === 'pass' || v === 'warn' || v === 'fail';
}

/** The calling activity's client and namespace (tests outside a worker pass their own client). */
function serverOf(client?: Client): { client: Client; namespace: string } {
  if (client) return { client, namespace: client.options.namespace };
  const ctx = Context.current();
  return { client: ctx.client, namespace: ctx.info.workflowNamespace ?? ctx.info.activityNamespace };
}

export function createReadinessActivities(deps: { client?: Client } = {}): ReadinessActivities {
  return {
    async countActivityPollers({ taskQueues }) {
      const { client, namespace } = serverOf(deps.client);
      return Promise.all(
        taskQueues.slice(0, MAX_QUEUES).map(async (taskQueue): Promise<TaskQueuePollers> => {
          try {
            const response = await client.workflowService.describeTaskQueue({
              namespace,
              // TASK_QUEUE_KIND_NORMAL, TASK_QUEUE_TYPE_ACTIVITY
              taskQueue: { name: taskQueue, kind: 1 },
              taskQueueType: 2,
            });
            const pollers = response.pollers ?? [];
            return {
              taskQueue,
              pollers: pollers.length,
              identities: pollers.slice(0, MAX_IDENTITIES).map((p) => String(p.identity ?? '').slice(0, 200)),
            };
          } catch (e) {
            return { taskQueue, error: message(e) };
          }
        }),
      );
    },

    async previousReadiness({ scheduleId }) {
      const { client } = serverOf(deps.client);
      const self = deps.client ? undefined : Context.current().info.workflowExecution?.workflowId;
      let description;
      try {
        description = await client.schedule.getHandle(scheduleId).describe();
      } catch (e) {
        return { found: false, reason: `the schedule ${scheduleId} could not be read: ${message(e)}` };
      }
      const actions = [...description.info.recentActions].sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime());
      for (const action of actions) {
        const { workflowId, firstExecutionRunId: runId } = action.action.workflow;
        if (workflowId === self) continue;
        const handle = client.workflow.getHandle(workflowId, runId);
        try {
          const run = await handle.describe();
          if (run.type !== WORKFLOW_TYPES.readinessCheck || run.status.name !== 'COMPLETED') continue;
          const report = (await handle.result()) as Partial<ReadinessReport> | undefined;
          if (!isVerdict(report?.verdict)) continue;
          return { found: true, workflowId, runId, verdict: report.verdict, checkedAt: String(report.checkedAt ?? '') };
        } catch {
          // A run whose history has been removed (retention) tells nothing: look further back.
          continue;
        }
      }
      return { found: false, reason: `the schedule ${scheduleId} has no earlier completed check` };
    },
  };
}
