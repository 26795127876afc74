/**
 * Failure types carried by ApplicationFailure.type. Workflows branch on these strings, never on
 * error class names (which bundling can rename).
 */
export const FAILURE_TYPES = {
  /** 400 or a validation error from Azure: the request itself is wrong. */
  azureBadRequest: 'AzureBadRequest',
  /** 401/403: the identity lacks a role or the token is refused. */
  azureUnauthorized: 'AzureUnauthorized',
  /** 404: the resource does not exist. */
  azureNotFound: 'AzureNotFound',
  /** 409: another operation holds the resource; retried. */
  azureConflict: 'AzureConflict',
  /** 429: throttled; retried after Retry-After. */
  azureThrottled: 'AzureThrottled',
  /** 5xx, timeouts, network errors; retried. */
  azureTransient: 'AzureTransient',
  /** A long-running operation ended Failed or Canceled. */
  azureOperationFailed: 'AzureOperationFailed',
  /** A data-plane probe (TCP, TLS, AUTH, PING) failed. */
  probeFailed: 'ProbeFailed',
  /** The runbook input or configuration is invalid. */
  invalidInput: 'InvalidInput',
  /**
   * A safety check on Azure state failed: an action would leave an unsafe state (e.g. no enabled Traffic
   * Manager endpoint), or the state read back after an action is not what the action promised. A person decides.
   */
  verificationFailed: 'VerificationFailed',
  /**
   * A destructive activity refused to act: the signed start or approvals that must come with the call do not
   * verify against the worker's own policy. Nothing was called in Azure.
   */
  notAuthorized: 'NotAuthorized',
} as const;
export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

export const NON_RETRYABLE_FAILURE_TYPES: readonly FailureType[] = [
  FAILURE_TYPES.azureBadRequest,
  FAILURE_TYPES.azureUnauthorized,
  FAILURE_TYPES.azureNotFound,
  // A destructive operation that ended Failed is not repeated blindly: a person decides at an intervention gate.
  FAILURE_TYPES.azureOperationFailed,
  FAILURE_TYPES.invalidInput,
  FAILURE_TYPES.verificationFailed,
  FAILURE_TYPES.notAuthorized,
];
