/**
 * What the runbook observed and changed, read from its activity events: membership before and after, memory
 * per survivor, the probe matrix, Traffic Manager before and after, and the activity list itself.
 */
import type { MemoryReading, ProbeOutcomeRecord, ProfileSnapshot } from '../../contract/activities';
import type { StepName } from '../../contract/names';
import type { GroupDefinition } from '../../contract/runbook';
import type { MemberSnapshot } from '../../contract/types';
import { gradePressure } from '../../contract/pressure';
import type { ActivityEvents } from './events';
import type {
  EvidenceReport,
  ReportActivity,
  ReportMember,
  ReportMemory,
  ReportProbeRound,
  ReportProfile,
} from './schema';

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const sameId = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function regionOfId(group: GroupDefinition | undefined, id: string): string | undefined {
  return Object.entries(group?.members ?? {}).find(([, dbId]) => sameId(dbId, id))?.[0];
}

function memberRow(a: ActivityEvents, group: GroupDefinition | undefined): ReportMember | undefined {
  if (a.outcome !== 'completed' || !isRecord(a.result)) return undefined;
  const m = a.result as unknown as MemberSnapshot;
  const row: ReportMember = {
    region: m.region,
    databaseId: m.databaseId,
    reachable: m.reachable === true,
    at: a.closedAt as string,
    eventId: a.closedEventId as number,
  };
  if (m.provisioningState) row.provisioningState = m.provisioningState;
  if (m.resourceState) row.resourceState = m.resourceState;
  if (m.linkedDatabases) {
    row.linkedDatabases = m.linkedDatabases.map((l) => {
      const region = regionOfId(group, l.id);
      return region ? { id: l.id, region, state: l.state } : { id: l.id, state: l.state };
    });
  }
  if (m.error) row.error = `${m.error.code}: ${m.error.message}`;
  return row;
}

export function membership(
  byStep: Map<StepName, ActivityEvents[]>,
  all: ActivityEvents[],
  group: GroupDefinition | undefined,
): EvidenceReport['membership'] {
  const rows = (list: ActivityEvents[]): ReportMember[] =>
    list.filter((a) => a.type === 'describeMember').flatMap((a) => memberRow(a, group) ?? []);
  const firstRound = byStep.get('membership')?.filter((a) => a.type === 'describeMember') ?? [];
  const before = new Map<string, ReportMember>();
  for (const row of rows(firstRound)) if (!before.has(row.region)) before.set(row.region, row);
  const after = new Map<string, ReportMember>();
  for (const row of rows([...all].sort((a, b) => (a.closedAtMs ?? 0) - (b.closedAtMs ?? 0))))
    after.set(row.region, row);
  const order = Object.keys(group?.members ?? {});
  const sorted = (m: Map<string, ReportMember>): ReportMember[] =>
    [...m.values()].sort((a, b) => order.indexOf(a.region) - order.indexOf(b.region));
  return { before: sorted(before), after: sorted(after) };
}

export function memory(all: ActivityEvents[], group: GroupDefinition | undefined): ReportMemory[] {
  const byRegion = new Map<string, { percent: number; usedBytes?: number; maxBytes?: number; at: string }[]>();
  for (const a of all) {
    if (a.type !== 'readMemory' || a.outcome !== 'completed' || !isRecord(a.result)) continue;
    const r = a.result as unknown as MemoryReading;
    if (typeof r.percent !== 'number') continue;
    const list = byRegion.get(r.region) ?? [];
    list.push({
      percent: r.percent,
      usedBytes: r.usedBytes,
      maxBytes: r.maxBytes,
      at: r.readAt || (a.closedAt as string),
    });
    byRegion.set(r.region, list);
  }
  const thresholds = group?.memoryThresholds ?? { elevatedPercent: 70, criticalPercent: 90 };
  return [...byRegion.entries()].map(([region, readings]) => {
    readings.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const peak = readings.reduce((p, r) => (r.percent > p.percent ? r : p));
    return {
      region,
      readings: readings.length,
      first: readings[0] as (typeof readings)[number],
      last: readings[readings.length - 1] as (typeof readings)[number],
      peak,
      grade: gradePressure(peak.percent, thresholds),
    };
  });
}

export function probes(
  all: ActivityEvents[],
  byActivity: Map<ActivityEvents, StepName | undefined>,
): ReportProbeRound[] {
  // A round: the probes one workflow task scheduled for one step (the recovery watch may probe beside failback).
  const rounds = new Map<string, ActivityEvents[]>();
  for (const a of all) {
    if (a.type !== 'probeEndpoints') continue;
    const key = `${a.workflowTaskCompletedEventId}:${byActivity.get(a) ?? ''}`;
    const list = rounds.get(key) ?? [];
    list.push(a);
    rounds.set(key, list);
  }
  return [...rounds.values()].map((list) => {
    const first = list[0] as ActivityEvents;
    const step = byActivity.get(first);
    const results = list.flatMap((a) => {
      if (a.outcome === 'completed' && Array.isArray(a.result)) {
        return (a.result as ProbeOutcomeRecord[]).map((p) => {
          const row: ReportProbeRound['results'][number] = {
            applicationRegion: p.applicationRegion,
            memberRegion: p.memberRegion,
            address: p.address,
            outcome: p.outcome,
          };
          if (p.failedStage) row.failedStage = p.failedStage;
          if (p.latencyMs !== undefined) row.latencyMs = p.latencyMs;
          if (p.error) row.error = p.error;
          return row;
        });
      }
      // The probe never ran from this region (no probe worker, timeout): every target is not-run.
      const input = isRecord(a.input) ? a.input : {};
      const targets = Array.isArray(input.targets) ? (input.targets as Record<string, unknown>[]) : [];
      const why = a.outcome === 'pending' ? 'still running' : (a.failure ?? a.outcome);
      return targets.map((t) => ({
        applicationRegion: str(input.applicationRegion) ?? 'unknown',
        memberRegion: str(t.memberRegion) ?? 'unknown',
        ...(str(t.address) ? { address: str(t.address) } : {}),
        outcome: 'not-run',
        error: why,
      }));
    });
    return {
      step: step === 'firewall' || step === 'await-recovery' || step === 'traffic-failback' ? step : 'unknown',
      at: first.scheduledAt,
      eventId: first.scheduledEventId,
      results,
    };
  });
}

function profileOf(p: ProfileSnapshot | undefined): ReportProfile | undefined {
  if (!p || !Array.isArray(p.endpoints)) return undefined;
  return {
    profileId: p.profileId,
    endpoints: p.endpoints.map((e) => {
      const row: ReportProfile['endpoints'][number] = { name: e.name, endpointStatus: e.endpointStatus };
      if (e.endpointMonitorStatus) row.endpointMonitorStatus = e.endpointMonitorStatus;
      if (e.priority !== undefined) row.priority = e.priority;
      return row;
    }),
  };
}

export function traffic(all: ActivityEvents[], group: GroupDefinition | undefined): EvidenceReport['traffic'] {
  const changes = all.filter((a) => a.type === 'setEndpointStatus' && a.outcome === 'completed' && isRecord(a.result));
  const reads = all.filter((a) => a.type === 'readProfile' && a.outcome === 'completed' && isRecord(a.result));
  const results = changes.map((a) => a.result as { before: ProfileSnapshot; after: ProfileSnapshot; changed: boolean });
  const out: EvidenceReport['traffic'] = {
    changes: changes.map((a, i) => {
      const input = isRecord(a.input) ? a.input : {};
      const endpoint = isRecord(input.endpoint) ? str(input.endpoint.name) : undefined;
      return {
        at: a.closedAt as string,
        eventId: a.closedEventId as number,
        endpoint: endpoint ?? 'unknown',
        status: str(input.status) ?? 'unknown',
        changed: results[i]?.changed === true,
        serving: (results[i]?.after?.endpoints ?? []).filter((e) => e.endpointStatus === 'Enabled').map((e) => e.name),
      };
    }),
  };
  const profileId = group?.trafficManager?.profileId;
  if (profileId) out.profileId = profileId;
  const before = profileOf(results[0]?.before ?? (reads[0]?.result as ProfileSnapshot | undefined));
  const after = profileOf(
    results[results.length - 1]?.after ?? (reads[reads.length - 1]?.result as ProfileSnapshot | undefined),
  );
  if (before) out.before = before;
  if (after) out.after = after;
  return out;
}

export function activityRows(
  all: ActivityEvents[],
  byActivity: Map<ActivityEvents, StepName | undefined>,
): ReportActivity[] {
  return all.map((a) => {
    const row: ReportActivity = {
      activityId: a.activityId,
      type: a.type,
      scheduledEventId: a.scheduledEventId,
      scheduledAt: a.scheduledAt,
      outcome: a.outcome,
    };
    const step = byActivity.get(a);
    if (step) row.step = step;
    if (a.taskQueue) row.taskQueue = a.taskQueue;
    if (a.startedAt) row.startedAt = a.startedAt;
    if (a.closedAt) row.closedAt = a.closedAt;
    if (a.attempt !== undefined) row.attempt = a.attempt;
    if (a.failure) row.failure = a.failure;
    if (a.identity) row.identity = a.identity;
    return row;
  });
}
