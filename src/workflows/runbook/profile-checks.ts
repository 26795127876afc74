// What a Traffic Manager profile must look like after the runbook changed it. Pure.
import type { ProfileSnapshot } from '../../contract/activities';

// Monitor states in which an endpoint does not serve traffic.
const UNHEALTHY_MONITOR_STATES = ['Degraded', 'Stopped', 'Inactive', 'Disabled'];

/**
 * Problems of the profile after setting `endpointName` to `status`: the endpoint must have that status and,
 * after disabling one, at least one other endpoint must be enabled and healthy. Empty when safe.
 */
export function profileProblems(
  profile: ProfileSnapshot,
  endpointName: string,
  status: 'Enabled' | 'Disabled',
): string[] {
  const problems: string[] = [];
  const endpoint = profile.endpoints.find((e) => e.name.toLowerCase() === endpointName.toLowerCase());
  if (!endpoint) problems.push(`the profile has no endpoint named ${endpointName}`);
  else if (endpoint.endpointStatus !== status) {
    problems.push(`endpoint ${endpointName} is ${endpoint.endpointStatus}, expected ${status}`);
  }
  const serving = servingEndpoints(profile);
  if (serving.length === 0) problems.push('no endpoint is enabled and healthy: nothing would serve traffic');
  return problems;
}

/** Names of the endpoints that are enabled and not reported unhealthy. */
export function servingEndpoints(profile: ProfileSnapshot): string[] {
  return profile.endpoints
    .filter((e) => e.endpointStatus === 'Enabled')
    .filter((e) => !e.endpointMonitorStatus || !UNHEALTHY_MONITOR_STATES.includes(e.endpointMonitorStatus))
    .map((e) => e.name);
}

/** Where an endpoint that was just enabled stands: serving, still being checked, or not serving. */
export type EnabledEndpointVerdict =
  | { kind: 'online'; monitorStatus: string }
  | { kind: 'checking'; monitorStatus: string }
  | { kind: 'unhealthy'; monitorStatus: string; problem: string };

// Traffic Manager's word for "enabled, the first probe has not answered yet" (docs/ARCHITECTURE.md: Traffic
// Manager monitor status).
const CHECKING_MONITOR_STATES = ['CheckingEndpoint'];
// Serving without health probes (alwaysServe): as good as Online.
const SERVING_MONITOR_STATES = ['Online', 'Unmonitored'];

/**
 * After enabling `endpointName`: Online (or Unmonitored) is done; CheckingEndpoint (or no monitor status yet)
 * means wait; anything else — Degraded (health probes fail), Stopped, Inactive, Disabled, or the endpoint not
 * enabled — means it does not serve traffic.
 */
export function enabledEndpointVerdict(profile: ProfileSnapshot, endpointName: string): EnabledEndpointVerdict {
  const endpoint = profile.endpoints.find((e) => e.name.toLowerCase() === endpointName.toLowerCase());
  if (!endpoint) {
    return {
      kind: 'unhealthy',
      monitorStatus: 'missing',
      problem: `the profile has no endpoint named ${endpointName}`,
    };
  }
  const monitorStatus = endpoint.endpointMonitorStatus ?? 'unknown';
  if (endpoint.endpointStatus !== 'Enabled') {
    return {
      kind: 'unhealthy',
      monitorStatus,
      problem: `endpoint ${endpointName} is ${endpoint.endpointStatus}, expected Enabled`,
    };
  }
  if (SERVING_MONITOR_STATES.includes(monitorStatus)) return { kind: 'online', monitorStatus };
  if (endpoint.endpointMonitorStatus === undefined || CHECKING_MONITOR_STATES.includes(monitorStatus)) {
    return { kind: 'checking', monitorStatus };
  }
  const why =
    monitorStatus === 'Degraded'
      ? "Traffic Manager's health probes of it fail, so it gets no traffic"
      : 'Traffic Manager does not send it traffic';
  return { kind: 'unhealthy', monitorStatus, problem: `endpoint ${endpointName} is ${monitorStatus}: ${why}` };
}
