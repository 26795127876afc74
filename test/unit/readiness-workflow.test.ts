// readinessCheck on the shared dev server with mocked activities: a scheduled check tells the webhook only when
// its verdict crossed between fail and not-fail since the previous check, and bad input is a failed check.
import assert from 'node:assert/strict';
import type { GeofailoverActivities } from '../../src/contract/activities';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import type {
  GroupMember,
  PreviousReadiness,
  ReadinessActivities,
  ReadinessCheckInput,
  ReadinessReport,
  ReadinessVerdict,
} from '../../src/contract/readiness';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { MemberSnapshot } from '../../src/contract/types';
import { createWorker } from '../../src/worker';
import { useRunbookTestEnv } from '../helpers/fake-workers';
import { uniqueName, uniqueTaskQueue } from '../helpers/temporal';

const REGIONS = ['eastus', 'westeurope'];
const dbId = (region: string): string =>
  `/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/c-${region}/databases/default`;
const MEMBERS: GroupMember[] = REGIONS.map((region) => ({ region, databaseId: dbId(region) }));

function definition(name: string): GroupDefinition {
  return {
    name,
    members: Object.fromEntries(MEMBERS.map((m) => [m.region, m.databaseId])),
    trafficManager: {
      profileId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/tm',
      endpoints: Object.fromEntries(REGIONS.map((r) => [r, { type: 'ExternalEndpoints' as const, name: r }])),
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

function snapshot(m: GroupMember, evictionPolicy: string): MemberSnapshot {
  return {
    ...m,
    reachable: true,
    provisioningState: 'Succeeded',
    resourceState: 'Running',
    groupNickname: 'g',
    linkedDatabases: MEMBERS.map((o) => ({ id: o.databaseId, state: 'Linked' })),
    settings: { sku: 'Balanced_B5', modules: [], evictionPolicy },
  };
}

interface Fakes {
  /** the westeurope member's eviction policy: anything but NoEviction makes the check fail */
  westeuropeEviction: string;
  previous: PreviousReadiness;
  webhooks: Record<string, unknown>[];
  knownGroup: boolean;
}

function activities(
  f: Fakes,
): Pick<GeofailoverActivities, 'loadPolicy' | 'describeMember' | 'readMemory' | 'readProfile' | 'notifyEscalation'> &
  ReadinessActivities {
  return {
    loadPolicy: async ({ group }) =>
      f.knownGroup
        ? {
            found: true,
            policy: { group: definition(group), people: { alice: ['k'], bob: ['k'] }, digest: 'sha256:test' },
          }
        : { found: false, reason: `no group ${group} in this worker's configuration` },
    describeMember: async (m) => snapshot(m, m.region === 'westeurope' ? f.westeuropeEviction : 'NoEviction'),
    readMemory: async (m) => ({ ...m, usedBytes: 1, maxBytes: 100, percent: 1, readAt: '2026-12-02T00:00:00Z' }),
    readProfile: async ({ profileId }) => ({
      profileId,
      profileStatus: 'Enabled',
      endpoints: REGIONS.map((name) => ({ name, type: 'x', endpointStatus: 'Enabled' })),
    }),
    notifyEscalation: async ({ body }) => {
      f.webhooks.push(body);
      return { delivered: true, attempts: 1, statusCode: 204, target: 'env:HOOK → https://hooks.example' };
    },
    countActivityPollers: async () => [],
    previousReadiness: async () => f.previous,
  };
}

describe('readinessCheck: the verdict change of a scheduled check', function () {
  this.timeout(60_000);
  const t = useRunbookTestEnv();

  async function run(input: ReadinessCheckInput, f: Fakes): Promise<ReadinessReport> {
    const taskQueue = uniqueTaskQueue('readiness-unit');
    const worker = await createWorker({
      connection: t.env.nativeConnection,
      namespace: t.env.namespace,
      taskQueue,
      activities: activities(f),
      workflowBundle: t.bundle,
    });
    return worker.runUntil(async () => {
      const handle = t.track(
        await t.env.client.workflow.start(WORKFLOW_TYPES.readinessCheck, {
          taskQueue,
          workflowId: workflowIds.readiness(`${uniqueName('g')}-run`),
          args: [input],
        }),
      );
      return (await handle.result()) as ReadinessReport;
    });
  }

  const previous = (verdict?: ReadinessVerdict): PreviousReadiness =>
    verdict
      ? { found: true, workflowId: 'readiness/g-1', runId: 'r', verdict, checkedAt: '2026-12-02T00:00:00Z' }
      : { found: false, reason: 'none' };

  const cases: [ReadinessVerdict | undefined, 'pass' | 'fail', boolean][] = [
    [undefined, 'pass', false],
    [undefined, 'fail', true],
    ['pass', 'fail', true],
    ['warn', 'fail', true],
    ['fail', 'fail', false],
    ['fail', 'pass', true],
    ['pass', 'pass', false],
  ];
  for (const [before, now, fires] of cases) {
    it(`${before ?? 'no previous check'} → ${now}: ${fires ? 'one webhook' : 'no webhook'}`, async () => {
      const f: Fakes = {
        westeuropeEviction: now === 'fail' ? 'AllKeysLRU' : 'NoEviction',
        previous: previous(before),
        webhooks: [],
        knownGroup: true,
      };
      const group = uniqueName('g');
      const report = await run({ group, notifyOnChange: true }, f);
      assert.equal(report.verdict, now, report.problems.join('; '));
      assert.equal(f.webhooks.length, fires ? 1 : 0);
      if (fires) {
        assert.deepEqual(report.change, {
          from: before ?? 'none',
          to: now,
          ...(before ? { previousWorkflowId: 'readiness/g-1' } : {}),
          webhook: { delivered: true, attempts: 1, statusCode: 204, target: 'env:HOOK → https://hooks.example' },
        });
        assert.equal(f.webhooks[0]?.event, 'readiness-changed');
        assert.equal(f.webhooks[0]?.to, now);
      } else assert.equal(report.change, undefined);
    });
  }

  it('a check started by hand never calls the webhook', async () => {
    const f: Fakes = { westeuropeEviction: 'AllKeysLRU', previous: previous('pass'), webhooks: [], knownGroup: true };
    const report = await run({ group: uniqueName('g') }, f);
    assert.equal(report.verdict, 'fail');
    assert.equal(f.webhooks.length, 0);
  });

  it('fails the policy check, without failing the workflow, for a group the worker does not know or a bad name', async () => {
    const f: Fakes = { westeuropeEviction: 'NoEviction', previous: previous(), webhooks: [], knownGroup: false };
    const unknown = await run({ group: uniqueName('g') }, f);
    assert.deepEqual(
      unknown.checks.map((c) => [c.check, c.verdict]),
      [['policy', 'fail']],
    );
    assert.match(unknown.checks[0]?.reasons[0] ?? '', /no group .* in this worker's configuration/);
    const bad = await run({ group: 'x'.repeat(500) }, { ...f, knownGroup: true });
    assert.equal(bad.verdict, 'fail');
    assert.equal(bad.group, '(invalid)');
  });
});
