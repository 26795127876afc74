import type { Endpoint, Profile } from '@azure/arm-trafficmanager';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { ArmClients } from '../azure/clients';
import {
  normalizeEndpointType,
  parseTrafficManagerProfileId,
  type TrafficManagerProfileResourceId,
} from '../azure/resource-ids';
import { FAILURE_TYPES } from '../contract/failures';
import type { EndpointRef } from '../contract/runbook';
import { azureFailure } from './azure-failure';
import { laterAttempt, waitOutThrottling, whileHeartbeating } from './lro-wait';
import { endpointHolders, sharingGroups, type EndpointLeaseDependencies } from './endpoint-lease';
import { lookupPolicy, requireAuthorization, type PolicyDependencies } from './policy';
import type { EndpointState, ProfileSnapshot, TrafficActivities } from './types';

export interface TrafficDependencies extends EndpointLeaseDependencies {
  arm: ArmClients;
  /** how long a throttled (429) call is waited out before the activity fails; default 10 minutes */
  throttleWaitMs?: number;
}

/**
 * The database whose region the endpoint serves, in the group's policy: a signed start must name it. Undefined
 * when the profile or endpoint is not the group's (the check then refuses).
 */
function servedDatabase(deps: PolicyDependencies, group: unknown, profileId: string, endpoint: EndpointRef): string {
  const lookup = lookupPolicy(deps, group);
  if (!lookup.found) return '';
  const { trafficManager, members } = lookup.policy.group;
  if (trafficManager.profileId !== profileId) return "(a profile that is not the group's)";
  const region = Object.entries(trafficManager.endpoints).find(
    ([, e]) => e.name === endpoint?.name && e.type === endpoint?.type,
  )?.[0];
  return (region && members[region]) || "(an endpoint that is not the group's)";
}

function profileIdOf(profileId: string): TrafficManagerProfileResourceId {
  try {
    return parseTrafficManagerProfileId(profileId);
  } catch (e) {
    throw ApplicationFailure.nonRetryable((e as Error).message, FAILURE_TYPES.invalidInput);
  }
}

/** `Microsoft.Network/trafficManagerProfiles/externalEndpoints` → `ExternalEndpoints` (the EndpointRef spelling). */
function endpointTypeOf(type: string | undefined): string {
  const last = (type ?? '').split('/').pop() ?? '';
  return normalizeEndpointType(last) ?? type ?? '';
}

function endpointState(e: Endpoint): EndpointState {
  return {
    name: e.name ?? '',
    type: endpointTypeOf(e.type),
    endpointStatus: e.endpointStatus ?? 'Unknown',
    ...(e.endpointMonitorStatus !== undefined ? { endpointMonitorStatus: e.endpointMonitorStatus } : {}),
    ...(e.priority !== undefined ? { priority: e.priority } : {}),
    ...(e.target !== undefined ? { target: e.target } : {}),
  };
}

function snapshotOf(profileId: string, p: Profile): ProfileSnapshot {
  return {
    profileId,
    ...(p.trafficRoutingMethod !== undefined ? { routingMethod: p.trafficRoutingMethod } : {}),
    ...(p.profileStatus !== undefined ? { profileStatus: p.profileStatus } : {}),
    endpoints: (p.endpoints ?? []).map(endpointState),
  };
}

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
const matches = (e: EndpointState, ref: EndpointRef): boolean =>
  sameName(e.name, ref.name) && sameName(e.type, ref.type);
const enabled = (e: EndpointState): boolean => e.endpointStatus === 'Enabled';

function unsafe(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: FAILURE_TYPES.verificationFailed,
    nonRetryable: true,
    ...(details !== undefined ? { details: [details] } : {}),
  });
}

/**
 * The profile must show `endpoint` in `status` and keep at least one enabled endpoint.
 * @throws non-retryable VerificationFailed explaining what is wrong.
 */
function verify(snapshot: ProfileSnapshot, profileName: string, ref: EndpointRef, status: string): void {
  const e = snapshot.endpoints.find((x) => matches(x, ref));
  if (!e || e.endpointStatus !== status) {
    throw unsafe(
      `Traffic Manager profile ${profileName}: endpoint ${ref.name} reads ${e?.endpointStatus ?? 'missing'} after it was set to ${status}`,
      snapshot,
    );
  }
  if (!snapshot.endpoints.some(enabled)) {
    throw unsafe(
      `Traffic Manager profile ${profileName} has no enabled endpoint left: nothing would answer DNS queries`,
      snapshot,
    );
  }
}

/**
 * Traffic Manager reads and the endpoint switch; the switch reads first and acts only when needed, and never
 * enables an endpoint an open incident of another group holds (endpoint-lease.ts).
 */
export function createTrafficActivities(deps: TrafficDependencies): TrafficActivities {
  // Switches of one endpoint run one at a time in this worker: two failbacks released together read, decide and
  // PATCH in turn, so the second finds it enabled and changes nothing.
  const switching = new Map<string, Promise<unknown>>();
  const oneAtATime = async <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const previous = switching.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    switching.set(key, settled);
    try {
      return await next;
    } finally {
      if (switching.get(key) === settled) switching.delete(key);
    }
  };

  /** The Traffic Manager client of the profile's own subscription. */
  const tmFor = (id: TrafficManagerProfileResourceId): ArmClients['trafficManager'] =>
    deps.arm.forSubscription(id.subscriptionId).trafficManager;

  async function read(profileId: string, id: TrafficManagerProfileResourceId): Promise<ProfileSnapshot> {
    const abortSignal = Context.current().cancellationSignal;
    try {
      const profile = await waitOutThrottling(
        () => tmFor(id).profiles.get(id.resourceGroupName, id.profileName, { abortSignal }),
        `reading Traffic Manager profile ${id.profileName}`,
        deps.throttleWaitMs,
      );
      return snapshotOf(profileId, profile);
    } catch (e) {
      throw azureFailure(e, `reading Traffic Manager profile ${id.profileName}`);
    }
  }

  return {
    async readProfile({ profileId }) {
      return read(profileId, profileIdOf(profileId));
    },

    async setEndpointStatus(input) {
      const { profileId, endpoint, status } = input;
      await requireAuthorization(deps, input, `setting endpoint ${String(endpoint?.name).slice(0, 64)} ${status}`, {
        target: servedDatabase(deps, input.group, profileId, endpoint),
      });
      const id = profileIdOf(profileId);
      const key = `${profileId}|${endpoint.type}|${endpoint.name}`.toLowerCase();
      // A slow ARM call (or a wait for the other failback) keeps the attempt alive.
      const change = await whileHeartbeating(() => oneAtATime(key, () => switchEndpoint(input, id)));
      const sharedWith = sharingGroups(deps, String(input.group), profileId, endpoint).map((g) => g.group);
      return sharedWith.length > 0 ? { ...change, sharedWith } : change;
    },
  };

  async function switchEndpoint(
    input: Parameters<TrafficActivities['setEndpointStatus']>[0],
    id: TrafficManagerProfileResourceId,
  ): ReturnType<TrafficActivities['setEndpointStatus']> {
    const { profileId, endpoint, status } = input;
    if (status === 'Enabled') {
      const heldBy = await endpointHolders(deps, { group: String(input.group), profileId, endpoint });
      if (heldBy.length > 0) {
        const profile = await read(profileId, id);
        log.info(
          `endpoint ${endpoint.name} of ${id.profileName} stays as it is: held by ${heldBy.map((h) => h.workflowId).join(', ')}`,
        );
        return { before: profile, after: profile, changed: false, heldBy };
      }
    }
    const before = await read(profileId, id);
    const current = before.endpoints.find((e) => matches(e, endpoint));
    if (!current) {
      throw ApplicationFailure.nonRetryable(
        `Traffic Manager profile ${id.profileName} has no ${endpoint.type} endpoint named ${endpoint.name}` +
          ` (it has: ${before.endpoints.map((e) => `${e.type}/${e.name}`).join(', ') || 'none'})`,
        FAILURE_TYPES.azureNotFound,
      );
    }
    if (current.endpointStatus === status) {
      // Already done (by an earlier attempt or by hand): no PATCH, but the profile must still be safe.
      verify(before, id.profileName, endpoint, status);
      log.info(`endpoint ${endpoint.name} of ${id.profileName} is already ${status}; nothing to do`);
      return { before, after: before, changed: false, ...laterAttempt() };
    }
    if (status === 'Disabled' && !before.endpoints.some((e) => enabled(e) && !matches(e, endpoint))) {
      throw unsafe(
        `refusing to disable endpoint ${endpoint.name} of Traffic Manager profile ${id.profileName}: it is the last enabled endpoint (no other enabled endpoint would serve traffic)`,
        before,
      );
    }
    try {
      // ARM throttles Traffic Manager writes too: a 429 is waited out (Retry-After), not turned into a gate.
      await waitOutThrottling(
        () =>
          tmFor(id).endpoints.update(
            id.resourceGroupName,
            id.profileName,
            endpoint.type,
            current.name,
            { endpointStatus: status },
            { abortSignal: Context.current().cancellationSignal },
          ),
        `setting endpoint ${endpoint.name} of ${id.profileName} to ${status}`,
        deps.throttleWaitMs,
      );
    } catch (e) {
      throw azureFailure(e, `setting endpoint ${endpoint.name} of ${id.profileName} to ${status}`);
    }
    const after = await read(profileId, id);
    verify(after, id.profileName, endpoint, status);
    log.info(`endpoint ${endpoint.name} of ${id.profileName}: ${current.endpointStatus} → ${status}`);
    return { before, after, changed: true };
  }
}
