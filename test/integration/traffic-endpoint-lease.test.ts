// setEndpointStatus against the emulator (official Azure SDK over HTTPS) when two groups of the worker's
// configuration share the Traffic Manager endpoint: enabling it while another group's open incident holds it changes
// nothing and names the holder; once released it is enabled with one PATCH, even when two failbacks ask at once.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { OpenRunbook } from '../../src/activities/endpoint-lease';
import type { GeofailoverActivities } from '../../src/activities/types';
import { createArmClients } from '../../src/azure/clients';
import { STEP_NAMES } from '../../src/contract/names';
import type { EndpointRef, GroupDefinition } from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import type { Emulator } from '../../src/emulator';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';
import { activityAuthorization, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
const dbId = (region: string, app = 'leaderboard'): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-${app}-${region}/databases/default`;
const PROFILE_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`;
const endpoint = (region: string): EndpointRef => ({ type: 'ExternalEndpoints', name: region });
const RUN = { workflowId: 'failover/leaderboard', runId: 'run-lease-test' };

/** Two groups of the worker's configuration behind the same profile and endpoints. */
function group(name: string, app: string): GroupDefinition {
  return {
    ...testGroup([...REGIONS]),
    name,
    members: Object.fromEntries(REGIONS.map((r) => [r, dbId(r, app)])),
    trafficManager: { profileId: PROFILE_ID, endpoints: Object.fromEntries(REGIONS.map((r) => [r, endpoint(r)])) },
  };
}
const LEADERBOARD = group('leaderboard', 'leaderboard');
const SESSIONS = group('sessions', 'sessions');

function holding(failedRegion: string): RunbookStatus {
  return {
    group: 'sessions',
    failedRegion,
    phase: 'awaiting-recovery',
    currentStep: 'await-recovery',
    steps: STEP_NAMES.map((step) => ({
      step,
      status: step === 'traffic-reroute' ? 'succeeded' : step === 'await-recovery' ? 'running' : 'pending',
      attempts: 0,
      summary: '',
    })),
  };
}

describe('setEndpointStatus with an endpoint shared by two groups (emulator)', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let acts: GeofailoverActivities;
  /** the open incidents of sessions, as Temporal would list them */
  let sessionsRuns: OpenRunbook[] = [];

  const run = <T>(fn: () => Promise<T>): Promise<T> =>
    new MockActivityEnvironment({ workflowExecution: RUN }, { logger: new DefaultLogger('ERROR') }).run(fn);
  const updates = (region: string): number =>
    emulator
      .counters()
      .filter((c) => c.operation === 'updateEndpoint' && c.resourceId.toLowerCase().endsWith(`/${region}`))
      .reduce((n, c) => n + c.count, 0);
  const statusOf = (region: string): string => {
    const [profile] = emulator.state().trafficManagerProfiles as {
      properties: { endpoints: { name: string; properties: { endpointStatus: string } }[] };
    }[];
    return profile?.properties.endpoints.find((e) => e.name === region)?.properties.endpointStatus ?? '?';
  };
  const set = (region: string, status: 'Enabled' | 'Disabled') =>
    run(() =>
      acts.setEndpointStatus({
        group: 'leaderboard',
        authorization: activityAuthorization(RUN, [dbId(region)]),
        profileId: PROFILE_ID,
        endpoint: endpoint(region),
        status,
      }),
    );

  before(async () => {
    emulator = await startTestEmulator();
    const arm = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
    });
    acts = createActivities({
      arm,
      callerCheck: async () => undefined,
      groupNames: ['leaderboard', 'sessions'],
      policies: (name) =>
        name === 'leaderboard'
          ? { found: true, policy: policyFor(LEADERBOARD) }
          : name === 'sessions'
            ? { found: true, policy: policyFor(SESSIONS) }
            : { found: false, reason: `no group ${name}` },
      openRunbooks: async (name) => (name === 'sessions' ? sessionsRuns : []),
    });
  });
  after(async () => {
    await emulator?.close();
  });

  it('disabling names the groups that share the endpoint', async () => {
    const off = await set('eastus', 'Disabled');
    assert.equal(off.changed, true);
    assert.deepEqual(off.sharedWith, ['sessions']);
    assert.equal(updates('eastus'), 1);
  });

  it("enabling while the other group's incident holds it changes nothing and names the holder", async () => {
    sessionsRuns = [{ workflowId: 'failover/sessions', runId: 'r-1', status: holding('eastus') }];
    const held = await set('eastus', 'Enabled');
    assert.equal(held.changed, false);
    assert.deepEqual(
      held.heldBy?.map((h) => [h.workflowId, h.group, h.region]),
      [['failover/sessions', 'sessions', 'eastus']],
    );
    assert.equal(statusOf('eastus'), 'Disabled');
    assert.equal(updates('eastus'), 1, 'no PATCH');
  });

  it("an incident of the other group holds only its failed region's endpoint", async () => {
    assert.equal((await set('westeurope', 'Disabled')).changed, true);
    sessionsRuns = [{ workflowId: 'failover/sessions', runId: 'r-1', status: holding('eastus') }];
    const on = await set('westeurope', 'Enabled');
    assert.equal(on.changed, true);
    assert.equal(on.heldBy, undefined);
  });

  it('released: two failbacks enabling at once make one PATCH', async () => {
    sessionsRuns = [];
    const before = updates('eastus');
    const [a, b] = await Promise.all([set('eastus', 'Enabled'), set('eastus', 'Enabled')]);
    assert.deepEqual([a.changed, b.changed].sort(), [false, true]);
    assert.equal(a.heldBy, undefined);
    assert.equal(statusOf('eastus'), 'Enabled');
    assert.equal(updates('eastus') - before, 1, 'enabled with one PATCH');
  });
});
