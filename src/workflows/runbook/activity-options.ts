import { ActivityCancellationType } from '@temporalio/workflow';
import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../contract/failures';
import { probeTaskQueue } from '../../contract/names';
import type { ReadActivityTimeouts } from '../../contract/readiness';
import type { RunbookTuning } from '../../contract/runbook';

/**
 * Options for read-only activities (describe, memory): short attempts, retried with backoff until
 * `scheduleToClose`; contract failure types such as bad request or forbidden are never retried.
 */
export function readActivityOptions(timeouts: ReadActivityTimeouts = {}): ActivityOptions {
  return {
    startToCloseTimeout: timeouts.startToClose ?? '30 seconds',
    scheduleToCloseTimeout: timeouts.scheduleToClose ?? '2 minutes',
    retry: {
      initialInterval: timeouts.initialRetryInterval ?? '1 second',
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
    },
  };
}

/** The failed region's member read in failover's membership step, when `tuning.failedMemberRead` is not set. */
export const DEFAULT_FAILED_MEMBER_READ = '5 seconds';

/**
 * Options for the failed region's member read in failover's membership step: its whole budget, all attempts
 * included, is `tuning.failedMemberRead` (default {@link DEFAULT_FAILED_MEMBER_READ}); the activity aborts its
 * ARM requests before that deadline and reports the member as not answering. Survivors keep
 * {@link readActivityOptions}.
 */
export function failedMemberReadActivityOptions(tuning: RunbookTuning = {}): ActivityOptions {
  const budget = tuning.failedMemberRead ?? DEFAULT_FAILED_MEMBER_READ;
  return {
    startToCloseTimeout: budget,
    scheduleToCloseTimeout: budget,
    retry: {
      initialInterval: tuning.reads?.initialRetryInterval ?? '1 second',
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
    },
  };
}

/** How long a probe waits for its region's probe worker when `tuning.probeScheduleToStart` is not set. */
export const DEFAULT_PROBE_SCHEDULE_TO_START = '2 minutes';

/**
 * Options for probes on an application region's probe task queue. A probe waits at most
 * `tuning.probeScheduleToStart` (default 2 minutes) for that region's probe worker to pick it up, then fails
 * with a ScheduleToStart timeout (which Temporal does not retry): a missing probe worker is a named failure,
 * not an endless wait. Each of the four stages (TCP, TLS, AUTH, PING) is bounded by `probeTimeoutMs`.
 */
export function probeActivityOptions(
  applicationRegion: string,
  options: { probeTimeoutMs: number; tuning?: RunbookTuning },
): ActivityOptions {
  return {
    taskQueue: probeTaskQueue(applicationRegion),
    scheduleToStartTimeout: options.tuning?.probeScheduleToStart ?? DEFAULT_PROBE_SCHEDULE_TO_START,
    startToCloseTimeout: 4 * options.probeTimeoutMs + 10_000,
    retry: {
      initialInterval: '1 second',
      backoffCoefficient: 2,
      maximumAttempts: 3,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
    },
  };
}

/**
 * Options for mutations that finish in one call (Traffic Manager endpoint status, escalation webhook):
 * retried with backoff a bounded number of times (`tuning.mutationMaximumAttempts`, default 5), after
 * which the step opens an intervention gate. Each activity checks state first, so a retry repeats nothing.
 */
export function mutationActivityOptions(tuning: RunbookTuning = {}): ActivityOptions {
  return {
    // Long enough to wait out ARM throttling inside the attempt (it heartbeats while it waits); a crashed worker's
    // attempt is retried after the heartbeat timeout, not the start-to-close.
    startToCloseTimeout: '15 minutes',
    heartbeatTimeout: tuning.heartbeatTimeout ?? '60 seconds',
    retry: {
      initialInterval: tuning.mutationInitialRetryInterval ?? '1 second',
      backoffCoefficient: 2,
      maximumInterval: '1 minute',
      maximumAttempts: tuning.mutationMaximumAttempts ?? 5,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
    },
  };
}

/**
 * Options for destructive long-running operations (force-unlink, rejoin): a long attempt kept alive by
 * heartbeats, so a lost worker is noticed within `heartbeatTimeout` and the retry resumes the same Azure
 * operation; on cancellation the workflow waits until the activity has stopped, never leaving an
 * operation half-watched.
 */
export function destructiveActivityOptions(tuning: RunbookTuning = {}): ActivityOptions {
  return {
    ...mutationActivityOptions(tuning),
    startToCloseTimeout: '2 hours',
    heartbeatTimeout: tuning.heartbeatTimeout ?? '60 seconds',
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  };
}
