// Two subscriptions with the same resource group, cluster and database names: every activity acts in the
// subscription of the id it is given (never the clients' default one), and the emulator answers per
// subscription. Then the `hang` fault: a region that accepts requests and never answers is bounded by the
// per-request timeout, and `restore` ends it.
import assert from 'node:assert/strict';
import type { Info } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { GeofailoverActivities } from '../../src/activities/types';
import { createArmClients } from '../../src/azure/clients';
import { ArmRequestTimeoutError } from '../../src/azure/errors';
import { FAILURE_TYPES } from '../../src/contract/failures';
import type { Authorization } from '../../src/contract/policy';
import type { GroupDefinition } from '../../src/contract/runbook';
import { defaultScenario, type Emulator } from '../../src/emulator';
import { signAction } from '../../src/signing/sign-action';
import { emulatorCredential, startTestEmulator, withAccessKeys } from '../helpers/emulator';
import { personKey, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const SUB_A = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const SUB_B = '0b7e9c4d-5a6f-4e21-8d3c-2f1a0b9c8d7e';
const RG = 'rg-geofailover-demo';
const dbId = (sub: string, region: string): string =>
  `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;
const PROFILE_ID = `/subscriptions/${SUB_B}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`;

const GROUP_B = 'leaderboard-b';
const RUN = { workflowId: `failover/${GROUP_B}`, runId: 'run-subscriptions-test' };
const POLICY_GROUP_B: GroupDefinition = {
  ...testGroup(['eastus', 'westeurope']),
  name: GROUP_B,
  members: { eastus: dbId(SUB_B, 'eastus'), westeurope: dbId(SUB_B, 'westeurope') },
  trafficManager: {
    profileId: PROFILE_ID,
    endpoints: {
      eastus: { type: 'ExternalEndpoints', name: 'eastus' },
      westeurope: { type: 'ExternalEndpoints', name: 'westeurope' },
    },
  },
};

function unlinkAuthorization(): Authorization {
  const targets = Object.values(POLICY_GROUP_B.members);
  return {
    request: signAction(personKey('sre-lead'), {
      action: 'start',
      actor: 'sre-lead',
      workflowId: RUN.workflowId,
      runId: null,
      targets,
    }),
    approvals: [
      signAction(personKey('sre-manager'), {
        action: 'approve',
        actor: 'sre-manager',
        workflowId: RUN.workflowId,
        runId: RUN.runId,
        gate: 'approval-unlink',
        gateInstance: 1,
        targets,
      }),
    ],
  };
}

describe('ARM calls per subscription, and a hung region', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let acts: GeofailoverActivities;

  const env = (info?: Partial<Info>): MockActivityEnvironment =>
    new MockActivityEnvironment({ workflowExecution: RUN, ...info }, { logger: new DefaultLogger('ERROR') });
  const run = <T>(fn: () => Promise<T>): Promise<T> => env().run(fn);

  before(async () => {
    // The default scenario (subscription A), plus subscription B holding the same resource group and cluster
    // names for eastus and westeurope (not southeastasia), in a group of their own.
    const scenario = defaultScenario();
    const copies = scenario.clusters
      .filter((c) => c.location !== 'southeastasia')
      .map((c) => ({
        ...c,
        subscriptionId: SUB_B,
        databases: c.databases.map((d) => ({ ...d, geoReplication: { groupNickname: GROUP_B } })),
      }));
    scenario.clusters.push(...copies);
    // The per-operation hang below hangs listKeys: access keys Enabled.
    emulator = await startTestEmulator({ scenario: withAccessKeys(scenario) });
    // The clients' default subscription is A: B's resources are reached only through the registry.
    const arm = createArmClients({
      subscriptionId: SUB_A,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
      requestTimeoutMs: 500,
    });
    acts = createActivities({
      arm,
      caPem: emulator.caPem,
      redisTimeoutMs: 3000,
      callerCheck: async () => undefined,
      policies: (group: string) =>
        group === GROUP_B
          ? { found: true as const, policy: policyFor(POLICY_GROUP_B) }
          : { found: false as const, reason: `no group ${group}` },
    } as never);
  });
  after(async () => {
    await emulator?.close();
  });

  it('describeMember reads the database of the subscription in its id', async () => {
    const a = await run(() => acts.describeMember({ region: 'eastus', databaseId: dbId(SUB_A, 'eastus') }));
    const b = await run(() => acts.describeMember({ region: 'eastus', databaseId: dbId(SUB_B, 'eastus') }));
    assert.equal(a.groupNickname, 'leaderboard');
    assert.equal(b.groupNickname, GROUP_B);
    assert.deepEqual(b.linkedDatabases?.map((l) => l.id.toLowerCase()).sort(), [
      dbId(SUB_B, 'eastus').toLowerCase(),
      dbId(SUB_B, 'westeurope').toLowerCase(),
    ]);
    assert.notEqual(a.port, b.port, 'two databases, two redis-servers');
  });

  it('a database that exists in subscription A is 404 in subscription B', async () => {
    await assert.rejects(
      run(() => acts.describeMember({ region: 'southeastasia', databaseId: dbId(SUB_B, 'southeastasia') })),
      (e: unknown) => e instanceof ApplicationFailure && e.type === FAILURE_TYPES.azureNotFound,
    );
    const a = await run(() =>
      acts.describeMember({ region: 'southeastasia', databaseId: dbId(SUB_A, 'southeastasia') }),
    );
    assert.equal(a.reachable, true);
  });

  it('forceUnlink acts in subscription B only: counted on B ids, A untouched', async () => {
    emulator.resetCounters();
    const r = await run(() =>
      acts.forceUnlink({
        group: GROUP_B,
        authorization: unlinkAuthorization(),
        survivorDatabaseId: dbId(SUB_B, 'eastus'),
        failedDatabaseId: dbId(SUB_B, 'westeurope'),
        survivorDatabaseIds: [dbId(SUB_B, 'eastus')],
        pollIntervalMs: 50,
      }),
    );
    assert.equal(r.skipped, false);
    const counters = emulator.counters().filter((c) => c.operation === 'forceUnlink');
    assert.deepEqual(
      counters.map((c) => [c.resourceId.toLowerCase(), c.count]),
      [[dbId(SUB_B, 'eastus').toLowerCase(), 1]],
    );
    const state = emulator.state();
    const linksOf = (id: string): string[] =>
      (state.databases.find((d) => d.id.toLowerCase() === id.toLowerCase())?.linkedDatabases ?? []).map((l) =>
        l.id.toLowerCase(),
      );
    assert.deepEqual(linksOf(dbId(SUB_B, 'eastus')), [dbId(SUB_B, 'eastus').toLowerCase()]);
    assert.equal(linksOf(dbId(SUB_A, 'eastus')).length, 3, "subscription A's group is whole");
  });

  it('hang: requests are accepted and never answered; the per-request timeout bounds them; restore ends it', async () => {
    emulator.faults.hang({ region: 'westeurope' });
    try {
      assert.deepEqual(emulator.faults.list().hangs, [{ region: 'westeurope', operation: '*' }]);
      const started = Date.now();
      const m = await run(() => acts.describeMember({ region: 'westeurope', databaseId: dbId(SUB_A, 'westeurope') }));
      const elapsed = Date.now() - started;
      assert.equal(m.reachable, false);
      assert.equal(m.error?.code, 'RequestTimeout');
      assert.ok(elapsed < 3000, `answered as a finding in ${elapsed} ms`);
      // Another region answers meanwhile.
      const other = await run(() => acts.describeMember({ region: 'eastus', databaseId: dbId(SUB_A, 'eastus') }));
      assert.equal(other.reachable, true);

      // A request nobody times out is held until restore, which drops it.
      const arm = createArmClients({
        subscriptionId: SUB_A,
        endpoint: emulator.arm,
        caPem: emulator.caPem,
        credential: emulatorCredential(emulator),
        keepAlive: false,
        retryOptions: { maxRetries: 0 },
        requestTimeoutMs: 60_000,
      });
      const pending = arm.redis.databases.get(RG, 'redis-leaderboard-westeurope', 'default');
      pending.catch(() => undefined);
      const deadline = Date.now() + 5000;
      while (emulator.faults.list().requestsHeld < 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(emulator.faults.list().requestsHeld, 1);
      await emulator.faults.restore('westeurope');
      await assert.rejects(pending, (e: unknown) => !(e instanceof ArmRequestTimeoutError));
      assert.equal(emulator.faults.list().requestsHeld, 0);
      assert.deepEqual(emulator.faults.list().hangs, []);
    } finally {
      await emulator.faults.reset();
    }
    const back = await run(() => acts.describeMember({ region: 'westeurope', databaseId: dbId(SUB_A, 'westeurope') }));
    assert.equal(back.reachable, true);
  });

  it('hang per operation: only that operation hangs', async () => {
    emulator.faults.hang({ region: 'eastus', operation: 'listKeys' });
    try {
      const m = await run(() => acts.describeMember({ region: 'eastus', databaseId: dbId(SUB_A, 'eastus') }));
      assert.equal(m.reachable, true, 'cluster and database reads still answer');
      await assert.rejects(
        run(() => acts.readMemory({ region: 'eastus', databaseId: dbId(SUB_A, 'eastus') })),
        (e: unknown) => e instanceof ApplicationFailure && /per-request timeout/.test(e.message),
      );
    } finally {
      await emulator.faults.reset();
    }
  });
});
