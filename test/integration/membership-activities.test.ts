import assert from 'node:assert/strict';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createMembershipActivities } from '../../src/activities/membership';
import { createArmClients } from '../../src/azure/clients';
import { FAILURE_TYPES } from '../../src/contract/failures';
import type { Emulator } from '../../src/emulator';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;

describe('membership activities against the emulator', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let activities: ReturnType<typeof createMembershipActivities>;
  const run = <T>(fn: () => Promise<T>): Promise<T> =>
    new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn);

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
    activities = createMembershipActivities({ arm });
  });
  after(async () => {
    await emulator?.close();
  });

  it('describes a member: links, states and the settings that must match', async () => {
    const m = await run(() => activities.describeMember({ region: 'eastus', databaseId: dbId('eastus') }));
    assert.equal(m.reachable, true);
    assert.equal(m.provisioningState, 'Succeeded');
    assert.equal(m.groupNickname, 'leaderboard');
    assert.deepEqual(
      m.linkedDatabases!.map((l) => [l.id.toLowerCase(), l.state]).sort(),
      ['eastus', 'southeastasia', 'westeurope'].map((r) => [dbId(r).toLowerCase(), 'Linked']),
    );
    assert.deepEqual(m.settings, {
      sku: 'Balanced_B5',
      modules: [],
      evictionPolicy: 'NoEviction',
      clusteringPolicy: 'EnterpriseCluster',
      clientProtocol: 'Encrypted',
      highAvailability: 'Enabled',
    });
    assert.ok(m.hostName && m.port, 'the data-plane address ARM reports');
  });

  it('reports a member in a failed region as unreachable instead of failing', async () => {
    await emulator.faults.outage('westeurope');
    try {
      const m = await run(() => activities.describeMember({ region: 'westeurope', databaseId: dbId('westeurope') }));
      assert.equal(m.reachable, false);
      assert.match(m.error!.message, /westeurope/);
    } finally {
      await emulator.faults.restore('westeurope');
    }
  });

  it('fails at once, not retryable, for a database that does not exist or an id that does not parse', async () => {
    await assert.rejects(
      run(() =>
        activities.describeMember({ region: 'eastus', databaseId: dbId('eastus').replace('eastus/', 'nowhere/') }),
      ),
      (e: unknown) => e instanceof ApplicationFailure && e.type === FAILURE_TYPES.azureNotFound && e.nonRetryable,
    );
    await assert.rejects(
      run(() => activities.describeMember({ region: 'eastus', databaseId: '/subscriptions/x/nonsense' })),
      (e: unknown) => e instanceof ApplicationFailure && e.type === FAILURE_TYPES.invalidInput && e.nonRetryable,
    );
  });
});
