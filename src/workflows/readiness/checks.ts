// Pure verdicts of the readiness check, one per check, from what the activities read. Runs inside the workflow
// sandbox: no Node built-ins, no I/O.
import type { MemoryReading, ProbeOutcomeRecord, ProfileSnapshot } from '../../contract/activities';
import type {
  ReadinessCheckName,
  ReadinessCheckResult,
  ReadinessVerdict,
  TaskQueuePollers,
} from '../../contract/readiness';
import type { GroupDefinition } from '../../contract/runbook';
import type { MemberSnapshot } from '../../contract/types';
import { linkProblems, memberStateProblems, settingsProblems } from '../runbook/group-checks';

const RANK: Record<ReadinessVerdict, number> = { pass: 0, warn: 1, fail: 2 };

/** The worst verdict of `verdicts` (pass when empty). */
export function worst(verdicts: readonly ReadinessVerdict[]): ReadinessVerdict {
  return verdicts.reduce<ReadinessVerdict>((w, v) => (RANK[v] > RANK[w] ? v : w), 'pass');
}

/** A check from its findings: fail when any failure, else warn when any warning, else pass with `passReason`. */
function result(
  check: ReadinessCheckName,
  findings: { verdict: Exclude<ReadinessVerdict, 'pass'>; reason: string }[],
  passReason: string,
): ReadinessCheckResult {
  if (!findings.length) return { check, verdict: 'pass', reasons: [passReason] };
  return { check, verdict: worst(findings.map((f) => f.verdict)), reasons: findings.map((f) => f.reason) };
}

const fail = (reason: string) => ({ verdict: 'fail' as const, reason });
const warn = (reason: string) => ({ verdict: 'warn' as const, reason });

/** Every member reachable, Succeeded and Running, and linked to every other member. */
export function membershipCheck(members: readonly MemberSnapshot[]): ReadinessCheckResult {
  const problems = [...members.flatMap(memberStateProblems), ...linkProblems(members)];
  return result('membership', problems.map(fail), `${members.length} members, each Running and Linked to every other`);
}

/** Settings a survivor must share with the failed member (eviction policy, clustering, modules, TLS, SKU, …). */
export function settingsCheck(members: readonly MemberSnapshot[]): ReadinessCheckResult {
  const reachable = members.filter((m) => m.reachable);
  const findings: { verdict: 'warn' | 'fail'; reason: string }[] = settingsProblems(members).map(fail);
  if (reachable.length < members.length) {
    findings.push(warn(`${members.length - reachable.length} member(s) did not answer, so they were not compared`));
  }
  const s = reachable[0]?.settings;
  const seen = s
    ? `sku ${s.sku}, eviction ${s.evictionPolicy ?? '(unset)'}, clustering ${s.clusteringPolicy ?? '(unset)'}, ` +
      `protocol ${s.clientProtocol ?? '(unset)'}`
    : 'no settings';
  return result('settings', findings, `identical on every member: ${seen}`);
}

export type MemoryRead = MemoryReading | { region: string; databaseId: string; error: string };

const MiB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

/**
 * Memory headroom: when a member fails, each survivor takes its clients, so a survivor must hold its own used
 * memory plus the largest other member's. Warn at the group's elevated threshold, fail at its critical one.
 */
export function memoryHeadroomCheck(
  readings: readonly MemoryRead[],
  thresholds: GroupDefinition['memoryThresholds'],
): ReadinessCheckResult {
  const findings: { verdict: 'warn' | 'fail'; reason: string }[] = [];
  const ok = readings.filter((r): r is MemoryReading => !('error' in r));
  for (const r of readings) {
    if ('error' in r) findings.push(warn(`${r.region}: memory could not be read (${r.error})`));
  }
  const worstSeen: string[] = [];
  for (const survivor of ok) {
    const others = ok.filter((o) => o !== survivor);
    if (!others.length) continue;
    if (survivor.maxBytes <= 0) {
      findings.push(warn(`${survivor.region}: its memory limit is not reported, so its headroom is unknown`));
      continue;
    }
    const largest = others.reduce((a, b) => (b.usedBytes > a.usedBytes ? b : a));
    const projected = Math.round(((survivor.usedBytes + largest.usedBytes) / survivor.maxBytes) * 1000) / 10;
    const free = Math.max(0, survivor.maxBytes - survivor.usedBytes);
    const sentence =
      `${survivor.region}: taking ${largest.region}'s load (${mib(largest.usedBytes)}) into ${mib(free)} free ` +
      `would bring it to ${projected}% of ${mib(survivor.maxBytes)}`;
    if (projected >= thresholds.criticalPercent) {
      findings.push(fail(`${sentence}, at or above the critical ${thresholds.criticalPercent}%`));
    } else if (projected >= thresholds.elevatedPercent) {
      findings.push(warn(`${sentence}, at or above the elevated ${thresholds.elevatedPercent}%`));
    } else worstSeen.push(`${survivor.region} ${projected}%`);
  }
  return result(
    'memory-headroom',
    findings,
    `every survivor could absorb the largest other member (projected ${worstSeen.join(', ') || 'n/a'}; elevated at ${thresholds.elevatedPercent}%)`,
  );
}

/** What the probes from one application region came to: outcomes, or why they could not run. */
export type RegionProbes =
  { applicationRegion: string; probes: ProbeOutcomeRecord[] } | { applicationRegion: string; error: string };

export function probesCheck(regions: readonly RegionProbes[]): ReadinessCheckResult {
  const findings: { verdict: 'fail'; reason: string }[] = [];
  let ok = 0;
  for (const r of regions) {
    if ('error' in r) {
      findings.push(fail(`${r.applicationRegion}: ${r.error}`));
      continue;
    }
    for (const p of r.probes) {
      if (p.outcome === 'ok') ok++;
      else {
        const stage = p.failedStage ? ` at ${p.failedStage.toUpperCase()}` : '';
        findings.push(
          fail(
            `${p.applicationRegion} cannot reach ${p.memberRegion} at ${p.address}: ${p.outcome}${stage}` +
              (p.error ? ` (${p.error})` : ''),
          ),
        );
      }
    }
  }
  return result('probes', findings, `${ok} probe(s) passed: every application region reaches every member`);
}

const UNHEALTHY_MONITOR = new Set(['Degraded', 'Inactive', 'Stopped', 'Disabled']);

/** Every member region's endpoint is in the profile and Enabled, and the profile itself is Enabled. */
export function trafficManagerCheck(
  group: GroupDefinition,
  profile: ProfileSnapshot | { error: string },
): ReadinessCheckResult {
  if ('error' in profile) {
    return result('traffic-manager', [fail(`the profile could not be read: ${profile.error}`)], '');
  }
  const findings: { verdict: 'warn' | 'fail'; reason: string }[] = [];
  if (profile.profileStatus !== undefined && profile.profileStatus !== 'Enabled') {
    findings.push(fail(`the profile is ${profile.profileStatus}, not Enabled`));
  }
  for (const [region, ref] of Object.entries(group.trafficManager.endpoints)) {
    const endpoint = profile.endpoints.find((e) => e.name.toLowerCase() === ref.name.toLowerCase());
    if (!endpoint) {
      findings.push(fail(`${region}: endpoint ${ref.name} is not in the profile`));
    } else if (endpoint.endpointStatus !== 'Enabled') {
      findings.push(fail(`${region}: endpoint ${ref.name} is ${endpoint.endpointStatus}, not Enabled`));
    } else if (endpoint.endpointMonitorStatus && UNHEALTHY_MONITOR.has(endpoint.endpointMonitorStatus)) {
      findings.push(
        warn(`${region}: endpoint ${ref.name} is Enabled but its health is ${endpoint.endpointMonitorStatus}`),
      );
    }
  }
  const count = Object.keys(group.trafficManager.endpoints).length;
  return result('traffic-manager', findings, `${count} endpoint(s) present and Enabled`);
}

/**
 * People able to reach each gate's quorum: approvers with a key, less the requester (a commander never approves
 * their own run), whoever of the commanders starts it.
 */
export function quorumCheck(group: GroupDefinition, people: Record<string, string[]>): ReadinessCheckResult {
  const findings: { verdict: 'fail'; reason: string }[] = [];
  const withKeys = (names: readonly string[]) => names.filter((n) => (people[n]?.length ?? 0) > 0);
  const approvers = withKeys(group.approvers);
  const commanders = withKeys(group.commanders);
  if (!commanders.length) findings.push(fail('no commander has a key, so nobody can start a failover'));
  for (const n of group.approvers.filter((a) => !approvers.includes(a))) {
    findings.push(fail(`approver ${n} has no key, so their decisions cannot be checked`));
  }
  const seen: string[] = [];
  for (const gate of ['unlink', 'rejoin', 'intervention'] as const) {
    const quorum = group.quorum[gate];
    // The worst case: the commander who starts is also an approver, and cannot approve their own run.
    const fewest = commanders.length
      ? Math.min(...commanders.map((c) => approvers.filter((a) => a !== c).length))
      : approvers.length;
    const requester = commanders.find((c) => approvers.filter((a) => a !== c).length === fewest);
    if (fewest < quorum) {
      const who = requester && approvers.includes(requester) ? ` when ${requester} starts the run` : '';
      findings.push(fail(`${gate}: quorum ${quorum}, but only ${fewest} approver(s) with a key may decide${who}`));
    } else seen.push(`${gate} ${quorum} of ${fewest}`);
  }
  return result('quorum', findings, `every gate's quorum can be reached: ${seen.join(', ')}`);
}

/** A probe worker polls each application region's probe task queue. */
export function probeWorkersCheck(
  queues: readonly (TaskQueuePollers & { applicationRegion: string })[],
): ReadinessCheckResult {
  const findings: { verdict: 'warn' | 'fail'; reason: string }[] = [];
  for (const q of queues) {
    if (q.pollers === undefined) {
      findings.push(
        warn(`${q.applicationRegion}: task queue ${q.taskQueue} could not be described (${q.error ?? 'no answer'})`),
      );
    } else if (q.pollers === 0) {
      findings.push(
        fail(
          `${q.applicationRegion}: no probe worker polls ${q.taskQueue}; start one there: ` +
            `geofailover worker --probe-region ${q.applicationRegion}`,
        ),
      );
    }
  }
  const counts = queues.map((q) => `${q.applicationRegion} ${q.pollers ?? '?'}`).join(', ');
  return result('probe-workers', findings, `every probe task queue has a poller (${counts})`);
}
