// The harness end to end: the shared dev server, a real Worker from src/worker.ts with the bundled
// workflows, mocked activities, and readinessCheck started the way the CLI starts it.
import assert from 'node:assert/strict';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import type { MembershipActivities } from '../../src/activities/types';
import { FAILURE_TYPES } from '../../src/contract/failures';
import { workflowIds } from '../../src/contract/names';
import type { GroupMember, ReadinessCheckInput, ReadinessReport } from '../../src/contract/readiness';
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
      activities,
      workflowBundle: bundle,
    });
    const handle = await startReadinessCheck(env.client, input, { taskQueue });
    assert.equal(handle.workflowId, workflowIds.readiness(input.group));
    const report = await worker.runUntil(handle.result());

    // The audit trail: one ActivityTaskScheduled per member, with the member it read as input.
    const history = await handle.fetchHistory();
    const scheduled = (history.events ?? [])
      .map((e) => e.activityTaskScheduledEventAttributes)
      .filter((a) => a != null)
      .map((a) => {
        assert.equal(a.activityType?.name, 'describeMember');
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
      { group, members },
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
        members,
        activityTimeouts: { startToClose: '1s', scheduleToClose: '2s', initialRetryInterval: '100ms' },
      },
      activities,
    );

    assert.equal(report.ready, false);
    assert.equal(report.problems.length, 2, report.problems.join('\n'));
    const [unreachable, mismatch] = report.problems;
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
