import assert from 'node:assert/strict';
import type { RedisEnterpriseManagementClient } from '@azure/arm-redisenterprisecache';
import type { FullOperationResponse } from '@azure/core-client';
import { createArmClients, type ArmClients } from '../../src/azure/clients';
import { classifyAzureError } from '../../src/azure/errors';
import { beginFlush, beginForceLinkToReplicationGroupAndWait } from '../../src/azure/operation-specs';
import { formatDatabaseId, parseDatabaseId } from '../../src/azure/resource-ids';
import { FAILURE_TYPES } from '../../src/contract/failures';
import type { Emulator } from '../../src/emulator';
import { emulatorCredential, startTestEmulator, withAccessKeys } from '../helpers/emulator';

/*
 * The official SDK clients (@azure/arm-redisenterprisecache 2.2.0, @azure/arm-trafficmanager 6.1.0), unchanged but
 * for endpoint, credential and the emulator's CA, against the emulator: every operation the runbook uses, with the
 * SDK's default Redis api-version (2022-01-01) and with 2026-08-01.
 */

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const GROUP = 'leaderboard';
const PROFILE = 'tm-leaderboard';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
type Region = (typeof REGIONS)[number];
const cluster = (region: Region): string => `redis-leaderboard-${region}`;
const dbId = (region: Region): string =>
  formatDatabaseId({
    subscriptionId: SUB,
    resourceGroupName: RG,
    clusterName: cluster(region),
    databaseName: 'default',
  });
const POLL = { updateIntervalInMs: 20 };

/** Captures the raw HTTP responses of one SDK call (initial request and polls). */
function captureResponses(): { onResponse: (r: FullOperationResponse) => void; responses: FullOperationResponse[] } {
  const responses: FullOperationResponse[] = [];
  return { responses, onResponse: (r) => responses.push(r) };
}

async function rejected(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected the call to fail'),
    (e: unknown) => e,
  );
}

async function linkedIds(redis: RedisEnterpriseManagementClient, region: Region): Promise<string[]> {
  const db = await redis.databases.get(RG, cluster(region), 'default');
  return (db.geoReplication?.linkedDatabases ?? []).map((l) => (l.id ?? '').toLowerCase()).sort();
}

function ids(...regions: Region[]): string[] {
  return regions.map((r) => dbId(r).toLowerCase()).sort();
}

function mutationCount(emulator: Emulator, resourceId: string, operation: string): number {
  return emulator
    .counters()
    .filter((c) => c.resourceId.toLowerCase() === resourceId.toLowerCase() && c.operation === operation)
    .reduce((n, c) => n + c.count, 0);
}

function clientsFor(
  emulator: Emulator,
  redisApiVersion: string | null,
  extra: Partial<Parameters<typeof createArmClients>[0]> = {},
): ArmClients {
  return createArmClients({
    subscriptionId: SUB,
    endpoint: emulator.arm,
    caPem: emulator.caPem,
    credential: emulatorCredential(emulator),
    redisApiVersion,
    keepAlive: false,
    ...extra,
  });
}

describe('Azure SDK fidelity against the emulator', function () {
  this.timeout(30_000);

  for (const apiVersion of [null, '2026-08-01'] as const) {
    const label = apiVersion ?? '2022-01-01 (SDK 2.2.0 default)';

    describe(`Redis Enterprise, api-version ${label}`, () => {
      let emulator: Emulator;
      let redis: RedisEnterpriseManagementClient;

      before(async () => {
        emulator = await startTestEmulator({ scenario: withAccessKeys() });
        redis = clientsFor(emulator, apiVersion).redis;
      });
      after(async () => {
        await emulator?.close();
      });
      afterEach(async () => {
        await emulator.faults.reset();
      });

      it('sends the expected api-version', async () => {
        const { responses, onResponse } = captureResponses();
        await redis.redisEnterprise.get(RG, cluster('eastus'), { onResponse });
        const sent = new URL(responses[0]?.request.url ?? '').searchParams.get('api-version');
        assert.equal(sent, apiVersion ?? '2022-01-01');
      });

      it('cluster get', async () => {
        const c = await redis.redisEnterprise.get(RG, cluster('eastus'));
        assert.equal(c.name, cluster('eastus'));
        assert.equal(c.location, 'eastus');
        assert.equal(c.type, 'Microsoft.Cache/redisEnterprise');
        assert.equal(
          c.id,
          `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/${cluster('eastus')}`,
        );
        assert.equal(c.sku.name, 'Balanced_B5');
        assert.equal(c.provisioningState, 'Succeeded');
        assert.equal(c.resourceState, 'Running');
        assert.equal(c.minimumTlsVersion, '1.2');
        assert.ok(c.hostName, 'hostName');
      });

      it('database get', async () => {
        const db = await redis.databases.get(RG, cluster('westeurope'), 'default');
        assert.equal(db.id, dbId('westeurope'));
        assert.equal(db.name, `${cluster('westeurope')}/default`);
        assert.equal(db.type, 'Microsoft.Cache/redisEnterprise/databases');
        assert.equal(db.clientProtocol, 'Encrypted');
        assert.equal(db.clusteringPolicy, 'EnterpriseCluster');
        assert.equal(db.evictionPolicy, 'NoEviction');
        assert.equal(db.provisioningState, 'Succeeded');
        assert.equal(db.resourceState, 'Running');
        assert.ok(typeof db.port === 'number' && db.port > 0, `port ${String(db.port)}`);
        assert.equal(db.geoReplication?.groupNickname, GROUP);
        assert.deepEqual(
          (db.geoReplication?.linkedDatabases ?? []).map((l) => [l.id?.toLowerCase(), l.state]).sort(),
          ids(...REGIONS).map((id) => [id, 'Linked']),
        );
      });

      it('database list', async () => {
        const all = [];
        for await (const db of redis.databases.listByCluster(RG, cluster('eastus'))) {
          all.push(db);
        }
        assert.deepEqual(
          all.map((d) => d.id),
          [dbId('eastus')],
        );
      });

      it('database listKeys', async () => {
        const keys = await redis.databases.listKeys(RG, cluster('eastus'), 'default');
        assert.ok(keys.primaryKey && keys.primaryKey.length >= 16, 'primaryKey');
        assert.ok(keys.secondaryKey && keys.secondaryKey !== keys.primaryKey, 'secondaryKey');
      });

      it('a missing database is a classified 404 ResourceNotFound', async () => {
        const e = await rejected(redis.databases.get(RG, 'redis-leaderboard-nowhere', 'default'));
        const c = classifyAzureError(e);
        assert.equal(c.type, FAILURE_TYPES.azureNotFound);
        assert.equal(c.statusCode, 404);
        assert.match(c.code ?? '', /^(ResourceNotFound|ParentResourceNotFound)$/);
        assert.match(c.message, /redis-leaderboard-nowhere/);
      });

      it('forceUnlink (poll to success) removes the member from every survivor; operationsStatus.get reports it', async () => {
        const unlinksBefore = mutationCount(emulator, dbId('westeurope'), 'forceUnlink');
        const { responses, onResponse } = captureResponses();
        await redis.databases.beginForceUnlinkAndWait(
          RG,
          cluster('westeurope'),
          'default',
          { ids: [dbId('southeastasia')] },
          { ...POLL, onResponse },
        );
        const initial = responses[0];
        assert.ok(initial, 'initial response');
        assert.ok([200, 202].includes(initial.status), `initial status ${initial.status}`);
        assert.deepEqual(await linkedIds(redis, 'westeurope'), ids('eastus', 'westeurope'));
        assert.deepEqual(await linkedIds(redis, 'eastus'), ids('eastus', 'westeurope'));
        // The unlinked member keeps its stale view until it is rejoined or deleted.
        assert.deepEqual(await linkedIds(redis, 'southeastasia'), ids(...REGIONS));
        assert.equal(mutationCount(emulator, dbId('westeurope'), 'forceUnlink') - unlinksBefore, 1);

        if (initial.status === 202) {
          const statusUrl = initial.headers.get('azure-asyncoperation');
          assert.ok(statusUrl, 'Azure-AsyncOperation');
          const m = /\/locations\/([^/]+)\/operationsStatus\/([^/?]+)/i.exec(new URL(statusUrl).pathname);
          assert.ok(m, `status URL ${statusUrl}`);
          const status = await redis.operationsStatus.get(m[1] as string, m[2] as string);
          assert.equal(status.status, 'Succeeded');
          assert.equal(status.name, m[2]);
          assert.ok(status.startTime && status.endTime, 'startTime and endTime');
        }
      });

      it('delete (poll to success) then create with geoReplication (poll to success) rejoins the member', async () => {
        const target = parseDatabaseId(dbId('southeastasia'));
        const deletesBefore = mutationCount(emulator, dbId('southeastasia'), 'delete');
        await redis.databases.beginDeleteAndWait(
          target.resourceGroupName,
          target.clusterName,
          target.databaseName,
          POLL,
        );
        const gone = classifyAzureError(await rejected(redis.databases.get(RG, cluster('southeastasia'), 'default')));
        assert.equal(gone.type, FAILURE_TYPES.azureNotFound);
        assert.equal(mutationCount(emulator, dbId('southeastasia'), 'delete') - deletesBefore, 1);

        const created = await redis.databases.beginCreateAndWait(
          RG,
          cluster('southeastasia'),
          'default',
          {
            clientProtocol: 'Encrypted',
            clusteringPolicy: 'EnterpriseCluster',
            evictionPolicy: 'NoEviction',
            geoReplication: {
              groupNickname: GROUP,
              linkedDatabases: [{ id: dbId('southeastasia') }, { id: dbId('eastus') }, { id: dbId('westeurope') }],
            },
          },
          POLL,
        );
        assert.equal(created.provisioningState, 'Succeeded');
        assert.equal(created.geoReplication?.groupNickname, GROUP);
        for (const region of REGIONS) {
          assert.deepEqual(await linkedIds(redis, region), ids(...REGIONS), `${region} lists every member`);
        }
        const states = (
          await redis.databases.get(RG, cluster('southeastasia'), 'default')
        ).geoReplication?.linkedDatabases?.map((l) => l.state);
        assert.deepEqual(states, ['Linked', 'Linked', 'Linked']);
      });

      it('forceUnlink to failure through an LRO fault: the poller rejects with the ARM code, nothing changes', async () => {
        emulator.faults.lro({
          operation: 'forceUnlink',
          fail: { code: 'UnlinkFailed', message: 'Injected: the member could not be unlinked.' },
        });
        const e = await rejected(
          redis.databases.beginForceUnlinkAndWait(
            RG,
            cluster('eastus'),
            'default',
            { ids: [dbId('southeastasia')] },
            POLL,
          ),
        );
        assert.equal(
          (e as Error).message,
          'The long-running operation has failed. UnlinkFailed. Injected: the member could not be unlinked.',
        );
        assert.deepEqual(classifyAzureError(e), {
          type: FAILURE_TYPES.azureOperationFailed,
          retryable: false,
          code: 'UnlinkFailed',
          message: 'Injected: the member could not be unlinked.',
        });
        assert.deepEqual(await linkedIds(redis, 'eastus'), ids(...REGIONS));
      });

      it('forceUnlink canceled through an LRO fault: the poller rejects, classified as a non-retryable operation failure', async () => {
        emulator.faults.lro({ operation: 'forceUnlink', cancel: true });
        const e = await rejected(
          redis.databases.beginForceUnlinkAndWait(
            RG,
            cluster('eastus'),
            'default',
            { ids: [dbId('southeastasia')] },
            POLL,
          ),
        );
        const c = classifyAzureError(e);
        assert.equal(c.type, FAILURE_TYPES.azureOperationFailed);
        assert.equal(c.retryable, false);
        assert.equal(c.code, 'Canceled');
        assert.deepEqual(await linkedIds(redis, 'eastus'), ids(...REGIONS));
      });

      if (apiVersion === null) {
        it('forceLink and flush from a client pinned to 2022-01-01 are refused: the operations do not exist there', async () => {
          const pinned = clientsFor(emulator, '2022-01-01', { retryOptions: { maxRetries: 0 } }).redis;
          const rejoin = {
            geoReplication: {
              groupNickname: GROUP,
              linkedDatabases: [{ id: dbId('westeurope') }, { id: dbId('eastus') }, { id: dbId('southeastasia') }],
            },
          };
          const flushesBefore = mutationCount(emulator, dbId('eastus'), 'flush');
          // A valid rejoin, so that only the api-version can make it fail.
          await redis.databases.beginForceUnlinkAndWait(
            RG,
            cluster('eastus'),
            'default',
            { ids: [dbId('westeurope')] },
            POLL,
          );
          try {
            const link = classifyAzureError(
              await rejected(
                beginForceLinkToReplicationGroupAndWait(pinned, RG, cluster('westeurope'), 'default', rejoin, POLL),
              ),
            );
            assert.equal(link.statusCode, 400, JSON.stringify(link));
            assert.equal(link.type, FAILURE_TYPES.azureBadRequest);
            assert.equal(mutationCount(emulator, dbId('westeurope'), 'forceLinkToReplicationGroup'), 0);
            const flush = classifyAzureError(
              await rejected(
                beginFlush(pinned, RG, cluster('eastus'), 'default', {}, POLL).then((p) => p.pollUntilDone()),
              ),
            );
            assert.equal(flush.statusCode, 400, JSON.stringify(flush));
            assert.equal(mutationCount(emulator, dbId('eastus'), 'flush'), flushesBefore);
          } finally {
            await beginForceLinkToReplicationGroupAndWait(
              redis,
              RG,
              cluster('westeurope'),
              'default',
              rejoin,
              POLL,
            ).catch(() => undefined);
            await emulator.faults.reset();
          }
        });
      }

      it('forceLinkToReplicationGroup through the operation spec (poll to success)', async () => {
        const linksBefore = mutationCount(emulator, dbId('westeurope'), 'forceLinkToReplicationGroup');
        await redis.databases.beginForceUnlinkAndWait(
          RG,
          cluster('eastus'),
          'default',
          { ids: [dbId('westeurope')] },
          POLL,
        );
        assert.deepEqual(await linkedIds(redis, 'eastus'), ids('eastus', 'southeastasia'));

        const { responses, onResponse } = captureResponses();
        await beginForceLinkToReplicationGroupAndWait(
          redis,
          RG,
          cluster('westeurope'),
          'default',
          {
            geoReplication: {
              groupNickname: GROUP,
              linkedDatabases: [{ id: dbId('westeurope') }, { id: dbId('eastus') }, { id: dbId('southeastasia') }],
            },
          },
          { ...POLL, onResponse },
        );
        const initial = responses[0];
        assert.equal(initial?.status, 202, 'forceLink answers 202 only');
        assert.ok(initial?.headers.get('azure-asyncoperation'), 'Azure-AsyncOperation');
        assert.equal(new URL(initial?.request.url ?? '').searchParams.get('api-version'), '2026-08-01');
        for (const region of REGIONS) {
          assert.deepEqual(await linkedIds(redis, region), ids(...REGIONS), `${region} lists every member`);
        }
        assert.equal(mutationCount(emulator, dbId('westeurope'), 'forceLinkToReplicationGroup') - linksBefore, 1);
      });

      it('forceLinkToReplicationGroup with the wrong group nickname is a classified 400', async () => {
        await redis.databases.beginForceUnlinkAndWait(
          RG,
          cluster('eastus'),
          'default',
          { ids: [dbId('westeurope')] },
          POLL,
        );
        try {
          const e = await rejected(
            beginForceLinkToReplicationGroupAndWait(
              redis,
              RG,
              cluster('westeurope'),
              'default',
              { geoReplication: { groupNickname: 'not-the-group', linkedDatabases: [{ id: dbId('eastus') }] } },
              POLL,
            ),
          );
          const c = classifyAzureError(e);
          assert.equal(c.retryable, false, JSON.stringify(c));
          assert.ok(c.type === FAILURE_TYPES.azureBadRequest || c.type === FAILURE_TYPES.azureOperationFailed, c.type);
          assert.ok(c.code, 'an ARM error code');
        } finally {
          await beginForceLinkToReplicationGroupAndWait(
            redis,
            RG,
            cluster('westeurope'),
            'default',
            {
              geoReplication: {
                groupNickname: GROUP,
                linkedDatabases: [{ id: dbId('westeurope') }, { id: dbId('eastus') }, { id: dbId('southeastasia') }],
              },
            },
            POLL,
          );
        }
      });

      it('flush through the operation spec (poll to success, final GET on Location)', async () => {
        const flushesBefore = mutationCount(emulator, dbId('eastus'), 'flush');
        const { responses, onResponse } = captureResponses();
        const poller = await beginFlush(
          redis,
          RG,
          cluster('eastus'),
          'default',
          { ids: [dbId('westeurope'), dbId('southeastasia')] },
          { ...POLL, onResponse },
        );
        await poller.pollUntilDone();
        const initial = responses[0];
        assert.ok(initial && [200, 202].includes(initial.status), `initial status ${initial?.status}`);
        if (initial.status === 202) {
          const location = initial.headers.get('location');
          assert.ok(location, 'Location header on the 202');
          const last = responses[responses.length - 1];
          assert.equal(last?.request.url, location, 'the poller finished by reading Location');
          assert.ok(last && [200, 204].includes(last.status), `final Location status ${last?.status}`);
        }
        assert.equal(mutationCount(emulator, dbId('eastus'), 'flush') - flushesBefore, 1);
      });

      it('a throttled forceUnlink POST is re-sent by the SDK and lands exactly once', async () => {
        const before = mutationCount(emulator, dbId('eastus'), 'forceUnlink');
        emulator.faults.throttle({ count: 2, retryAfterSeconds: 0, method: 'POST', operation: 'forceUnlink' });
        await redis.databases.beginForceUnlinkAndWait(
          RG,
          cluster('eastus'),
          'default',
          { ids: [dbId('westeurope')] },
          POLL,
        );
        assert.equal(mutationCount(emulator, dbId('eastus'), 'forceUnlink') - before, 1);
        assert.equal(emulator.faults.list().throttles.length, 0, 'both throttles were consumed');
        await beginForceLinkToReplicationGroupAndWait(
          redis,
          RG,
          cluster('westeurope'),
          'default',
          {
            geoReplication: {
              groupNickname: GROUP,
              linkedDatabases: [{ id: dbId('westeurope') }, { id: dbId('eastus') }, { id: dbId('southeastasia') }],
            },
          },
          POLL,
        );
        assert.deepEqual(await linkedIds(redis, 'eastus'), ids(...REGIONS));
      });

      it('409 on a busy database surfaces as a classified conflict', async () => {
        const before = mutationCount(emulator, dbId('westeurope'), 'forceUnlink');
        emulator.faults.lro({ operation: 'flush', durationMs: 1500 });
        const running = await beginFlush(redis, RG, cluster('westeurope'), 'default', {}, POLL);
        try {
          const e = await rejected(
            redis.databases.beginForceUnlink(RG, cluster('westeurope'), 'default', { ids: [dbId('southeastasia')] }),
          );
          const c = classifyAzureError(e);
          assert.equal(c.type, FAILURE_TYPES.azureConflict);
          assert.equal(c.statusCode, 409);
          assert.equal(c.retryable, true);
          assert.ok(c.code, 'an ARM error code');
          assert.equal(
            mutationCount(emulator, dbId('westeurope'), 'forceUnlink'),
            before,
            'the refused call is not counted',
          );
        } finally {
          await running.pollUntilDone();
        }
      });

      it('503 during a region outage, while other regions answer', async () => {
        const noRetry = clientsFor(emulator, apiVersion, { retryOptions: { maxRetries: 0 } }).redis;
        await emulator.faults.outage('southeastasia');
        const e = await rejected(noRetry.databases.get(RG, cluster('southeastasia'), 'default'));
        const c = classifyAzureError(e);
        assert.equal(c.statusCode, 503);
        assert.equal(c.type, FAILURE_TYPES.azureTransient);
        assert.equal(c.retryable, true);
        const clusterError = classifyAzureError(
          await rejected(noRetry.redisEnterprise.get(RG, cluster('southeastasia'))),
        );
        assert.equal(clusterError.statusCode, 503);
        const survivor = await noRetry.databases.get(RG, cluster('westeurope'), 'default');
        assert.equal(survivor.provisioningState, 'Succeeded');
      });
    });
  }

  describe('Traffic Manager (api-version 2022-04-01)', () => {
    let emulator: Emulator;
    let clients: ArmClients;

    before(async () => {
      emulator = await startTestEmulator({ scenario: withAccessKeys() });
      clients = clientsFor(emulator, null);
    });
    after(async () => {
      await emulator?.close();
    });
    afterEach(async () => {
      await emulator.faults.reset();
    });

    it('profile get', async () => {
      const { responses, onResponse } = captureResponses();
      const p = await clients.trafficManager.profiles.get(RG, PROFILE, { onResponse });
      assert.equal(new URL(responses[0]?.request.url ?? '').searchParams.get('api-version'), '2022-04-01');
      assert.equal(p.name, PROFILE);
      assert.equal(p.type, 'Microsoft.Network/trafficManagerProfiles');
      assert.equal(p.location, 'global');
      assert.equal(p.trafficRoutingMethod, 'Priority');
      assert.equal(p.dnsConfig?.ttl, 30);
      assert.equal(p.profileStatus, 'Enabled');
      assert.deepEqual(
        (p.endpoints ?? []).map((e) => [e.name, e.type, e.priority, e.endpointStatus]),
        REGIONS.map((r, i) => [r, 'Microsoft.Network/trafficManagerProfiles/externalEndpoints', i + 1, 'Enabled']),
      );
    });

    it('endpoint get', async () => {
      const e = await clients.trafficManager.endpoints.get(RG, PROFILE, 'ExternalEndpoints', 'eastus');
      assert.equal(e.name, 'eastus');
      assert.equal(
        e.id,
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/${PROFILE}/externalEndpoints/eastus`,
      );
      assert.equal(e.endpointStatus, 'Enabled');
      assert.equal(e.priority, 1);
      assert.ok(e.target, 'target');
    });

    it('endpoint update: disable, then enable', async () => {
      const disabled = await clients.trafficManager.endpoints.update(RG, PROFILE, 'ExternalEndpoints', 'eastus', {
        endpointStatus: 'Disabled',
      });
      assert.equal(disabled.endpointStatus, 'Disabled');
      assert.equal(disabled.endpointMonitorStatus, 'Disabled');
      assert.equal(disabled.priority, 1, 'PATCH merges: other properties are kept');
      assert.ok(disabled.target, 'PATCH merges: target kept');
      const read = await clients.trafficManager.endpoints.get(RG, PROFILE, 'ExternalEndpoints', 'eastus');
      assert.equal(read.endpointStatus, 'Disabled');

      const enabled = await clients.trafficManager.endpoints.update(RG, PROFILE, 'ExternalEndpoints', 'eastus', {
        endpointStatus: 'Enabled',
      });
      assert.equal(enabled.endpointStatus, 'Enabled');
      assert.ok(
        ['CheckingEndpoint', 'Online'].includes(enabled.endpointMonitorStatus ?? ''),
        `monitor status ${String(enabled.endpointMonitorStatus)}`,
      );
      const endpointId = read.id ?? '';
      assert.equal(mutationCount(emulator, endpointId, 'updateEndpoint'), 2);
    });

    it('endpoint createOrUpdate: 201 on create, 200 on replace', async () => {
      const { responses, onResponse } = captureResponses();
      const body = {
        target: 'drill.example.net',
        endpointStatus: 'Enabled' as const,
        priority: 10,
        endpointLocation: 'eastus',
      };
      const created = await clients.trafficManager.endpoints.createOrUpdate(
        RG,
        PROFILE,
        'ExternalEndpoints',
        'drill',
        body,
        {
          onResponse,
        },
      );
      assert.equal(responses[0]?.status, 201);
      assert.equal(created.name, 'drill');
      assert.equal(created.target, 'drill.example.net');
      const replaced = await clients.trafficManager.endpoints.createOrUpdate(
        RG,
        PROFILE,
        'ExternalEndpoints',
        'drill',
        { ...body, target: 'drill2.example.net' },
        { onResponse },
      );
      assert.equal(responses[1]?.status, 200);
      assert.equal(replaced.target, 'drill2.example.net');
      await clients.trafficManager.endpoints.delete(RG, PROFILE, 'ExternalEndpoints', 'drill');
    });

    it('a 429 storm smaller than the retry budget is retried transparently; the call lands once', async () => {
      const endpointId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/${PROFILE}/externalEndpoints/westeurope`;
      const before = mutationCount(emulator, endpointId, 'updateEndpoint');
      emulator.faults.throttle({ count: 2, retryAfterSeconds: 1, operation: 'updateEndpoint' });
      const { responses, onResponse } = captureResponses();
      const started = Date.now();
      const updated = await clients.trafficManager.endpoints.update(
        RG,
        PROFILE,
        'ExternalEndpoints',
        'westeurope',
        { endpointStatus: 'Enabled' },
        { onResponse },
      );
      assert.equal(updated.endpointStatus, 'Enabled');
      assert.equal(responses.length, 1, 'the caller sees one response');
      assert.ok(Date.now() - started >= 1900, 'Retry-After was honoured twice');
      assert.equal(mutationCount(emulator, endpointId, 'updateEndpoint') - before, 1);
    });

    it('a 429 storm larger than the retry budget surfaces as classified throttling', async () => {
      emulator.faults.throttle({ count: 10, retryAfterSeconds: 0, operation: 'getProfile' });
      const e = await rejected(clients.trafficManager.profiles.get(RG, PROFILE));
      const c = classifyAzureError(e);
      assert.equal(c.type, FAILURE_TYPES.azureThrottled);
      assert.equal(c.statusCode, 429);
      assert.equal(c.retryable, true);
      assert.equal(c.retryAfterMs, 0);
      assert.ok(c.code, 'an ARM error code');
      const left = emulator.faults.list().throttles.reduce((n, t) => n + t.remaining, 0);
      assert.equal(left, 10 - 4, 'one request and three SDK retries were throttled');
    });
  });
});
