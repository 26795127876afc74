// The data plane with Microsoft Entra ID: databases whose access keys are Disabled are probed and canaried with
// tokens from the same ClientSecretCredential the ARM clients use (username = the token's oid), and the emulator
// counts no listKeys call; a principal without a data access policy, or an expired token, is refused by the
// redis-server itself (WRONGPASS), which the probe names as its AUTH stage.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createDataPlaneActivities } from '../../src/activities/data-plane';
import { objectIdOfToken, REDIS_TOKEN_SCOPE } from '../../src/activities/database-access';
import { createProbeActivities } from '../../src/activities/probe';
import type { ProbeTargetInput } from '../../src/activities/types';
import { createArmClients, type ArmClients } from '../../src/azure/clients';
import { parseDatabaseId } from '../../src/azure/resource-ids';
import { defaultScenario, type Emulator, type Principal } from '../../src/emulator';
import { REDIS_AUDIENCE } from '../../src/emulator/identity';
import { probeRedisEndpoint } from '../../src/redis/probe';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;
const member = (region: string): { region: string; databaseId: string } => ({ region, databaseId: dbId(region) });

const quietLogger = new DefaultLogger('ERROR');
const run = <T>(fn: () => Promise<T>): Promise<T> =>
  new MockActivityEnvironment(
    { workflowExecution: { workflowId: 'entra', runId: 'entra' } },
    { logger: quietLogger },
  ).run(fn);

describe('the data plane with Microsoft Entra ID (access keys Disabled)', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let worker: Principal;
  let intruder: Principal;

  const armFor = (principal: Principal): ArmClients =>
    createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator, principal),
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
    });
  const targets = (appRegion: string): ProbeTargetInput[] =>
    REGIONS.map((r) => {
      const a = emulator.privateEndpoint(appRegion, dbId(r));
      return { memberRegion: r, databaseId: dbId(r), address: `${a.host}:${a.port}` };
    });
  const listKeysCalls = (): number => emulator.listKeysCalls().reduce((n, c) => n + c.count, 0);

  before(async () => {
    const scenario = defaultScenario();
    for (const cluster of scenario.clusters) {
      for (const database of cluster.databases) database.accessKeysAuthentication = 'Disabled';
    }
    emulator = await startTestEmulator({
      scenario,
      identity: { principals: ['geofailover-worker', 'intruder'], redisDataAccess: ['geofailover-worker'] },
    });
    [worker, intruder] = emulator.issuer.principals as [Principal, Principal];
  });
  after(async () => {
    await emulator?.close();
  });

  it('probes every member and canaries each with Entra tokens; the emulator counts no listKeys call', async () => {
    emulator.resetCounters();
    const arm = armFor(worker);
    const probes = createProbeActivities({ arm, caPem: emulator.caPem });
    const records = (
      await Promise.all(
        REGIONS.map((app) =>
          run(() => probes.probeEndpoints({ applicationRegion: app, targets: targets(app), timeoutMs: 3000 })),
        ),
      )
    ).flat();
    assert.equal(records.length, 9);
    for (const r of records) assert.equal(r.outcome, 'ok', `${r.applicationRegion} → ${r.memberRegion}: ${r.error}`);
    // No token in what an activity returns.
    assert.ok(!JSON.stringify(records).includes('eyJ'), 'a probe record holds no token');

    const data = createDataPlaneActivities({ arm, caPem: emulator.caPem, redisTimeoutMs: 3000 });
    for (const r of REGIONS) {
      const canary = await run(() => data.canaryWriteRead({ member: member(r), ttlSeconds: 60 }));
      assert.equal(canary.region, r);
      assert.ok(!JSON.stringify(canary).includes('eyJ'), 'a canary result holds no token');
    }
    assert.equal(listKeysCalls(), 0, JSON.stringify(emulator.listKeysCalls()));
  });

  it('ARM refuses listKeys on a database whose access keys are Disabled (and counts the ask)', async () => {
    emulator.resetCounters();
    const id = parseDatabaseId(dbId('eastus'));
    await assert.rejects(
      armFor(worker).redis.databases.listKeys(id.resourceGroupName, id.clusterName, id.databaseName),
      (e: { statusCode?: number; code?: string; message?: string }) => {
        assert.equal(e.statusCode, 400);
        assert.equal(e.code, 'BadRequest');
        assert.match(e.message ?? '', /Access keys authentication is disabled/);
        return true;
      },
    );
    assert.equal(listKeysCalls(), 1);
  });

  it('refuses a principal without a data access policy at AUTH (WRONGPASS), through the probe activity', async () => {
    const probes = createProbeActivities({ arm: armFor(intruder), caPem: emulator.caPem });
    const records = await run(() =>
      probes.probeEndpoints({ applicationRegion: 'eastus', targets: targets('eastus'), timeoutMs: 3000 }),
    );
    for (const r of records) {
      assert.equal(r.outcome, 'auth-error', `${r.memberRegion}: ${r.outcome} ${r.error}`);
      assert.equal(r.failedStage, 'auth');
      assert.match(r.error ?? '', /WRONGPASS/);
    }
  });

  it('refuses an expired token, and a token for another audience, of a granted principal at AUTH', async () => {
    const a = emulator.privateEndpoint('eastus', dbId('eastus'));
    const hostName = emulator.state().clusters.find((c) => c.location === 'eastus')?.hostName ?? '127.0.0.1';
    const now = Math.floor(Date.now() / 1000);
    const probe = (password: string) =>
      probeRedisEndpoint({
        address: `${a.host}:${a.port}`,
        hostName,
        tls: true,
        username: worker.objectId,
        password,
        caPem: emulator.caPem,
        timeoutMs: 3000,
      });
    const expired = await probe(
      emulator.issuer.mint(REDIS_AUDIENCE, worker, { iat: now - 7200, nbf: now - 7200, exp: now - 60 }),
    );
    assert.equal(expired.outcome, 'auth-error', expired.error);
    assert.equal(expired.failedStage, 'auth');
    assert.equal(expired.passed, 'tls');

    // A live ARM token of the same principal is no Redis password.
    const armToken = (await emulatorCredential(emulator, worker).getToken('https://management.azure.com/.default'))!
      .token;
    const wrongAudience = await probe(armToken);
    assert.equal(wrongAudience.outcome, 'auth-error', wrongAudience.error);
    assert.equal(wrongAudience.failedStage, 'auth');

    // The token the tenant issued for Redis works, with its oid as the username.
    const redisToken = (await emulatorCredential(emulator, worker).getToken(REDIS_TOKEN_SCOPE))!.token;
    assert.equal(objectIdOfToken(redisToken), worker.objectId);
    const ok = await probe(redisToken);
    assert.equal(ok.outcome, 'ok', ok.error);
  });
});
