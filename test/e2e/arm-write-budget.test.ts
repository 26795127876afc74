// The worker's ARM write budget on the real parts: a Temporal dev server, a real worker running the real
// setEndpointStatus activity, and the emulator over HTTPS through the official Azure SDK, with ARM's token-bucket
// model set to small write buckets (burst 5, 2 per second). Thirty endpoint PATCHes fired at once (fifteen
// "incidents" of two switches each, as an evacuation's traffic step does) all succeed on their first attempt, and
// the emulator answers (next to) none of them 429: the worker's budget (burst 3, 1.5 per second) holds them back
// before they are sent. Requests due while the worker's event loop stalls (two cores shared by many test runs)
// leave together when it resumes: the budget's margin below ARM's bucket absorbs such bunches, so "few" 429s, never
// a failed attempt. Without a budget the same burst draws 429s, and Retry-After is still waited out.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createArmClients } from '../../src/azure/clients';
import { WriteBudget } from '../../src/azure/write-budget';
import { workflowIds } from '../../src/contract/names';
import type { GroupDefinition } from '../../src/contract/runbook';
import { defaultScenario, type Emulator, type Scenario } from '../../src/emulator';
import type { endpointSwitchBurst } from '../fixtures/write-burst-workflow';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';
import { activityAuthorization, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';
import { getTestEnv, uniqueTaskQueue } from '../helpers/temporal';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
/** The endpoints each incident disables at once; the third stays enabled (never the last one). */
const SWITCHED = ['eastus', 'westeurope'] as const;
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;
const profileName = (i: number): string => `tm-burst-${String(i).padStart(2, '0')}`;
const profileId = (i: number): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/${profileName(i)}`;
const groupName = (i: number): string => `burst-${String(i).padStart(2, '0')}`;

/** The first BUDGETED profiles are switched with the budget, the next UNBUDGETED without. */
const BUDGETED = 15;
const UNBUDGETED = 6;

/** The default scenario plus one Traffic Manager profile per "incident", shaped like the default one. */
function burstScenario(): Scenario {
  const scenario = defaultScenario();
  const template = scenario.trafficManagerProfiles[0];
  assert.ok(template, 'the default scenario has a Traffic Manager profile');
  for (let i = 0; i < BUDGETED + UNBUDGETED; i++) {
    scenario.trafficManagerProfiles.push({
      ...structuredClone(template),
      name: profileName(i),
      relativeName: `burst-${i}`,
    });
  }
  return scenario;
}

/** Group i's policy: the default scenario's members, behind profile i. */
function groupOf(i: number): GroupDefinition {
  return testGroup([...REGIONS], (g) => {
    g.name = groupName(i);
    g.members = Object.fromEntries(REGIONS.map((r) => [r, dbId(r)]));
    g.trafficManager = {
      profileId: profileId(i),
      endpoints: Object.fromEntries(REGIONS.map((r) => [r, { type: 'ExternalEndpoints' as const, name: r }])),
    };
  });
}

describe('ARM write budget on the real stack: a burst of writes stays within ARM throttling', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let emulator: Emulator;
  let bundle: WorkflowBundle;
  const groups = new Map(Array.from({ length: BUDGETED + UNBUDGETED }, (_, i) => [groupName(i), groupOf(i)]));

  before(async () => {
    env = await getTestEnv();
    [emulator, bundle] = await Promise.all([
      startTestEmulator({ scenario: burstScenario() }),
      bundleWorkflowCode({
        workflowsPath: require.resolve('../fixtures/write-burst-workflow'),
        logger: new DefaultLogger('WARN'),
      }),
    ]);
  });
  after(async () => {
    await emulator?.close();
    await env?.teardown();
  });
  beforeEach(async () => {
    await emulator.faults.reset();
    emulator.resetCounters();
    // ARM's model with small write buckets (reads keep Azure's 250 / 25 per second).
    emulator.faults.rateLimits({ writes: { burst: 5, perSecond: 2 } });
  });

  /**
   * Runs incidents `from`..`to`-1 at once (each disabling two endpoints of its profile) on a real worker whose ARM
   * clients use `writeBudget`; returns each incident's results and the attempt of every activity that ran.
   */
  async function burst(
    from: number,
    to: number,
    writeBudget: WriteBudget | false,
  ): Promise<{ changed: boolean[][]; attempts: number[] }> {
    const arm = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
      writeBudget,
      // The SDK's retry, compressed as in the drill: 429s are waited out by Retry-After, not by these delays.
      retryOptions: { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 250 },
    });
    const activities = createActivities({
      arm,
      caPem: emulator.caPem,
      // No runbook calls these: the caller check (is it a runbook run?) is the trust tests' subject.
      callerCheck: async () => undefined,
      policies: (group) => {
        const g = groups.get(group);
        return g ? { found: true as const, policy: policyFor(g) } : { found: false as const, reason: 'unknown' };
      },
    });
    const taskQueue = uniqueTaskQueue('write-budget');
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace,
      taskQueue,
      workflowBundle: bundle,
      activities,
    });
    return worker.runUntil(async () => {
      const handles = await Promise.all(
        Array.from({ length: to - from }, (_, k) => {
          const i = from + k;
          const workflowId = workflowIds.failover(groupName(i));
          return env.client.workflow.start<typeof endpointSwitchBurst>('endpointSwitchBurst', {
            taskQueue,
            workflowId,
            args: [
              {
                calls: SWITCHED.map((region) => ({
                  profileId: profileId(i),
                  endpoint: { type: 'ExternalEndpoints', name: region },
                  status: 'Disabled' as const,
                  group: groupName(i),
                  // A signed start names no run: any run of this workflow id carries it.
                  authorization: activityAuthorization({ workflowId, runId: 'any' }, REGIONS.map(dbId)),
                })),
              },
            ],
          });
        }),
      );
      const changed = await Promise.all(handles.map((h) => h.result()));
      const attempts: number[] = [];
      for (const h of handles) {
        for (const event of (await h.fetchHistory()).events ?? []) {
          const started = event.activityTaskStartedEventAttributes;
          if (started) attempts.push(started.attempt ?? 0);
        }
      }
      return { changed, attempts };
    });
  }

  const patches = (): number =>
    emulator
      .counters()
      .filter((c) => c.operation === 'updateEndpoint')
      .reduce((n, c) => n + c.count, 0);

  it('thirty endpoint PATCHes at once: all succeed at their first attempt, and ARM answers few 429s if any', async () => {
    const budget = new WriteBudget({ burst: 3, perSecond: 1.5 });
    const { changed, attempts } = await burst(0, BUDGETED, budget);

    assert.deepEqual(
      changed,
      Array.from({ length: BUDGETED }, () => [true, true]),
      'every switch changed its endpoint',
    );
    assert.equal(attempts.length, BUDGETED * SWITCHED.length);
    assert.deepEqual(
      attempts.filter((a) => a !== 1),
      [],
      'no activity attempt failed (a 429 or a heartbeat timeout would have retried it)',
    );
    assert.equal(patches(), BUDGETED * SWITCHED.length, 'one PATCH per switch');
    const throttled = emulator.faults.list().rateLimits.throttled;
    assert.ok(throttled.writes <= 2, `ARM answered few write 429s, if any (${JSON.stringify(throttled)})`);
    const stats = budget.stats();
    // A 429 waited out by the SDK's retry draws another token: ARM counts the retry too.
    assert.equal(stats.granted, BUDGETED * SWITCHED.length + throttled.writes);
    // How many had to wait depends on how fast the activities arrived (a quiet machine spreads them); some did.
    assert.ok(stats.waited > 0, `writes beyond the burst waited (${stats.waited})`);
    for (let i = 0; i < BUDGETED; i++) {
      type ProfileView = {
        name: string;
        properties: { endpoints: { name: string; properties: { endpointStatus: string } }[] };
      };
      const profiles = emulator.state().trafficManagerProfiles as ProfileView[];
      const profile = profiles.find((p) => p.name === profileName(i));
      const statuses = Object.fromEntries(
        (profile?.properties.endpoints ?? []).map((e) => [e.name, e.properties.endpointStatus]),
      );
      assert.deepEqual(statuses, { eastus: 'Disabled', westeurope: 'Disabled', southeastasia: 'Enabled' });
    }
  });

  it('without a budget the same kind of burst draws 429s, and Retry-After is waited out: no attempt fails', async () => {
    const { changed, attempts } = await burst(BUDGETED, BUDGETED + UNBUDGETED, false);

    assert.deepEqual(
      changed,
      Array.from({ length: UNBUDGETED }, () => [true, true]),
    );
    assert.deepEqual(
      attempts.filter((a) => a !== 1),
      [],
      'every 429 was waited out inside the attempt',
    );
    assert.equal(patches(), UNBUDGETED * SWITCHED.length, 'a 429 is never an extra PATCH');
    const throttled = emulator.faults.list().rateLimits.throttled;
    assert.ok(throttled.writes > 0, `ARM answered 429s (${JSON.stringify(throttled)})`);
  });
});
