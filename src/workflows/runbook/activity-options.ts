import type { ActivityOptions } from '@temporalio/workflow';
import { NON_RETRYABLE_FAILURE_TYPES } from '../../contract/failures';
import type { ReadActivityTimeouts } from '../../contract/readiness';

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
