import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisEnterpriseManagementClient } from '@azure/arm-redisenterprisecache';
import { createClient } from 'redis';
import { createClientSecretCredential } from '../../src/azure/credentials';
import { ARM_AUDIENCE, type Emulator, type EmulatorState, type TokenIssuer } from '../../src/emulator';
import type { ReadyLine } from '../../src/emulator/main';
import { parseScenario, ScenarioError } from '../../src/emulator/scenario';
import { emulatorCredential, redisEntraAuth, startTestEmulator } from '../helpers/emulator';

/*
 * Emulator semantics over the wire: plain HTTPS (trusting the emulator's CA) for exact status codes,
 * headers and bodies, the official SDK for a few calls, the control API over HTTP, and the CLI as a
 * spawned process. The exhaustive SDK fidelity suite lives in azure-sdk-fidelity.test.ts.
 */

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const GROUP = 'leaderboard';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
type Region = (typeof REGIONS)[number];
const REDIS = '2026-08-01';
const TM = '2022-04-01';
const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');

const cluster = (r: Region): string => `redis-leaderboard-${r}`;
const clusterPath = (r: Region): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/${cluster(r)}`;
const dbId = (r: Region): string => `${clusterPath(r)}/databases/default`;
const profilePath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficmanagerprofiles/tm-leaderboard`;

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: any;
}

/** One HTTPS request to the emulator, trusting its CA; `body` is sent as is when it is a string. */
function call(
  emu: { arm: string; caPem: string; issuer?: TokenIssuer; token?: string },
  method: string,
  pathOrUrl: string,
  body?: unknown,
  // a token of the emulator's tenant for ARM (minted in-process, or one a credential obtained)
  headers: Record<string, string> = { Authorization: `Bearer ${emu.token ?? emu.issuer?.mint(ARM_AUDIENCE) ?? ''}` },
): Promise<Reply> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = https.request(
      new URL(pathOrUrl, emu.arm),
      {
        method,
        ca: emu.caPem,
        agent: false,
        headers: { ...headers, ...(payload === undefined ? {} : { 'Content-Type': 'application/json' }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const out: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') out[k] = v;
          resolve({ status: res.statusCode ?? 0, headers: out, body: text ? JSON.parse(text) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

async function control(emu: { control: string }, method: string, route: string, body?: unknown): Promise<Reply> {
  const res = await fetch(`${emu.control}${route}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: {}, body: text ? JSON.parse(text) : undefined };
}

async function waitForOperation(emu: Emulator, statusUrl: string): Promise<Reply> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const r = await call(emu, 'GET', statusUrl);
    assert.equal(r.status, 200, `status poll answered ${r.status}`);
    if (r.body.status !== 'InProgress') return r;
    assert.ok(Date.now() < deadline, 'operation still InProgress after 10 s');
    await sleep(25);
  }
}

const linked = async (emu: Emulator, r: Region): Promise<string[]> => {
  const res = await call(emu, 'GET', `${dbId(r)}?api-version=${REDIS}`);
  return (res.body.properties.geoReplication?.linkedDatabases ?? []).map((l: { id: string }) => l.id).sort();
};
const ids = (...rs: Region[]): string[] => rs.map(dbId).sort();

function countOf(emu: Emulator, resourceId: string, operation: string): number {
  return emu
    .counters()
    .filter((c) => c.resourceId.toLowerCase() === resourceId.toLowerCase() && c.operation === operation)
    .reduce((n, c) => n + c.count, 0);
}

function usedMemory(state: EmulatorState, r: Region): number {
  const db = state.databases.find((d) => d.id === dbId(r));
  assert.ok(db?.memory, `memory sample for ${r}`);
  return db.memory.usedBytes;
}

/** A node-redis client on the database as ARM reports it: cluster hostName + database port, TLS, Entra ID. */
async function redisOf(emu: Emulator, r: Region): Promise<ReturnType<typeof createClient>> {
  const [c, d, auth] = await Promise.all([
    call(emu, 'GET', `${clusterPath(r)}?api-version=${REDIS}`),
    call(emu, 'GET', `${dbId(r)}?api-version=${REDIS}`),
    redisEntraAuth(emu),
  ]);
  const client = createClient({
    socket: {
      host: c.body.properties.hostName,
      port: d.body.properties.port,
      tls: true,
      ca: emu.caPem,
      reconnectStrategy: false,
    },
    ...auth,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

async function forceLinkBack(emu: Emulator, r: Region): Promise<void> {
  const res = await call(emu, 'POST', `${dbId(r)}/forceLinkToReplicationGroup?api-version=${REDIS}`, {
    geoReplication: { groupNickname: GROUP, linkedDatabases: REGIONS.map((x) => ({ id: dbId(x) })) },
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const done = await waitForOperation(emu, res.headers['azure-asyncoperation'] as string);
  assert.equal(done.body.status, 'Succeeded', JSON.stringify(done.body));
}

function sdk(emu: Emulator): RedisEnterpriseManagementClient {
  return new RedisEnterpriseManagementClient(emulatorCredential(emu), SUB, {
    credentialScopes: `${ARM_AUDIENCE}/.default`,
    endpoint: emu.arm,
    apiVersion: REDIS,
    tlsOptions: { ca: emu.caPem },
    retryOptions: { maxRetries: 0 },
  });
}

describe('ARM emulator', function () {
  this.timeout(30_000);
  let emu: Emulator;

  before(async () => {
    emu = await startTestEmulator();
  });
  after(async () => {
    await emu?.close();
  });
  afterEach(async () => {
    await emu.faults.reset();
  });

  describe('request pipeline', () => {
    it('requires a bearer token: 401 AuthenticationFailed, with ARM request ids', async () => {
      const variants: Record<string, string>[] = [{}, { Authorization: 'Bearer ' }, { Authorization: 'Basic abc' }];
      for (const headers of variants) {
        const r = await call(emu, 'GET', `${clusterPath('eastus')}?api-version=${REDIS}`, undefined, headers);
        assert.equal(r.status, 401);
        assert.equal(r.body.error.code, 'AuthenticationFailed');
        assert.ok(r.body.error.message);
        assert.ok(r.headers['x-ms-request-id'], 'x-ms-request-id');
        assert.ok(r.headers['x-ms-correlation-request-id'], 'x-ms-correlation-request-id');
      }
    });

    it('accepts both Redis api-versions and refuses others with 400 InvalidApiVersionParameter', async () => {
      for (const v of ['2022-01-01', '2026-08-01']) {
        assert.equal((await call(emu, 'GET', `${dbId('eastus')}?api-version=${v}`)).status, 200);
      }
      const bad = await call(emu, 'GET', `${dbId('eastus')}?api-version=2023-07-01`);
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'InvalidApiVersionParameter');
      const tm = await call(emu, 'GET', `${profilePath}?api-version=${REDIS}`);
      assert.equal(tm.status, 400);
      assert.equal(tm.body.error.code, 'InvalidApiVersionParameter');
      const newer = await call(emu, 'POST', `${dbId('eastus')}/flush?api-version=2022-01-01`, {});
      assert.equal(newer.status, 400, 'flush does not exist in 2022-01-01');
      assert.equal(newer.body.error.code, 'InvalidApiVersionParameter');
      const missing = await call(emu, 'GET', dbId('eastus'));
      assert.equal(missing.status, 400);
      assert.equal(missing.body.error.code, 'MissingApiVersionParameter');
    });

    it('answers malformed JSON, wrong body types and unparsable ids with 400', async () => {
      const url = `${dbId('westeurope')}/forceUnlink?api-version=${REDIS}`;
      const malformed = await call(emu, 'POST', url, '{"ids": [');
      assert.equal(malformed.status, 400);
      assert.equal(malformed.body.error.code, 'InvalidRequestContent');
      const wrongType = await call(emu, 'POST', url, { ids: 'not-a-list' });
      assert.equal(wrongType.status, 400);
      assert.equal(wrongType.body.error.code, 'InvalidRequestContent');
      assert.match(wrongType.body.error.message, /ids/);
      const noBody = await call(emu, 'POST', url);
      assert.equal(noBody.status, 400);
      assert.equal(noBody.body.error.code, 'InvalidRequestContent');
      const badId = await call(emu, 'POST', url, { ids: ['/subscriptions/x/not-a-database'] });
      assert.equal(badId.status, 400);
      assert.match(badId.body.error.message, /not-a-database/);
      const badName = await call(emu, 'GET', `${clusterPath('eastus')}/databases/bad_name?api-version=${REDIS}`);
      assert.equal(badName.status, 400);
      assert.equal(countOf(emu, dbId('westeurope'), 'forceUnlink'), 0, 'refused calls are not counted');
    });

    it('answers 404 in ARM shape: ResourceNotFound, ParentResourceNotFound, unknown route', async () => {
      const noCluster = await call(emu, 'GET', `${clusterPath('eastus')}-nope?api-version=${REDIS}`);
      assert.equal(noCluster.status, 404);
      assert.equal(noCluster.body.error.code, 'ResourceNotFound');
      assert.match(noCluster.body.error.message, /Microsoft\.Cache\/redisEnterprise\/redis-leaderboard-eastus-nope/);
      assert.match(noCluster.body.error.message, new RegExp(`resource group '${RG}'`));

      const noParent = await call(emu, 'GET', `${clusterPath('eastus')}-nope/databases/default?api-version=${REDIS}`);
      assert.equal(noParent.status, 404);
      assert.equal(noParent.body.error.code, 'ParentResourceNotFound');

      const noEndpoint = await call(emu, 'GET', `${profilePath}/ExternalEndpoints/nowhere?api-version=${TM}`);
      assert.equal(noEndpoint.status, 404);
      assert.equal(noEndpoint.body.error.code, 'ResourceNotFound');
      assert.match(noEndpoint.body.error.message, /trafficManagerProfiles\/tm-leaderboard\/externalEndpoints\/nowhere/);

      const noRoute = await call(emu, 'GET', `/subscriptions/${SUB}/whatever?api-version=${REDIS}`);
      assert.equal(noRoute.status, 404);
      assert.ok(noRoute.body.error.code && noRoute.body.error.message);
      assert.ok(noRoute.headers['x-ms-request-id']);
    });

    it('reports hostName and port so that the database is reachable where ARM says', async () => {
      const client = await redisOf(emu, 'eastus');
      try {
        assert.equal(await client.ping(), 'PONG');
      } finally {
        client.destroy();
      }
    });
  });

  describe('long-running operations', () => {
    it('flush: 202 with Azure-AsyncOperation, Location, Retry-After; status InProgress → Succeeded; provisioningState follows', async () => {
      const r = await call(emu, 'POST', `${dbId('eastus')}/flush?api-version=${REDIS}`, {});
      assert.equal(r.status, 202);
      const statusUrl = r.headers['azure-asyncoperation'] as string;
      const location = r.headers.location as string;
      assert.match(
        statusUrl,
        /\/providers\/Microsoft\.Cache\/locations\/eastus\/operationsStatus\/[^/?]+\?api-version=2026-08-01$/,
      );
      assert.match(location, /\/operationResults\//);
      assert.equal(r.headers['retry-after'], '0');

      const first = await call(emu, 'GET', statusUrl);
      assert.equal(first.status, 200);
      assert.equal(first.body.status, 'InProgress');
      assert.ok(first.body.id && first.body.name && first.body.startTime);
      const busy = await call(emu, 'GET', `${dbId('eastus')}?api-version=${REDIS}`);
      assert.equal(busy.body.properties.provisioningState, 'Updating');
      assert.equal(busy.body.properties.resourceState, 'Updating');
      assert.equal((await call(emu, 'GET', location)).status, 202, 'Location answers 202 while running');

      const done = await waitForOperation(emu, statusUrl);
      assert.equal(done.body.status, 'Succeeded');
      assert.ok(done.body.endTime, 'endTime');
      const after = await call(emu, 'GET', `${dbId('eastus')}?api-version=${REDIS}`);
      assert.equal(after.body.properties.provisioningState, 'Succeeded');
      assert.equal(after.body.properties.resourceState, 'Running');
      assert.ok([200, 204].includes((await call(emu, 'GET', location)).status), 'Location answers when done');
      assert.equal(countOf(emu, dbId('eastus'), 'flush'), 1);
    });

    it('a second mutation on a busy database answers 409 Conflict', async () => {
      emu.faults.lro({ operation: 'flush', resource: 'westeurope', durationMs: 600 });
      const first = await call(emu, 'POST', `${dbId('westeurope')}/flush?api-version=${REDIS}`, {});
      assert.equal(first.status, 202);
      const second = await call(emu, 'POST', `${dbId('westeurope')}/forceUnlink?api-version=${REDIS}`, {
        ids: [dbId('southeastasia')],
      });
      assert.equal(second.status, 409);
      assert.equal(second.body.error.code, 'Conflict');
      assert.equal(countOf(emu, dbId('westeurope'), 'forceUnlink'), 0);
      await waitForOperation(emu, first.headers['azure-asyncoperation'] as string);
      assert.deepEqual(await linked(emu, 'eastus'), ids(...REGIONS), 'the refused unlink changed nothing');
    });

    it('an injected LRO failure ends Failed with a flat error and applies nothing', async () => {
      emu.faults.lro({ operation: 'forceUnlink', fail: { code: 'UnlinkFailed', message: 'injected' } });
      const r = await call(emu, 'POST', `${dbId('eastus')}/forceUnlink?api-version=${REDIS}`, {
        ids: [dbId('southeastasia')],
      });
      assert.equal(r.status, 202);
      const done = await waitForOperation(emu, r.headers['azure-asyncoperation'] as string);
      assert.equal(done.body.status, 'Failed');
      assert.deepEqual(done.body.error, { code: 'UnlinkFailed', message: 'injected' });
      assert.deepEqual(await linked(emu, 'eastus'), ids(...REGIONS));
      assert.deepEqual(await linked(emu, 'westeurope'), ids(...REGIONS));
    });
  });

  describe('geo-replication', () => {
    it('forceUnlink on a survivor removes the member from every survivor; the member keeps its view and data', async () => {
      const member = await redisOf(emu, 'southeastasia');
      try {
        await member.set('leader', 'alice');
        await sdk(emu).databases.beginForceUnlinkAndWait(
          RG,
          cluster('westeurope'),
          'default',
          { ids: [dbId('southeastasia')] },
          { updateIntervalInMs: 20 },
        );
        assert.deepEqual(await linked(emu, 'westeurope'), ids('eastus', 'westeurope'));
        assert.deepEqual(await linked(emu, 'eastus'), ids('eastus', 'westeurope'));
        assert.deepEqual(await linked(emu, 'southeastasia'), ids(...REGIONS), 'stale view');
        assert.equal(await member.get('leader'), 'alice', 'the unlinked member keeps its data');
        assert.equal(countOf(emu, dbId('westeurope'), 'forceUnlink'), 1);
        const again = await call(emu, 'POST', `${dbId('eastus')}/forceUnlink?api-version=${REDIS}`, {
          ids: [dbId('southeastasia')],
        });
        assert.equal(again.status, 400, 'no survivor lists it any more');
      } finally {
        member.destroy();
      }
    });

    it('forceLinkToReplicationGroup refuses a wrong nickname or ids, then rejoins and flushes the member', async () => {
      const url = `${dbId('southeastasia')}/forceLinkToReplicationGroup?api-version=${REDIS}`;
      const wrongName = await call(emu, 'POST', url, {
        geoReplication: { groupNickname: 'other', linkedDatabases: [{ id: dbId('eastus') }] },
      });
      assert.equal(wrongName.status, 400);
      const partial = await call(emu, 'POST', url, {
        geoReplication: {
          groupNickname: GROUP,
          linkedDatabases: [{ id: dbId('southeastasia') }, { id: dbId('eastus') }],
        },
      });
      assert.equal(partial.status, 400, 'westeurope is a reachable member and must be listed');
      assert.match(partial.body.error.message, /westeurope/);

      const member = await redisOf(emu, 'southeastasia');
      try {
        assert.equal(await member.get('leader'), 'alice');
        await forceLinkBack(emu, 'southeastasia');
        for (const r of REGIONS) assert.deepEqual(await linked(emu, r), ids(...REGIONS), `${r} lists every member`);
        assert.equal(await member.get('leader'), null, 'force-link discards the rejoining database’s data');
        assert.equal(countOf(emu, dbId('southeastasia'), 'forceLinkToReplicationGroup'), 1);
      } finally {
        member.destroy();
      }
    });

    it('delete removes the database from every member; create with geoReplication rejoins it (Linking → Linked)', async () => {
      const del = await call(emu, 'DELETE', `${dbId('southeastasia')}?api-version=${REDIS}`);
      assert.equal(del.status, 202);
      const deleting = await call(emu, 'GET', `${dbId('southeastasia')}?api-version=${REDIS}`);
      assert.equal(deleting.body.properties.provisioningState, 'Deleting');
      await waitForOperation(emu, del.headers['azure-asyncoperation'] as string);
      assert.equal((await call(emu, 'GET', `${dbId('southeastasia')}?api-version=${REDIS}`)).status, 404);
      assert.deepEqual(await linked(emu, 'eastus'), ids('eastus', 'westeurope'));

      const put = await call(emu, 'PUT', `${dbId('southeastasia')}?api-version=2022-01-01`, {
        properties: {
          clientProtocol: 'Encrypted',
          clusteringPolicy: 'EnterpriseCluster',
          evictionPolicy: 'NoEviction',
          geoReplication: { groupNickname: GROUP, linkedDatabases: REGIONS.map((r) => ({ id: dbId(r) })) },
        },
      });
      assert.equal(put.status, 201, JSON.stringify(put.body));
      assert.equal(put.body.properties.provisioningState, 'Creating');
      assert.ok(put.headers['azure-asyncoperation'] && put.headers['retry-after'] !== undefined);
      assert.deepEqual(
        put.body.properties.geoReplication.linkedDatabases.map((l: { state: string }) => l.state),
        ['Linking', 'Linking', 'Linking'],
      );
      await waitForOperation(emu, put.headers['azure-asyncoperation'] as string);
      for (const r of REGIONS) assert.deepEqual(await linked(emu, r), ids(...REGIONS));
      const created = await call(emu, 'GET', `${dbId('southeastasia')}?api-version=${REDIS}`);
      assert.equal(created.body.properties.provisioningState, 'Succeeded');
      assert.equal(countOf(emu, dbId('southeastasia'), 'delete'), 1);
      assert.equal(countOf(emu, dbId('southeastasia'), 'create'), 1);
      const client = await redisOf(emu, 'southeastasia');
      client.destroy();
    });
  });

  describe('faults', () => {
    it('region outage: 503 for the region, build-up on survivors, force-unlink makes their memory fall', async () => {
      await emu.faults.outage('eastus');
      for (const url of [`${clusterPath('eastus')}?api-version=${REDIS}`, `${dbId('eastus')}?api-version=${REDIS}`]) {
        const r = await call(emu, 'GET', url);
        assert.equal(r.status, 503);
        assert.deepEqual(r.body, {
          error: { code: 'ServiceUnavailable', message: 'Region eastus is unavailable (emulated outage)' },
        });
      }
      const status = await call(
        emu,
        'GET',
        `/subscriptions/${SUB}/providers/Microsoft.Cache/locations/eastus/operationsStatus/x?api-version=${REDIS}`,
      );
      assert.equal(status.status, 503);
      assert.equal((await call(emu, 'GET', `${dbId('westeurope')}?api-version=${REDIS}`)).status, 200);
      assert.equal(
        (await call(emu, 'GET', `${profilePath}?api-version=${TM}`)).status,
        200,
        'Traffic Manager is global',
      );

      const start = await emu.freshState();
      assert.deepEqual(start.regionsInOutage, ['eastus']);
      const eastus = start.databases.find((d) => d.id === dbId('eastus'));
      assert.equal(eastus?.running, false, 'the region’s redis-server stopped');
      const survivorView = start.databases.find((d) => d.id === dbId('westeurope'));
      assert.deepEqual(
        survivorView?.linkedDatabases.map((l) => [l.id, l.state, l.inOutage]),
        [
          [dbId('eastus'), 'Linked', true],
          [dbId('westeurope'), 'Linked', false],
          [dbId('southeastasia'), 'Linked', false],
        ],
      );

      await sleep(700);
      const grown = await emu.freshState();
      for (const r of ['westeurope', 'southeastasia'] as const) {
        assert.ok(
          usedMemory(grown, r) - usedMemory(start, r) > 512 * 1024,
          `${r} grew from ${usedMemory(start, r)} to ${usedMemory(grown, r)}`,
        );
        assert.ok(grown.databases.find((d) => d.id === dbId(r))?.accruingMetadata);
      }

      await sdk(emu).databases.beginForceUnlinkAndWait(
        RG,
        cluster('westeurope'),
        'default',
        { ids: [dbId('eastus')] },
        { updateIntervalInMs: 20 },
      );
      const fallen = await emu.freshState();
      for (const r of ['westeurope', 'southeastasia'] as const) {
        assert.ok(
          usedMemory(grown, r) - usedMemory(fallen, r) > 512 * 1024,
          `${r} fell from ${usedMemory(grown, r)} to ${usedMemory(fallen, r)}`,
        );
      }
      await sleep(300);
      const later = await emu.freshState();
      assert.ok(usedMemory(later, 'westeurope') - usedMemory(fallen, 'westeurope') < 256 * 1024, 'no more build-up');

      await emu.faults.restore('eastus');
      assert.deepEqual(await linked(emu, 'eastus'), ids(...REGIONS), 'the restored member keeps its stale view');
      await forceLinkBack(emu, 'eastus');
      for (const r of REGIONS) assert.deepEqual(await linked(emu, r), ids(...REGIONS));
    });

    it('restore of a member that was not unlinked: it resynchronises and survivors’ metadata is discarded', async () => {
      const member = await redisOf(emu, 'southeastasia');
      await member.set('kept', 'yes');
      member.destroy();
      await emu.faults.outage('southeastasia');
      const start = await emu.freshState();
      await sleep(500);
      const grown = await emu.freshState();
      assert.ok(usedMemory(grown, 'eastus') - usedMemory(start, 'eastus') > 256 * 1024, 'eastus grew');
      await emu.faults.restore('southeastasia');
      const after = await emu.freshState();
      assert.ok(usedMemory(grown, 'eastus') - usedMemory(after, 'eastus') > 256 * 1024, 'eastus fell');
      const back = await redisOf(emu, 'southeastasia');
      try {
        assert.equal(await back.get('kept'), 'yes', 'restore keeps the data');
      } finally {
        back.destroy();
      }
      assert.deepEqual(await linked(emu, 'eastus'), ids(...REGIONS));
    });

    it('throttle: N matching requests answer 429 with Retry-After, then requests pass', async () => {
      emu.faults.throttle({ count: 2, retryAfterSeconds: 3, method: 'GET', operation: 'getDatabase' });
      const url = `${dbId('eastus')}?api-version=${REDIS}`;
      assert.equal(
        (await call(emu, 'GET', `${clusterPath('eastus')}?api-version=${REDIS}`)).status,
        200,
        'other operations pass',
      );
      for (let i = 0; i < 2; i++) {
        const r = await call(emu, 'GET', url);
        assert.equal(r.status, 429);
        assert.equal(r.body.error.code, 'TooManyRequests');
        assert.equal(r.headers['retry-after'], '3');
      }
      assert.equal((await call(emu, 'GET', url)).status, 200);
    });

    it('Traffic Manager: PATCH merges, monitor status follows endpointStatus, paths are case-insensitive', async () => {
      const endpoint = `${profilePath.replace('trafficmanagerprofiles', 'trafficManagerProfiles')}/externalEndpoints/eastus?api-version=${TM}`;
      const patched = await call(emu, 'PATCH', endpoint, { properties: { endpointStatus: 'Disabled' } });
      assert.equal(patched.status, 200);
      assert.equal(patched.body.properties.endpointStatus, 'Disabled');
      assert.equal(patched.body.properties.endpointMonitorStatus, 'Disabled');
      assert.equal(patched.body.properties.priority, 1);
      assert.equal(patched.body.type, 'Microsoft.Network/trafficManagerProfiles/externalEndpoints');
      const profile = await call(emu, 'GET', `${profilePath}?api-version=${TM}`);
      assert.equal(profile.body.properties.monitorConfig.profileMonitorStatus, 'Online');
      const enabled = await call(emu, 'PATCH', endpoint, { properties: { endpointStatus: 'Enabled' } });
      // Checked first, then Online (emulator-traffic-manager.test.ts).
      assert.equal(enabled.body.properties.endpointMonitorStatus, 'CheckingEndpoint');
    });

    it('control API over HTTP: faults, bad input as 400, counters and state', async () => {
      assert.deepEqual((await control(emu, 'GET', '/health')).body, { ok: true });
      const bad = await control(emu, 'POST', '/faults/throttle', { count: 'many' });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'BadRequest');
      assert.match(bad.body.error.message, /count/);
      const badRegion = await control(emu, 'POST', '/faults/outage', { region: 'mars' });
      assert.equal(badRegion.status, 400);
      assert.match(badRegion.body.error.message, /mars/);
      assert.equal(
        (await control(emu, 'POST', '/faults/lro', { operation: 'getDatabase', fail: { code: 'X', message: 'y' } }))
          .status,
        400,
      );
      assert.equal((await control(emu, 'GET', '/nothing')).status, 404);

      const t = await control(emu, 'POST', '/faults/throttle', {
        count: 1,
        retryAfterSeconds: 0,
        resource: 'westeurope',
      });
      assert.equal(t.status, 200);
      assert.equal((await call(emu, 'GET', `${dbId('westeurope')}?api-version=${REDIS}`)).status, 429);
      assert.equal((await call(emu, 'GET', `${dbId('westeurope')}?api-version=${REDIS}`)).status, 200);

      const fw = await control(emu, 'POST', '/faults/firewall', {
        applicationRegion: 'westeurope',
        database: 'eastus',
        mode: 'refuse',
      });
      assert.equal(fw.status, 200, JSON.stringify(fw.body));
      const state = (await control(emu, 'GET', '/state')).body as EmulatorState;
      const pe = state.privateEndpoints.find(
        (p) => p.applicationRegion === 'westeurope' && p.databaseId === dbId('eastus'),
      );
      assert.equal(pe?.firewall, 'refuse');
      const refused = await new Promise<string>((resolve) => {
        const socket = net.connect(pe!.address.port, pe!.address.host);
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      assert.equal(refused, 'ECONNREFUSED');
      assert.equal(state.databases.length, 3);
      assert.ok(state.trafficManagerProfiles.length === 1);

      const counters = (await control(emu, 'GET', '/counters')).body as { operation: string }[];
      assert.ok(counters.some((c) => c.operation === 'forceUnlink'));
      assert.equal((await control(emu, 'POST', '/faults/reset')).status, 200);
      assert.equal(
        emu
          .state()
          .privateEndpoints.find(
            (p) => p === pe || (p.applicationRegion === 'westeurope' && p.databaseId === dbId('eastus')),
          )?.firewall,
        'open',
      );
    });
  });
});

describe('geofailover emulator (CLI)', function () {
  this.timeout(40_000);

  it('prints one JSON ready line, serves ARM with its CA, and on SIGTERM exits 0 with its redis-servers gone', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--port', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 20_000;
      while (!stdout.includes('\n')) {
        assert.ok(Date.now() < deadline, `no ready line; stderr: ${stderr}`);
        assert.equal(child.exitCode, null, `exited early; stderr: ${stderr}`);
        await sleep(50);
      }
      const ready = JSON.parse(stdout.split('\n')[0] as string) as ReadyLine;
      assert.deepEqual(Object.keys(ready).sort(), ['arm', 'ca', 'control', 'identity']);
      assert.match(ready.arm, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.match(ready.control, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(ready.identity.authorityHost, /^https:\/\/127\.0\.0\.1:\d+$/);
      const caPem = await readFile(ready.ca, 'utf8');
      // The ready line is all a client needs: ClientSecretCredential against the emulated tenant.
      const { token } = (await createClientSecretCredential({ ...ready.identity, caPem }).getToken(
        `${ARM_AUDIENCE}/.default`,
      )) ?? { token: '' };
      const r = await call({ arm: ready.arm, caPem, token }, 'GET', `${dbId('eastus')}?api-version=${REDIS}`);
      assert.equal(r.status, 200);
      assert.equal(
        (await call({ arm: ready.arm, caPem, token: 'not-a-token' }, 'GET', `${dbId('eastus')}?api-version=${REDIS}`))
          .status,
        401,
      );
      const state = (await control(ready, 'GET', '/state')).body as EmulatorState;
      const ports = state.databases.map((d) => d.port);
      assert.equal(ports.length, 3);

      child.kill('SIGTERM');
      assert.equal(await exited, 0, `exit code; stderr: ${stderr}`);
      assert.equal(stdout.trim().split('\n').length, 1, 'exactly one line on stdout');
      for (const port of ports) {
        const result = await new Promise<string>((resolve) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.on('connect', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        });
        assert.equal(result, 'ECONNREFUSED', `redis-server on ${port} is gone`);
      }
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('rejects a scenario file with an error, naming the file and the field (exit 2)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'geofailover-scenario-'));
    try {
      const text = (await readFile(path.join(ROOT, 'src/emulator/scenarios/default.json'), 'utf8')).replace(
        '"maxMemoryMb": 64',
        '"maxMemoryMb": "lots"',
      );
      const file = path.join(dir, 'bad.json');
      await writeFile(file, text);
      const child = spawn(process.execPath, [BIN, 'emulator', '--scenario', file], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 2, stderr);
      assert.equal(stdout, '');
      assert.ok(stderr.includes(file), stderr);
      assert.match(stderr, /clusters\[0\]\.databases\[0\]\.maxMemoryMb/);
      assert.match(stderr, /expected number/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('parseScenario names the field path of a cross-field error', () => {
    assert.throws(
      () =>
        parseScenario({
          subscriptionId: SUB,
          resourceGroup: RG,
          regions: ['eastus'],
          clusters: [{ name: 'c1', location: 'westus', sku: { name: 'Balanced_B5' } }],
          applicationRegions: ['eastus'],
        }),
      (e: unknown) =>
        e instanceof ScenarioError && /clusters\[0\]\.location: location westus is not one of/.test(e.message),
    );
  });
});
