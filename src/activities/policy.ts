import { activityInfo, ApplicationFailure, log } from '@temporalio/activity';
import { FAILURE_TYPES } from '../contract/failures';
import type { PolicyLookup } from '../contract/policy';
import { destructiveRefusal, type DestructiveRequest } from '../policy/authorize';
import { temporalCallerCheck, type CallerCheck } from './caller';
import { evacuationRunFor, type EvacuationLookup } from './evacuation-caller';
import type { PolicyActivities } from './types';

/** Looks a group's policy up in the worker's own configuration. */
export type PolicySource = (group: string) => PolicyLookup;

export interface PolicyDependencies {
  /** the worker's configuration, as policies; absent: every lookup is refused and nothing destructive runs */
  policies?: PolicySource;
  /** the ARM clients' endpoint: loadPolicy records its origin, so the evidence tells a drill from production */
  arm?: { endpoint: string };
  /**
   * How a destructive activity checks the run that called it (default: ask the Temporal server, see caller.ts).
   * Tests that run activities outside any workflow replace it.
   */
  callerCheck?: CallerCheck;
  /** Which evacuation started the calling run (default: ask the Temporal server); only tests replace it. */
  evacuationOf?: EvacuationLookup;
}

const NO_POLICY: PolicyLookup = {
  found: false,
  reason: 'this worker was started without a configuration: it holds no policy and acts on no group',
};

export function lookupPolicy(deps: PolicyDependencies, group: unknown): PolicyLookup {
  if (typeof group !== 'string' || group.length > 63) return { found: false, reason: 'the group must be a short name' };
  return deps.policies ? deps.policies(group) : NO_POLICY;
}

/** scheme://host:port only: whatever else an endpoint URL carries (user info, path, query) stays out of history. */
function endpointOrigin(endpoint: string): string | undefined {
  try {
    const origin = new URL(endpoint).origin;
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

export function createPolicyActivities(deps: PolicyDependencies): PolicyActivities {
  return {
    async loadPolicy({ group }) {
      const lookup = lookupPolicy(deps, group);
      const armEndpoint = deps.arm ? endpointOrigin(deps.arm.endpoint) : undefined;
      return lookup.found && armEndpoint ? { ...lookup, armEndpoint } : lookup;
    },
  };
}

/**
 * Refuses (non-retryable NotAuthorized, before any Azure call) unless the call carries what the worker's own
 * policy requires of the run that scheduled it. The workflow execution is read from the activity's info, never
 * from its input.
 */
export async function requireAuthorization(
  deps: PolicyDependencies,
  input: { group: unknown; authorization: unknown },
  what: string,
  check: Omit<DestructiveRequest, 'policy' | 'workflowId' | 'runId' | 'authorization'>,
): Promise<void> {
  // Activities run only for workflows; an activity with no workflow execution is refused like any other.
  const workflowExecution = activityInfo().workflowExecution ?? { workflowId: '(none)', runId: '(none)' };
  const lookup = lookupPolicy(deps, input.group);
  const evacuation = lookup.found
    ? await evacuationRunFor(deps.evacuationOf, input.authorization, workflowExecution, what)
    : undefined;
  let refusal = lookup.found
    ? destructiveRefusal({
        ...check,
        policy: lookup.policy,
        workflowId: workflowExecution.workflowId,
        runId: workflowExecution.runId,
        authorization: input.authorization,
        ...(evacuation ? { evacuation } : {}),
      })
    : lookup.reason;
  if (!refusal) {
    const callerCheck = deps.callerCheck ?? temporalCallerCheck;
    try {
      refusal = await callerCheck({
        ...workflowExecution,
        request: (input.authorization as { request?: unknown }).request,
      });
    } catch (e) {
      // Not knowing who called is not authorization: retried, since the server may be back in a moment.
      throw ApplicationFailure.retryable(
        `${what}: could not check the calling run with the Temporal server: ${(e as Error)?.message ?? String(e)}`,
        FAILURE_TYPES.azureTransient,
      );
    }
  }
  if (refusal) {
    const message = `${what} refused, nothing was called in Azure: ${refusal}`;
    log.warn(message, { workflowId: workflowExecution.workflowId, runId: workflowExecution.runId });
    throw ApplicationFailure.create({ message, type: FAILURE_TYPES.notAuthorized, nonRetryable: true });
  }
}
