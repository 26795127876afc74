// The harness end to end: the shared dev server, a real Worker from src/worker.ts with the bundled
// workflows, mocked activities, and readinessCheck started the way the CLI starts it.
import assert from 'node:assert/strict';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import type { GeofailoverActivities, MembershipActivities } from '../../src/contract/activities';
import { FAILURE_TYPES } from '../../src/contract/failures';
import { workflowIds } from '../../src/contract/names';
import type {
  GroupMember,
  ReadinessActivities,
  ReadinessCheckInput,
  ReadinessReport,
} from '../../src/contract/readiness';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { MemberSnapshot } from '../../src/contract/types';
import { startReadinessCheck } from '../../src/starter';
import { createWorker } from '../../src/worker';
import { getTestEnv, getWorkflowBundle, uniqueName, uniqueTaskQueue } from '../helpers/temporal';

const REGIONS = ['eastus', 'westeurope', 'southeastasia'];

function groupMembers(group: string): GroupMember[] {
  return REGIONS.map((region) => ({
    region,
    databaseId: `/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/${group}-${region}/databases/default`,
  }));
}

function healthySnapshot(member: GroupMember, all: GroupMember[]): MemberSnapshot {
  return {
    ...member,
    reachable: true,
    provisioningState: 'Succeeded',
    resourceState: 'Running',
    groupNickname: 'leaderboard',
    linkedDatabases: all.map((m) => ({ id: m.databaseId, state: 'Linked' })),
    settings: {
      sku: 'Balanced_B5',
      modules: [],
      evictionPolicy: 'NoEviction',
      clusteringPolicy: 'EnterpriseCluster',
      clientProtocol: 'Encrypted',
      highAvailability: 'Enabled',
    },
  };
}

/** The group as the worker's configuration would define it: no application region, so nothing to probe. */
function definition(group: string, members: GroupMember[]): GroupDefinition {
  return {
    name: group,
    members: Object.fromEntries(members.map((m) => [m.region, m.databaseId])),
    trafficManager: {
      profileId: `/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/${group}`,
      endpoints: Object.fromEntries(members.map((m) => [m.region, { type: 'ExternalEndpoints', name: m.region }])),
    },
    applicationRegions: {},
    commanders: ['alice'],
    approvers: ['alice', 'bob'],
    quorum: { unlink: 1, rejoin: 1, intervention: 1 },
    memoryThresholds: { elevatedPercent: 70, criticalPercent: 85 },
    rejoinMethod: 'force-link',
    durations: {
      approvalTimeout: '30m',
      escalationTimeout: '15m',
      recoveryPollInterval: '1m',
      maxOutageBeforeUnlink: '4h',
      resyncTimeout: '30m',
      probeTimeout: '5s',
    },
  };
}

/** Every read but describeMember: the group from the "configuration", healthy memory, the profile, no pollers asked. */
function otherReads(
  group: string,
  members: GroupMember[],
): Pick<GeofailoverActivities, 'loadPolicy' | 'readMemory' | 'readProfile'> & ReadinessActivities {
  const def = definition(group, members);
  return {
    loadPolicy: async () => ({
      found: true,
      policy: { group: def, people: { alice: ['ssh-ed25519 A'], bob: ['ssh-ed25519 B'] }, digest: 'sha256:test' },
    }),
    readMemory: async (m) => ({ ...m, usedBytes: 1, maxBytes: 100, percent: 1, readAt: new Date().toISOString() }),
    readProfile: async ({ profileId }) => ({
      profileId,
      profileStatus: 'Enabled',
      endpoints: members.map((m) => ({ name: m.region, type: 'ExternalEndpoints', endpointStatus: 'Enabled' })),
    }),
    countActivityPollers: async () => [],
    previousReadiness: async () => ({ found: false, reason: 'not scheduled' }),
  };
}

describe('Temporal harness: readinessCheck on the shared dev server', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;

  before(async () => {
    env = await getTestEnv();
    bundle = await getWorkflowBundle();
  });

  after(async () => {
    await env?.teardown();
  });

  async function runReadiness(
    input: ReadinessCheckInput,
    activities: MembershipActivities,
  ): Promise<{ report: ReadinessReport; scheduled: GroupMember[] }> {
    const taskQueue = uniqueTaskQueue('readiness');
    const worker = await createWorker({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      activities: { ...otherReads(input.group, groupMembers(input.group)), ...activities },
      workflowBundle: bundle,
    });
    const handle = await startReadinessCheck(env.client, input, { taskQueue });
    assert.equal(handle.workflowId, workflowIds.readiness(input.group));
    const report = await worker.runUntil(handle.result());

    // The audit trail: one describeMember ActivityTaskScheduled per member, with the member it read as input.
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a): a is NonNullable<typeof a> => a != null && a.activityType?.name === 'describeMember')
      .map((a) => {
        const [payload] = a.input?.payloads ?? [];
        assert.ok(payload);
        return defaultPayloadConverter.fromPayload<GroupMember>(payload);
      });
    return { report, scheduled };
  }

  it('reports a healthy group as ready, with every member read and recorded in history', async () => {
    const group = uniqueName('leaderboard');
    const members = groupMembers(group);
    const { report, scheduled } = await runReadiness(
      { group },
      { describeMember: async (m) => healthySnapshot(m, members) },
    );

    assert.equal(report.ready, true, report.problems.join('\n'));
    assert.deepEqual(report.problems, []);
    assert.equal(report.group, group);
    assert.ok(!Number.isNaN(Date.parse(report.checkedAt)));
    assert.deepEqual(
      report.members.map((m) => m.region),
      REGIONS,
    );
    assert.deepEqual(
      [...scheduled].sort((a, b) => a.region.localeCompare(b.region)),
      [...members].sort((a, b) => a.region.localeCompare(b.region)),
    );
  });

  it('reports an unreachable member and a settings mismatch, naming both', async () => {
    const group = uniqueName('leaderboard');
    const members = groupMembers(group);
    let westeuropeAttempts = 0;
    const activities: MembershipActivities = {
      async describeMember(m) {
        if (m.region === 'westeurope') {
          westeuropeAttempts++;
          throw ApplicationFailure.create({
            type: FAILURE_TYPES.azureTransient,
            message: 'connect ETIMEDOUT management.azure.com (westeurope outage)',
          });
        }
        const snapshot = healthySnapshot(m, members);
        if (m.region === 'southeastasia' && snapshot.settings) snapshot.settings.sku = 'Balanced_B10';
        return snapshot;
      },
    };
    const { report, scheduled } = await runReadiness(
      {
        group,
        activityTimeouts: { startToClose: '1s', scheduleToClose: '2s', initialRetryInterval: '100ms' },
      },
      activities,
    );

    assert.equal(report.ready, false);
    const reasons = (check: string): string[] => report.checks.find((c) => c.check === check)?.reasons ?? [];
    assert.equal(reasons('membership').length, 1, report.problems.join('\n'));
    const [unreachable] = reasons('membership');
    const [mismatch] = reasons('settings');
    // The server ends the retries either at the schedule-to-close deadline (a timeout carrying the last
    // failure) or earlier, when the next backoff would pass it (the last failure itself): timing decides.
    assert.match(
      unreachable ?? '',
      /^westeurope: unreachable \((ActivityTimedOut: SCHEDULE_TO_CLOSE timeout|AzureTransient: )/,
    );
    assert.match(unreachable ?? '', /westeurope outage/, `the last attempt’s error is kept: ${unreachable}`);
    assert.equal(mismatch, 'sku differs: eastus=Balanced_B5, southeastasia=Balanced_B10');
    assert.ok(westeuropeAttempts > 1, `the read was retried (attempts: ${westeuropeAttempts})`);
    assert.equal(report.members.find((m) => m.region === 'westeurope')?.reachable, false);
    // Retries are not history events: still exactly one ActivityTaskScheduled per member.
    assert.deepEqual(scheduled.map((m) => m.region).sort(), [...REGIONS].sort());
  });
});
