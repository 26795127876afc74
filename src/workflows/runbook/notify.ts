// Notifications from the runbook: a gate that needs people, its escalation, the end of the run. Sent beside the
// flow, never in its way: a gate waits for people, not for Slack, and a notification that fails is recorded, never
// a failure of the run.
import { isCancellation, log, proxyActivities } from '@temporalio/workflow';
import type { NotificationActivities } from '../../contract/activities';
import type { RunbookResult } from '../../contract/runbook';
import type { NotificationDelivery } from '../../contract/types';
import { bounded } from './bounded';
import type { EscalatingGate } from './gate';
import {
  gateNotification,
  rehearsalStartedNotification,
  runEndedNotification,
  type NoticeContext,
  type ScheduleNotice,
} from './notify-messages';

type Notify = NotificationActivities['notify'];

/** The notify activity, tagged with the step it is about (as every runbook activity is, for the audit). */
function notifyFor(step: string): Notify {
  // The activity retries each POST itself (bounded back-off); Temporal retries only a lost worker.
  return proxyActivities<Pick<NotificationActivities, 'notify'>>({
    startToCloseTimeout: '1 minute',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumAttempts: 2 },
    summary: step,
  }).notify;
}

/** A gate that keeps the deliveries of its notifications in its record. */
export interface NotifiedGate extends EscalatingGate {
  step: string;
  notifications?: NotificationDelivery[];
}

/** The run's result with the deliveries of its run-ended notification. */
export type NotifiedResult = RunbookResult & { notifications?: NotificationDelivery[] };

export class Notices {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly context: () => NoticeContext) {}

  /** A gate opened: approval needed, or intervention needed. Sent beside the gate's wait. */
  gateOpened(gate: NotifiedGate): void {
    const event = gate.kind === 'approval' ? 'approval-needed' : 'intervention-needed';
    this.send(gateNotification(event, gate, this.context(), now()), gate, gate.step);
  }

  /** A schedule started this rehearsal (validate-input accepted its standing order): its gates will need people. */
  rehearsalStarted(schedule: ScheduleNotice): void {
    this.send(rehearsalStartedNotification(this.context(), schedule, now()), {}, 'validate-input');
  }

  /** A gate escalated: sent to the notification targets, beside the escalation webhook. */
  escalated(gate: NotifiedGate): void {
    this.send(gateNotification('escalation', gate, this.context(), now()), gate, gate.step);
  }

  /**
   * The run ended: tells the targets, waits for every notification still on its way (each bounded by its
   * activity's timeouts) and records the deliveries. Returns the result it was given, with them.
   */
  async ended<R extends RunbookResult>(result: R): Promise<R> {
    const record: { notifications?: NotificationDelivery[] } = {};
    if (result.outcome !== 'refused')
      this.send(runEndedNotification(result, this.context(), now()), record, 'complete');
    await this.settle();
    if (record.notifications?.length) (result as NotifiedResult).notifications = record.notifications;
    return result;
  }

  /** Waits for every notification on its way (before the run continues as new, so its gates keep their deliveries). */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  private send(
    notification: Parameters<Notify>[0]['notification'],
    into: { notifications?: NotificationDelivery[] },
    step: string,
  ): void {
    const { group } = this.context();
    const recorded = (deliveries: NotificationDelivery[]): void => {
      if (deliveries.length) (into.notifications ??= []).push(...deliveries);
    };
    const p: Promise<void> = notifyFor(step)({ group, notification }).then(
      ({ deliveries }) => recorded(deliveries),
      (err: unknown) => {
        if (isCancellation(err)) return;
        // An ActivityFailure says only that the activity failed; its cause says why.
        const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
        const error = bounded(cause instanceof Error ? cause.message : String(cause), 500);
        log.warn(`${notification.event} notification could not be sent: ${error}`);
      },
    );
    this.pending.add(p);
    void p.then(() => this.pending.delete(p));
  }
}

function now(): string {
  return new Date().toISOString();
}
