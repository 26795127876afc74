// Traffic: traffic-reroute (after the firewall passed), verify (canary on survivors), traffic-failback
// (after the recovered endpoint passes the same probes, once no other group's open incident holds the endpoint when
// groups share it, and until Traffic Manager reports it Online).
import { condition, patched, sleep } from '@temporalio/workflow';
import { alreadyDone } from './attempts';
import type { EndpointHolder, ProfileSnapshot } from '../../contract/activities';
import type { EndpointRef } from '../../contract/runbook';
import { FAILURE_TYPES } from '../../contract/failures';
import { durationMs, formatMs } from './durations';
import { StepFailure } from './intervention';
import { probeFrom, requireProbesPassed } from './probes';
import { enabledEndpointVerdict, profileProblems, servingEndpoints } from './profile-checks';
import type { Runbook } from './runbook';

const CANARY_TTL_SECONDS = 60;

/**
 * Patch id: traffic-failback re-reads the profile after enabling until the endpoint is Online. Runs started
 * before it took the old path (done as soon as the endpoint read Enabled); see README "Replay tests".
 */
export const FAILBACK_WAITS_ONLINE_PATCH = 'tm-failback-waits-online';
/** How long failback waits for Online when `tuning.failbackOnlineTimeout` is not set. */
export const DEFAULT_FAILBACK_ONLINE_TIMEOUT_MS = 5 * 60_000;
// Re-reads after 1 s, 2 s, 4 s, … at most 15 s apart (Azure probes every 10 or 30 s).
const FIRST_REREAD_MS = 1000;
const MAX_REREAD_MS = 15_000;
/** While another incident holds a shared endpoint, asks again at most this many recoveryPollIntervals apart. */
const LEASE_MAX_POLL_FACTOR = 16;

function endpointOf(rb: Runbook): EndpointRef {
  return rb.group.trafficManager.endpoints[rb.region] as EndpointRef;
}

export async function setEndpoint(rb: Runbook, status: 'Enabled' | 'Disabled') {
  const endpoint = endpointOf(rb);
  const step = status === 'Disabled' ? 'traffic-reroute' : 'traffic-failback';
  const change = await rb.actsFor(step).setEndpointStatus({
    profileId: rb.group.trafficManager.profileId,
    endpoint,
    status,
    group: rb.group.name,
    authorization: rb.authorization(),
  });
  // Another group's open incident holds the shared endpoint: nothing changed, the caller waits.
  if (change.heldBy?.length) return change;
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
      const shared = change.sharedWith?.length
        ? `; shared with group(s) ${change.sharedWith.join(', ')}: their failback leaves it disabled while this incident holds it`
        : '';
      return {
        summary:
          `${endpoint.name} ${change.changed ? 'disabled' : alreadyDone('disabled', change.foundAtAttempt)}; serving: ` +
          `${servingEndpoints(change.after).join(', ')}; RTO ${formatMs(rb.rtoMs)}${shared}`,
        evidence: {
          before: change.before,
          after: change.after,
          changed: change.changed,
          rtoMs: rb.rtoMs,
          ...(change.sharedWith?.length ? { sharedWith: change.sharedWith } : {}),
        },
        value: undefined,
      };
    },
  );
}

/** verify: a canary write/read with a TTL on every survivor. */
export async function verifyStep(rb: Runbook): Promise<void> {
  await rb.runStep('verify', 'canary write/read on every survivor', async () => {
    const canaries = await Promise.all(
      rb.survivors.map((member) => rb.actsFor('verify').canaryWriteRead({ member, ttlSeconds: CANARY_TTL_SECONDS })),
    );
    return {
      summary: `canary written and read back on ${canaries.map((c) => `${c.region} (${c.latencyMs} ms)`).join(', ')}`,
      evidence: { canaries, ttlSeconds: CANARY_TTL_SECONDS },
      value: undefined,
    };
  });
}

function onlineTimeoutMs(rb: Runbook): number {
  try {
    return rb.tuning.failbackOnlineTimeout !== undefined
      ? durationMs(rb.tuning.failbackOnlineTimeout)
      : DEFAULT_FAILBACK_ONLINE_TIMEOUT_MS;
  } catch {
    return DEFAULT_FAILBACK_ONLINE_TIMEOUT_MS;
  }
}

interface OnlineWait {
  /** the last profile read: the endpoint Online in it */
  profile: ProfileSnapshot;
  monitorStatus: string;
  waitedMs: number;
  /** readProfile calls after the switch */
  reads: number;
  /** monitor statuses seen, in order, repeats folded */
  seen: string[];
}

/**
 * After enabling: re-reads the profile (readProfile) until Traffic Manager reports the endpoint Online. Enabled
 * is not serving yet: CheckingEndpoint already gets traffic but nobody has probed it, and Degraded means the
 * probes fail (Azure drops it from DNS answers).
 * @throws StepFailure (VerificationFailed) when it is Degraded or otherwise not serving, or still being checked
 * after `tuning.failbackOnlineTimeout` (default 5 minutes).
 */
async function awaitOnline(rb: Runbook, endpoint: EndpointRef, first: ProfileSnapshot): Promise<OnlineWait> {
  const { readProfile } = rb.actsFor('traffic-failback');
  const timeoutMs = onlineTimeoutMs(rb);
  const startedAt = Date.now();
  const seen: string[] = [];
  let profile = first;
  let reads = 0;
  let delayMs = FIRST_REREAD_MS;
  const next =
    'fix it (the region, the endpoint, its health probe), then intervene retry; or skip with approval; or abort';
  for (;;) {
    const verdict = enabledEndpointVerdict(profile, endpoint.name);
    if (seen[seen.length - 1] !== verdict.monitorStatus) seen.push(verdict.monitorStatus);
    const waitedMs = Date.now() - startedAt;
    if (verdict.kind === 'online') return { profile, monitorStatus: verdict.monitorStatus, waitedMs, reads, seen };
    if (verdict.kind === 'unhealthy') {
      throw new StepFailure(
        `failback is not done: ${verdict.problem} (it was enabled; monitor status seen: ${seen.join(' → ')}); ${next}`,
        FAILURE_TYPES.verificationFailed,
        { profile, seen, waitedMs },
      );
    }
    if (waitedMs >= timeoutMs) {
      throw new StepFailure(
        `failback is not done: endpoint ${endpoint.name} is still ${verdict.monitorStatus} ${formatMs(waitedMs)} ` +
          `after it was enabled (bound ${formatMs(timeoutMs)}): Traffic Manager has not reported it Online; ${next}`,
        FAILURE_TYPES.verificationFailed,
        { profile, seen, waitedMs },
      );
    }
    await sleep(Math.min(delayMs, timeoutMs - waitedMs));
    delayMs = Math.min(delayMs * 2, MAX_REREAD_MS);
    profile = await readProfile({ profileId: rb.group.trafficManager.profileId });
    reads += 1;
  }
}

/** How a failback waited for a shared endpoint: who held it (workflow ids), how long, how many asks. */
interface LeaseWait {
  heldBy: EndpointHolder[];
  waitedMs: number;
  asks: number;
}

/** A holder in words: its workflow id, group, region and since when. */
function holderWords(h: EndpointHolder): string {
  const what =
    h.note ??
    [h.region && `${h.region} rerouted`, h.since && `since ${h.since}`, h.phase && `phase ${h.phase}`]
      .filter(Boolean)
      .join(', ');
  return `${h.workflowId} (group ${h.group}${what ? `; ${what}` : ''})`;
}

function leaseWords(lease: LeaseWait): string {
  return (
    `waited ${formatMs(lease.waitedMs)} while the shared endpoint was held by ` +
    lease.heldBy.map((h) => h.workflowId).join(', ')
  );
}

/**
 * Enables the endpoint once no open incident of another group holds it (the groups share the endpoint: their
 * incident needs it disabled until its own failback starts). While one does, setEndpointStatus changes nothing and
 * names the holders; the step says who, and asks again after recoveryPollInterval, doubling up to
 * {@link LEASE_MAX_POLL_FACTOR}× it (at most 10 minutes apart), until they release it or someone aborts.
 */
async function enableWhenReleased(
  rb: Runbook,
  endpoint: EndpointRef,
): Promise<{ change: Awaited<ReturnType<typeof setEndpoint>>; lease?: LeaseWait }> {
  const startedAt = Date.now();
  const seen: EndpointHolder[] = [];
  const maxDelayMs = Math.max(rb.pollMs, Math.min(LEASE_MAX_POLL_FACTOR * rb.pollMs, 10 * 60_000));
  let delayMs = rb.pollMs;
  for (let asks = 1; ; asks++) {
    const change = await setEndpoint(rb, 'Enabled');
    const heldBy = change.heldBy ?? [];
    if (heldBy.length === 0) {
      // Recorded at once: a run stopped after this point left the endpoint enabled (see left-state.ts).
      rb.steps.addEvidence('traffic-failback', { endpointEnabled: true, ...(seen.length > 0 ? { heldBy: [] } : {}) });
      return {
        change,
        ...(seen.length > 0 ? { lease: { heldBy: seen, waitedMs: Date.now() - startedAt, asks } } : {}),
      };
    }
    for (const h of heldBy) if (!seen.some((s) => s.workflowId === h.workflowId && s.runId === h.runId)) seen.push(h);
    rb.steps.setSummary(
      'traffic-failback',
      `waiting: endpoint ${endpoint.name} is shared with another group, and its open incident ` +
        `${heldBy.map(holderWords).join(', ')} holds it disabled; enabling it once no incident holds it ` +
        `(asked ${asks}×, ${formatMs(Date.now() - startedAt)})`,
    );
    rb.steps.addEvidence('traffic-failback', { heldBy });
    await condition(() => !!rb.state.abortRequest, delayMs);
    rb.checkAbort();
    delayMs = Math.min(delayMs * 2, maxDelayMs);
  }
}

/**
 * traffic-failback: the recovered member must pass the probes from every application region first; after
 * enabling its endpoint, Traffic Manager must report it Online (runs from before the patch: Enabled is enough).
 */
export async function failbackStep(rb: Runbook): Promise<void> {
  rb.setPhase('failing-back');
  const endpoint = endpointOf(rb);
  const applicationRegions = Object.keys(rb.group.applicationRegions);
  await rb.runStep(
    'traffic-failback',
    `probing ${rb.region} from ${applicationRegions.join(', ')}, then enabling endpoint ${endpoint.name}`,
    async () => {
      const report = await probeFrom(rb, 'traffic-failback', applicationRegions, [rb.member]);
      requireProbesPassed(
        report,
        `endpoint ${endpoint.name} stays disabled until every application region reaches ${rb.region}`,
      );
      const { change, lease } = await enableWhenReleased(rb, endpoint);
      const held = lease ? `; ${leaseWords(lease)}` : '';
      if (patched(FAILBACK_WAITS_ONLINE_PATCH)) {
        const online = await awaitOnline(rb, endpoint, change.after);
        return {
          summary:
            `${report.probes.length} probes of ${rb.region} passed; ${endpoint.name} ` +
            `${change.changed ? 'enabled' : alreadyDone('enabled', change.foundAtAttempt)} and ${online.monitorStatus} after ` +
            `${formatMs(online.waitedMs)} (${online.seen.join(' → ')}); serving: ${servingEndpoints(online.profile).join(', ')}` +
            held,
          evidence: {
            ...(lease ? { lease } : {}),
            probes: report.probes,
            before: change.before,
            after: change.after,
            changed: change.changed,
            online: {
              monitorStatus: online.monitorStatus,
              waitedMs: online.waitedMs,
              reads: online.reads,
              seen: online.seen,
              profile: online.profile,
            },
          },
          value: undefined,
        };
      }
      return {
        summary:
          `${report.probes.length} probes of ${rb.region} passed; ${endpoint.name} ` +
          `${change.changed ? 'enabled' : alreadyDone('enabled', change.foundAtAttempt)}; serving: ${servingEndpoints(change.after).join(', ')}` +
          held,
        evidence: {
          ...(lease ? { lease } : {}),
          probes: report.probes,
          before: change.before,
          after: change.after,
          changed: change.changed,
        },
        value: undefined,
      };
    },
  );
}
