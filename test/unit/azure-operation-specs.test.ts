import assert from 'node:assert/strict';
import { createArmClients, DEFAULT_REDIS_API_VERSION } from '../../src/azure/clients';
import { classifyAzureError } from '../../src/azure/errors';
import {
  beginFlush,
  beginFlushAndWait,
  beginForceLinkToReplicationGroup,
  beginForceLinkToReplicationGroupAndWait,
} from '../../src/azure/operation-specs';
import { FAILURE_TYPES } from '../../src/contract/failures';
import { FakeHttpClient, type FakeReply, type RecordedRequest } from '../helpers/azure-fake-http';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const HOST = 'https://127.0.0.1:9';
const DB_PATH = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-westeurope/databases/default`;
const idOf = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;

function statusUrl(op: string, apiVersion: string): string {
  return `${HOST}/subscriptions/${SUB}/providers/Microsoft.Cache/locations/westeurope/operationsStatus/${op}?api-version=${apiVersion}`;
}

function pathAndQuery(r: RecordedRequest): { path: string; apiVersion: string | null } {
  const url = new URL(r.url);
  return { path: url.pathname, apiVersion: url.searchParams.get('api-version') };
}

function clients(http: FakeHttpClient, redisApiVersion?: string | null): ReturnType<typeof createArmClients> {
  return createArmClients({
    subscriptionId: SUB,
    endpoint: HOST,
    httpClient: http,
    retryOptions: { maxRetries: 0 },
    ...(redisApiVersion !== undefined ? { redisApiVersion } : {}),
  });
}

const FORCE_LINK_BODY = {
  geoReplication: {
    groupNickname: 'leaderboard',
    linkedDatabases: [{ id: idOf('eastus') }, { id: idOf('westeurope') }, { id: idOf('southeastasia') }],
  },
};

describe('azure operation specs (forceLinkToReplicationGroup, flush)', () => {
  it('forceLink: POSTs the body to the database, follows Azure-AsyncOperation until Succeeded, no final GET', async () => {
    const api = DEFAULT_REDIS_API_VERSION;
    const http = new FakeHttpClient().enqueue(
      { status: 202, headers: { 'Azure-AsyncOperation': statusUrl('op1', api), Location: `${HOST}/loc?x=1` } },
      { status: 200, body: { id: 'op1', name: 'op1', status: 'InProgress' } },
      { status: 200, body: { id: 'op1', name: 'op1', status: 'Succeeded' } },
    );
    const { redis } = clients(http);
    await beginForceLinkToReplicationGroupAndWait(
      redis,
      RG,
      'redis-leaderboard-westeurope',
      'default',
      FORCE_LINK_BODY,
      { updateIntervalInMs: 1 },
    );
    assert.equal(http.requests.length, 3);
    const [post, poll1, poll2] = http.requests as [RecordedRequest, RecordedRequest, RecordedRequest];
    assert.equal(post.method, 'POST');
    assert.deepEqual(pathAndQuery(post), { path: `${DB_PATH}/forceLinkToReplicationGroup`, apiVersion: api });
    assert.deepEqual(post.body, FORCE_LINK_BODY);
    assert.match(post.headers['content-type'] ?? '', /^application\/json/);
    assert.match(post.headers['authorization'] ?? '', /^Bearer [\w-]+\.[\w-]+\.$/);
    assert.match(post.headers['user-agent'] ?? '', /azsdk-js-arm-redisenterprisecache\/2\.2\.0/);
    for (const poll of [poll1, poll2]) {
      assert.equal(poll.method, 'GET');
      assert.equal(poll.url, statusUrl('op1', api));
    }
  });

  it('the static credential sends a JWT whose audience is ARM (management.azure.com, also for the emulator)', async () => {
    const http = new FakeHttpClient().enqueue(
      { status: 202, headers: { 'Azure-AsyncOperation': statusUrl('a', '2026-08-01') } },
      { status: 200, body: { id: 'a', status: 'Succeeded' } },
    );
    await beginForceLinkToReplicationGroupAndWait(
      clients(http).redis,
      RG,
      'redis-leaderboard-westeurope',
      'default',
      FORCE_LINK_BODY,
      { updateIntervalInMs: 1 },
    );
    const token = (http.requests[0]?.headers['authorization'] ?? '').replace(/^Bearer /, '');
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      aud: string;
      exp: number;
    };
    assert.equal(payload.aud, 'https://management.azure.com'); // a loopback endpoint stands for the public cloud
    assert.ok(payload.exp * 1000 > Date.now());
  });

  it('api-version: 2026-08-01 for an SDK-default client, the pinned version otherwise', async () => {
    const seen: (string | null)[] = [];
    for (const pinned of [null, '2026-08-01', '2024-10-01']) {
      const http = new FakeHttpClient().enqueue({ status: 200 });
      await beginForceLinkToReplicationGroupAndWait(
        clients(http, pinned).redis,
        RG,
        'redis-leaderboard-westeurope',
        'default',
        FORCE_LINK_BODY,
      );
      seen.push(pathAndQuery(http.requests[0] as RecordedRequest).apiVersion);
    }
    assert.deepEqual(seen, ['2026-08-01', '2026-08-01', '2024-10-01']);
  });

  it('forceLink: a Failed status rejects with the core-lro message, classified as a non-retryable operation failure', async () => {
    const http = new FakeHttpClient().enqueue(
      { status: 202, headers: { 'Azure-AsyncOperation': statusUrl('op2', '2026-08-01') } },
      {
        status: 200,
        body: { id: 'op2', status: 'Failed', error: { code: 'InvalidGroupNickname', message: 'No such group.' } },
      },
    );
    const error = await beginForceLinkToReplicationGroupAndWait(
      clients(http).redis,
      RG,
      'redis-leaderboard-westeurope',
      'default',
      FORCE_LINK_BODY,
      { updateIntervalInMs: 1 },
    ).then(
      () => assert.fail('expected the operation to fail'),
      (e: unknown) => e,
    );
    assert.equal(
      (error as Error).message,
      'The long-running operation has failed. InvalidGroupNickname. No such group.',
    );
    assert.deepEqual(classifyAzureError(error), {
      type: FAILURE_TYPES.azureOperationFailed,
      retryable: false,
      code: 'InvalidGroupNickname',
      message: 'No such group.',
    });
  });

  it('flush: after Succeeded the poller GETs the Location URL (final-state-via location)', async () => {
    const location = `${HOST}/subscriptions/${SUB}/providers/Microsoft.Cache/locations/westeurope/operationResults/op3?api-version=2026-08-01`;
    const replies: FakeReply[] = [
      {
        status: 202,
        headers: { 'Azure-AsyncOperation': statusUrl('op3', '2026-08-01'), Location: location, 'Retry-After': '0' },
      },
      { status: 200, body: { id: 'op3', status: 'Succeeded' } },
      { status: 200 },
    ];
    const http = new FakeHttpClient().enqueue(...replies);
    const poller = await beginFlush(
      clients(http).redis,
      RG,
      'redis-leaderboard-westeurope',
      'default',
      { ids: [idOf('eastus')] },
      { updateIntervalInMs: 1 },
    );
    assert.equal(await poller.pollUntilDone(), undefined);
    assert.deepEqual(
      http.requests.map((r) => [r.method, r.url.replace(HOST, '')]),
      [
        ['POST', `${DB_PATH}/flush?api-version=2026-08-01`],
        ['GET', statusUrl('op3', '2026-08-01').replace(HOST, '')],
        ['GET', location.replace(HOST, '')],
      ],
    );
    assert.deepEqual(http.requests[0]?.body, { ids: [idOf('eastus')] });
  });

  it('flush: a synchronous 200 finishes without polling; no body sends {}', async () => {
    const http = new FakeHttpClient().enqueue({ status: 200 });
    await beginFlushAndWait(clients(http).redis, RG, 'redis-leaderboard-westeurope', 'default');
    assert.equal(http.requests.length, 1);
    assert.deepEqual(http.requests[0]?.body, {});
  });

  it('the initial request surfaces ARM errors as RestError', async () => {
    const http = new FakeHttpClient().enqueue({
      status: 400,
      body: { error: { code: 'InvalidRequestContent', message: 'geoReplication is required.' } },
    });
    const error = await beginForceLinkToReplicationGroup(
      clients(http).redis,
      RG,
      'redis-leaderboard-westeurope',
      'default',
      { geoReplication: {} },
    ).then(
      () => assert.fail('expected a 400'),
      (e: unknown) => e,
    );
    const c = classifyAzureError(error);
    assert.equal(c.type, FAILURE_TYPES.azureBadRequest);
    assert.equal(c.code, 'InvalidRequestContent');
    assert.equal(c.message, 'geoReplication is required.');
  });

  it('a serialized poller resumes on the same status URL', async () => {
    const http = new FakeHttpClient().enqueue(
      { status: 202, headers: { 'Azure-AsyncOperation': statusUrl('op4', '2026-08-01') } },
      { status: 200, body: { id: 'op4', status: 'InProgress' } },
    );
    const { redis } = clients(http);
    const first = await beginForceLinkToReplicationGroup(
      redis,
      RG,
      'redis-leaderboard-westeurope',
      'default',
      FORCE_LINK_BODY,
    );
    const saved = first.toString();
    http.enqueue({ status: 200, body: { id: 'op4', status: 'Succeeded' } });
    await beginForceLinkToReplicationGroupAndWait(
      redis,
      RG,
      'redis-leaderboard-westeurope',
      'default',
      FORCE_LINK_BODY,
      {
        resumeFrom: saved,
        updateIntervalInMs: 1,
      },
    );
    assert.deepEqual(
      http.requests.map((r) => r.method),
      ['POST', 'GET', 'GET'],
    );
    assert.equal(http.requests[2]?.url, statusUrl('op4', '2026-08-01'));
  });
});

describe('createArmClients', () => {
  it('refuses plain-http endpoints and empty subscriptions', () => {
    assert.throws(() => createArmClients({ subscriptionId: SUB, endpoint: 'http://127.0.0.1:1' }), /must be https/);
    assert.throws(() => createArmClients({ subscriptionId: '' }), /subscriptionId is required/);
  });

  it('defaults: public ARM, api-version 2026-08-01; null keeps the SDK default 2022-01-01', () => {
    const real = createArmClients({ subscriptionId: SUB, credential: { getToken: async () => null } });
    assert.equal(real.endpoint, 'https://management.azure.com');
    assert.equal(real.redisApiVersion, '2026-08-01');
    assert.equal(
      createArmClients({ subscriptionId: SUB, endpoint: HOST, redisApiVersion: null }).redisApiVersion,
      '2022-01-01',
    );
  });
});
