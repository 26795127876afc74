import { ApplicationFailure } from '@temporalio/activity';
import { classifyAzureError, type ClassifiedAzureError } from '../azure/errors';

/**
 * Turns anything an Azure call threw into the ApplicationFailure the workflow sees: the contract failure
 * type, non-retryable for bad requests/forbidden/not found, and the service's Retry-After as the next delay.
 */
export function azureFailure(e: unknown, doing: string): ApplicationFailure {
  const c: ClassifiedAzureError = classifyAzureError(e);
  // The ARM code belongs in the message: it is what the step log and an intervention gate show.
  const status =
    c.statusCode !== undefined
      ? ` (HTTP ${c.statusCode}${c.code ? ` ${c.code}` : ''})`
      : c.code && !c.message.includes(c.code)
        ? ` (${c.code})`
        : '';
  return ApplicationFailure.create({
    message: `${doing}: ${c.message}${status}`,
    type: c.type,
    nonRetryable: !c.retryable,
    details: [{ statusCode: c.statusCode, code: c.code, message: c.message }],
    ...(c.retryAfterMs !== undefined ? { nextRetryDelay: c.retryAfterMs } : {}),
  });
}
