// Mocked activities for runbook workflow tests: plain objects typed by the activity interfaces, over a
// small in-memory model of one geo-replication group, counting every call.
import { ApplicationFailure } from '@temporalio/common';
import type {
  GeofailoverActivities,
  MemoryReading,
  ProbeActivities,
  ProbeOutcomeRecord,
  ProfileSnapshot,
  RunbookNotification,
} from '../../src/activities/types';
import type { FailoverRunbookInput, GroupDefinition, RunbookTuning } from '../../src/contract/runbook';
import type { MemberSnapshot } from '../../src/contract/types';
import { APPROVERS, COMMANDERS, policyFor, signedStart } from './people';
import { uniqueName } from './temporal';
import { workflowIds } from '../../src/contract/names';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-geofailover-demo`;

export { APPROVERS } from './people';

/** Regions unique to one test, so probe task queues (geofailover-probe-<region>) never collide. */
export function testRegions(): [string, string, string] {
  const suffix = uniqueName('r').slice(2);
  return [`eastus${suffix}`, `westeurope${suffix}`, `southeastasia${suffix}`];
}

export function testGroup(
  regions: readonly string[],
  change: (g: GroupDefinition) => void = () => undefined,
): GroupDefinition {
  const dbId = (r: string): string => `${RG}/providers/Microsoft.Cache/redisEnterprise/redis-${r}/databases/default`;
  const group: GroupDefinition = {
    name: uniqueName('leaderboard'),
    members: Object.fromEntries(regions.map((r) => [r, dbId(r)])),
    trafficManager: {
      profileId: `${RG}/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`,
      endpoints: Object.fromEntries(regions.map((r) => [r, { type: 'ExternalEndpoints' as const, name: r }])),
    },
    applicationRegions: Object.fromEntries(
      regions.map((app, i) => [app, Object.fromEntries(regions.map((m, j) => [m, `127.0.0.1:${16000 + 10 * i + j}`]))]),
    ),
    commanders: [...COMMANDERS],
    approvers: [...APPROVERS],
    quorum: { unlink: 1, rejoin: 1, intervention: 1 },
    memoryThresholds: { elevatedPercent: 70, criticalPercent: 90 },
    rejoinMethod: 'force-link',
    durations: {
      approvalTimeout: '30s',
      escalationTimeout: '30s',
      recoveryPollInterval: '250ms',
      maxOutageBeforeUnlink: '1h',
      resyncTimeout: '5s',
      probeTimeout: '1s',
    },
  };
  change(group);
  return group;
}

export const TEST_TUNING: RunbookTuning = {
  reads: { startToClose: '2s', scheduleToClose: '4s', initialRetryInterval: '100ms' },
  mutationMaximumAttempts: 2,
  mutationInitialRetryInterval: '100ms',
  probeScheduleToStart: '2s',
  heartbeatTimeout: '5s',
};

/** A failoverRunbook input as `geofailover start` sends it: names, and the commander's signed start. */
export function testInput(group: GroupDefinition, failedRegion: string): FailoverRunbookInput {
  return {
    group: group.name,
    failedRegion,
    reason: 'region outage (test)',
    request: signedStart(group, failedRegion, workflowIds.failover(group.name)),
    tuning: TEST_TUNING,
  };
}

type Counted = Exclude<keyof GeofailoverActivities, 'loadPolicy'> | keyof ProbeActivities;

/** The world the mocked activities act on; tests change it while the workflow runs. */
export class FakeGroup {
  /** does the failed member answer ARM again? */
  failedAnswers = false;
  /** was the failed member force-unlinked (and not yet rejoined)? */
  unlinked = false;
  memoryPercent: Record<string, number> = {};
  endpointStatus: Record<string, 'Enabled' | 'Disabled'> = {};
  /** (application region → member region) pairs whose probe is refused, like a firewall block */
  blocked = new Set<string>();
  /** the next calls of an activity throw these, in order */
  failures: Partial<Record<Counted, Error[]>> = {};
  /** settings override per region (to make survivors disagree) */
  sku: Record<string, string> = {};
  readonly calls: Record<Counted, number> = {
    describeMember: 0,
    readMemory: 0,
    canaryWriteRead: 0,
    readProfile: 0,
    setEndpointStatus: 0,
    forceUnlink: 0,
    rejoinMember: 0,
    notifyEscalation: 0,
    notify: 0,
    probeEndpoints: 0,
    canaryWrite: 0,
    canaryRead: 0,
  };
  /** canary key → value, written through the probe workers (rehearsal's replication-check) */
  readonly canaries = new Map<string, string>();
  readonly escalations: Record<string, unknown>[] = [];
  /** every notification the runbook sent (approval needed, intervention needed, escalation, run ended) */
  readonly notifications: RunbookNotification[] = [];

  constructor(
    readonly group: GroupDefinition,
    readonly failedRegion: string,
  ) {
    for (const region of Object.keys(group.members)) {
      this.memoryPercent[region] = 40;
      this.endpointStatus[region] = 'Enabled';
    }
  }

  /** An ApplicationFailure as the real activities throw it (contract failure type, non-retryable). */
  static azureFailure(type: string, message: string): Error {
    return ApplicationFailure.create({ type, message, nonRetryable: true });
  }

  private enter(name: Counted): void {
    this.calls[name] += 1;
    const next = this.failures[name]?.shift();
    if (next) throw next;
  }

  private regionOf(databaseId: string): string {
    const entry = Object.entries(this.group.members).find(([, id]) => id === databaseId);
    if (!entry) throw new Error(`unknown database ${databaseId}`);
    return entry[0];
  }

  snapshot(region: string): MemberSnapshot {
    const databaseId = this.group.members[region] as string;
    if (region === this.failedRegion && !this.failedAnswers) {
      return {
        region,
        databaseId,
        reachable: false,
        error: { code: 'RegionUnavailable', message: `${region} does not answer` },
      };
    }
    const members = Object.keys(this.group.members);
    const visible = this.unlinked
      ? region === this.failedRegion
        ? [region]
        : members.filter((m) => m !== this.failedRegion)
      : members;
    return {
      region,
      databaseId,
      reachable: true,
      provisioningState: 'Succeeded',
      resourceState: 'Running',
      groupNickname: 'leaderboard',
      linkedDatabases: visible.map((m) => ({
        id: this.group.members[m] as string,
        state: m === this.failedRegion && !this.failedAnswers ? 'LinkFailed' : 'Linked',
      })),
      settings: {
        sku: this.sku[region] ?? 'Balanced_B5',
        modules: [],
        evictionPolicy: 'NoEviction',
        clusteringPolicy: 'EnterpriseCluster',
        clientProtocol: 'Encrypted',
        highAvailability: 'Enabled',
      },
      hostName: `${region}.redis.example`,
      port: 10000,
    };
  }

  private profile(): ProfileSnapshot {
    return {
      profileId: this.group.trafficManager.profileId,
      routingMethod: 'Priority',
      endpoints: Object.entries(this.endpointStatus).map(([name, endpointStatus]) => ({
        name,
        type: 'Microsoft.Network/trafficManagerProfiles/externalEndpoints',
        endpointStatus,
        endpointMonitorStatus: endpointStatus === 'Enabled' ? 'Online' : 'Disabled',
      })),
    };
  }

  /** The main worker's activities. */
  activities(): GeofailoverActivities {
    return {
      // The worker's policy is the test's group, with the test people's keys.
      loadPolicy: async ({ group }) =>
        group === this.group.name
          ? { found: true, policy: policyFor(this.group) }
          : { found: false, reason: `the worker's configuration has no group ${group}` },
      describeMember: async (member) => {
        this.enter('describeMember');
        return this.snapshot(member.region);
      },
      readMemory: async (member): Promise<MemoryReading> => {
        this.enter('readMemory');
        const percent = this.memoryPercent[member.region] ?? 0;
        return {
          region: member.region,
          databaseId: member.databaseId,
          usedBytes: percent * 1_000_000,
          maxBytes: 100_000_000,
          percent,
          readAt: new Date().toISOString(),
        };
      },
      canaryWriteRead: async ({ member }) => {
        this.enter('canaryWriteRead');
        return { region: member.region, latencyMs: 1 };
      },
      readProfile: async () => {
        this.enter('readProfile');
        return this.profile();
      },
      setEndpointStatus: async ({ endpoint, status }) => {
        this.enter('setEndpointStatus');
        const before = this.profile();
        const changed = this.endpointStatus[endpoint.name] !== status;
        this.endpointStatus[endpoint.name] = status;
        return { before, after: this.profile(), changed };
      },
      forceUnlink: async ({ survivorDatabaseId, failedDatabaseId }) => {
        this.enter('forceUnlink');
        this.regionOf(failedDatabaseId);
        if (this.unlinked) return { skipped: true };
        this.unlinked = true;
        return { skipped: false, calledOn: survivorDatabaseId, operationId: 'op-1' };
      },
      rejoinMember: async () => {
        this.enter('rejoinMember');
        if (!this.unlinked) return { skipped: true };
        this.unlinked = false;
        return { skipped: false };
      },
      notifyEscalation: async ({ body }) => {
        this.enter('notifyEscalation');
        this.escalations.push(body);
        return { delivered: false, attempts: 0, error: 'no escalation webhook configured (test)' };
      },
      notify: async ({ notification }) => {
        this.enter('notify');
        this.notifications.push(notification);
        return { deliveries: [] };
      },
    };
  }

  /** The probe workers' activity (one probe worker per application region). */
  probeActivities(): ProbeActivities {
    return {
      probeEndpoints: async ({ applicationRegion, targets }) => {
        this.enter('probeEndpoints');
        return targets.map((t): ProbeOutcomeRecord => {
          const blocked =
            this.blocked.has(`${applicationRegion}->${t.memberRegion}`) ||
            (t.memberRegion === this.failedRegion && !this.failedAnswers);
          return {
            applicationRegion,
            memberRegion: t.memberRegion,
            databaseId: t.databaseId,
            address: t.address,
            ...(blocked
              ? { outcome: 'refused' as const, failedStage: 'tcp' as const, error: `connect ECONNREFUSED ${t.address}` }
              : { outcome: 'ok' as const, latencyMs: 2 }),
          };
        });
      },
      // One keyspace for the whole group: replication is instant unless the member was unlinked.
      canaryWrite: async ({ applicationRegion, target, key, value }) => {
        this.enter('canaryWrite');
        this.canaries.set(key, value);
        return { applicationRegion, memberRegion: target.memberRegion, address: target.address, value, latencyMs: 1 };
      },
      canaryRead: async ({ applicationRegion, targets, key }) => {
        this.enter('canaryRead');
        return targets.map((t) => ({
          applicationRegion,
          memberRegion: t.memberRegion,
          address: t.address,
          value: this.unlinked ? null : (this.canaries.get(key) ?? null),
          latencyMs: 1,
        }));
      },
    };
  }
}
