// Traffic: traffic-reroute (after the firewall passed), verify (canary on survivors), traffic-failback
// (after the recovered endpoint passes the same probes).
import type { EndpointRef } from '../../contract/runbook';
import { FAILURE_TYPES } from '../../contract/failures';
import { formatMs } from './durations';
import { StepFailure } from './intervention';
import { probeFrom, requireProbesPassed } from './probes';
import { profileProblems, servingEndpoints } from './profile-checks';
import type { Runbook } from './runbook';

const CANARY_TTL_SECONDS = 60;

function endpointOf(rb: Runbook): EndpointRef {
  return rb.group.trafficManager.endpoints[rb.region] as EndpointRef;
}

async function setEndpoint(rb: Runbook, status: 'Enabled' | 'Disabled') {
  const endpoint = endpointOf(rb);
  const change = await rb.acts.setEndpointStatus({
    profileId: rb.group.trafficManager.profileId,
    endpoint,
    status,
    group: rb.group.name,
    authorization: rb.authorization(),
  });
  const problems = profileProblems(change.after, endpoint.name, status);
  if (problems.length > 0) {
    throw new StepFailure(
      `the profile after setting ${endpoint.name} ${status} is not safe: ${problems.join('; ')}`,
      FAILURE_TYPES.verificationFailed,
      change,
    );
  }
  return change;
}

/** traffic-reroute: disable the failed region's endpoint, verify the profile, and measure the RTO. */
export async function rerouteStep(rb: Runbook): Promise<void> {
  rb.setPhase('rerouting');
  const endpoint = endpointOf(rb);
  await rb.runStep(
    'traffic-reroute',
    `disabling endpoint ${endpoint.name} of the Traffic Manager profile`,
    async () => {
      const change = await setEndpoint(rb, 'Disabled');
      rb.rtoMs = rb.elapsedMs;
      return {
        summary:
          `${endpoint.name} ${change.changed ? 'disabled' : 'was already disabled'}; serving: ` +
          `${servingEndpoints(change.after).join(', ')}; RTO ${formatMs(rb.rtoMs)}`,
        evidence: { before: change.before, after: change.after, changed: change.changed, rtoMs: rb.rtoMs },
        value: undefined,
      };
    },
  );
}

/** verify: a canary write/read with a TTL on every survivor. */
export async function verifyStep(rb: Runbook): Promise<void> {
  await rb.runStep('verify', 'canary write/read on every survivor', async () => {
    const canaries = await Promise.all(
      rb.survivors.map((member) => rb.acts.canaryWriteRead({ member, ttlSeconds: CANARY_TTL_SECONDS })),
    );
    return {
      summary: `canary written and read back on ${canaries.map((c) => `${c.region} (${c.latencyMs} ms)`).join(', ')}`,
      evidence: { canaries, ttlSeconds: CANARY_TTL_SECONDS },
      value: undefined,
    };
  });
}

/** traffic-failback: the recovered member must pass the probes from every application region first. */
export async function failbackStep(rb: Runbook): Promise<void> {
  rb.setPhase('failing-back');
  const endpoint = endpointOf(rb);
  const applicationRegions = Object.keys(rb.group.applicationRegions);
  await rb.runStep(
    'traffic-failback',
    `probing ${rb.region} from ${applicationRegions.join(', ')}, then enabling endpoint ${endpoint.name}`,
    async () => {
      const report = await probeFrom(rb, applicationRegions, [rb.member]);
      requireProbesPassed(
        report,
        `endpoint ${endpoint.name} stays disabled until every application region reaches ${rb.region}`,
      );
      const change = await setEndpoint(rb, 'Enabled');
      return {
        summary:
          `${report.probes.length} probes of ${rb.region} passed; ${endpoint.name} ` +
          `${change.changed ? 'enabled' : 'was already enabled'}; serving: ${servingEndpoints(change.after).join(', ')}`,
        evidence: { probes: report.probes, before: change.before, after: change.after, changed: change.changed },
        value: undefined,
      };
    },
  );
}
