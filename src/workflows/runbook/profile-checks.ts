// What a Traffic Manager profile must look like after the runbook changed it. Pure.
import type { ProfileSnapshot } from '../../activities/types';

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
