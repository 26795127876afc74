// Azure's ARM semantics the runbook follows and the emulator emulates: token-bucket throttling
// waited out, the observed operation-status quirks, case-sensitive linked ids, force-unlink one id per call (and
// the race after it), force-link listing every member with the rejoining database itself. Activities run inside a
// MockActivityEnvironment against one emulator through the official SDK clients, with no SDK retries of their own.
import assert from 'node:assert/strict';
import https from 'node:https';
import type { FullOperationResponse } from '@azure/core-client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { operationIdOf } from '../../src/activities/lro-wait';
import type { GeofailoverActivities } from '../../src/activities/types';
import { createArmClients, type ArmClients, type CreateArmClientsOptions } from '../../src/azure/clients';
import { classifyAzureError } from '../../src/azure/errors';
import { beginFlush } from '../../src/azure/operation-specs';
import { FAILURE_TYPES } from '../../src/contract/failures';
import type { GroupDefinition } from '../../src/contract/runbook';
import type { Emulator } from '../../src/emulator';
import { emulatorCredential, startTestEmulator, withAccessKeys } from '../helpers/emulator';
import { activityAuthorization, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
const cluster = (region: string): string => `redis-leaderboard-${region}`;
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/${cluster(region)}/databases/default`;
const GROUP = 'leaderboard';
const RUN = { workflowId: 'failover/leaderboard', runId: 'run-arm-semantics' };
const POLL_MS = 50;
const quietLogger = new DefaultLogger('ERROR');

const POLICY_GROUP: GroupDefinition = {
  ...testGroup([...REGIONS]),
  name: GROUP,
  members: Object.fromEntries(REGIONS.map((r) => [r, dbId(r)])),
};

const signed = (gate: 'approval-unlink' | 'approval-rejoin') => ({
  group: GROUP,
  authorization: activityAuthorization(RUN, REGIONS.map(dbId), gate),
});

/** A bearer token ARM accepts (the same principal as the SDK clients'). */
async function bearer(emulator: Emulator): Promise<string> {
  const token = await emulatorCredential(emulator).getToken('https://management.azure.com/.default');
  assert.ok(token, 'the emulated tenant issues a token');
  return token.token;
}

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

function raw(emulator: Emulator, token: string, method: string, path: string, body?: unknown): Promise<RawAnswer> {
  const url = new URL(path, emulator.arm);
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        ca: emulator.caPem,
        agent: false,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
        });
      },
    );
    req.on('error', reject);
    req.end(method === 'POST' ? JSON.stringify(body ?? {}) : undefined);
  });
}

describe('ARM semantics: throttling, operation status, linked ids, force-unlink and force-link', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let arm: ArmClients;
  let acts: GeofailoverActivities;
  let token: string;

  const run = <T>(fn: () => Promise<T>): Promise<T> =>
    new MockActivityEnvironment({ workflowExecution: RUN }, { logger: quietLogger }).run(fn);
  const count = (operation: string): number =>
    emulator
      .counters()
      .filter((c) => c.operation === operation)
      .reduce((n, c) => n + c.count, 0);
  const listedBy = (region: string): string[] =>
    emulator
      .state()
      .databases.find((d) => d.location === region)
      ?.linkedDatabases.map((l) => l.id) ?? [];
  const unlinkInput = (failed: string, calledOn: string, survivors: string[]) => ({
    survivorDatabaseId: dbId(calledOn),
    failedDatabaseId: dbId(failed),
    survivorDatabaseIds: survivors.map(dbId),
    pollIntervalMs: POLL_MS,
    ...signed('approval-unlink'),
  });
  const rejoinInput = (region: string) => ({
    databaseId: dbId(region),
    groupNickname: GROUP,
    memberDatabaseIds: REGIONS.map(dbId),
    method: 'force-link' as const,
    pollIntervalMs: POLL_MS,
    ...signed('approval-rejoin'),
  });

  before(async () => {
    // listKeys drains the write buckets below: access keys Enabled.
    emulator = await startTestEmulator({ scenario: withAccessKeys() });
    arm = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
      credential: emulatorCredential(emulator),
    } as CreateArmClientsOptions);
    acts = createActivities({
      arm,
      caPem: emulator.caPem,
      redisTimeoutMs: 3000,
      callerCheck: async () => undefined,
      policies: (group: string) =>
        group === GROUP
          ? { found: true as const, policy: policyFor(POLICY_GROUP) }
          : { found: false as const, reason: `no group ${group}` },
    });
    token = await bearer(emulator);
  });
  after(async () => {
    await emulator?.close();
  });
  afterEach(async () => {
    await emulator.faults.reset();
  });

  describe('token-bucket throttling (per subscription, principal and region)', () => {
    it('answers 429 with Retry-After once a bucket is empty, and the remaining quota on every answer', async () => {
      emulator.faults.rateLimits({ writes: { burst: 2, perSecond: 0.5 }, reads: { burst: 100, perSecond: 10 } });
      const keys = (region: string): string => `${dbId(region)}/listKeys?api-version=2026-08-01`;
      const first = await raw(emulator, token, 'POST', keys('eastus'));
      assert.equal(first.status, 200);
      assert.equal(first.headers['x-ms-ratelimit-remaining-subscription-writes'], '1');
      const second = await raw(emulator, token, 'POST', keys('eastus'));
      assert.equal(second.headers['x-ms-ratelimit-remaining-subscription-writes'], '0');
      const third = await raw(emulator, token, 'POST', keys('eastus'));
      assert.equal(third.status, 429);
      assert.equal(third.headers['retry-after'], '2', 'seconds until a token is back (0.5 per second)');
      assert.equal(third.headers['x-ms-ratelimit-remaining-subscription-writes'], '0');
      // Sending again before Retry-After elapsed: another 429 with a new Retry-After.
      const early = await raw(emulator, token, 'POST', keys('eastus'));
      assert.equal(early.status, 429);
      assert.ok(Number(early.headers['retry-after']) >= 1);
      // Reads have their own bucket; another region has its own buckets.
      const read = await raw(emulator, token, 'GET', `${dbId('eastus')}?api-version=2026-08-01`);
      assert.equal(read.status, 200);
      assert.equal(read.headers['x-ms-ratelimit-remaining-subscription-reads'], '99');
      const otherRegion = await raw(emulator, token, 'POST', keys('westeurope'));
      assert.equal(otherRegion.status, 200);
      assert.equal(otherRegion.headers['x-ms-ratelimit-remaining-subscription-writes'], '1');
      const counted = emulator.faults.list().rateLimits;
      assert.equal(counted.throttled.writes, 2, 'the emulator counted its 429s');
      assert.equal(counted.throttled.reads, 0);
      await emulator.faults.reset();
      assert.equal(emulator.faults.list().rateLimits.enabled, false, 'reset turns the model off');
      const unlimited = await raw(emulator, token, 'POST', keys('eastus'));
      assert.equal(unlimited.status, 200);
      assert.equal(unlimited.headers['x-ms-ratelimit-remaining-subscription-writes'], undefined);
    });

    it('a force-unlink throttled longer than the SDK retries is waited out (Retry-After) and completes once', async () => {
      await emulator.faults.outage('westeurope');
      emulator.resetCounters();
      emulator.faults.rateLimits({ writes: { burst: 1, perSecond: 0.5 } });
      // The survivor's region has no write token left: the force-unlink POST answers 429 (Retry-After 2 s).
      await arm.redis.databases.listKeys(RG, cluster('eastus'), 'default');
      const started = Date.now();
      const result = await run(() =>
        acts.forceUnlink(unlinkInput('westeurope', 'eastus', ['eastus', 'southeastasia'])),
      );
      assert.equal(result.skipped, false);
      assert.ok(Date.now() - started >= 1500, 'it waited for the bucket to refill');
      assert.ok(emulator.faults.list().rateLimits.throttled.writes >= 1, 'the emulator answered 429');
      assert.equal(count('forceUnlink'), 1, 'exactly one force-unlink was accepted');
      assert.ok(!listedBy('eastus').includes(dbId('westeurope')));
      await emulator.faults.restore('westeurope');
    });

    it('a throttled force-link (rejoin) is waited out; it lists every member, the rejoining one included', async () => {
      emulator.resetCounters();
      emulator.faults.throttle({ count: 3, retryAfterSeconds: 1, operation: 'forceLinkToReplicationGroup' });
      const result = await run(() => acts.rejoinMember(rejoinInput('westeurope')));
      assert.equal(result.skipped, false);
      assert.equal(emulator.faults.list().throttledByFault, 3);
      assert.equal(count('forceLinkToReplicationGroup'), 1);
      for (const r of REGIONS) assert.deepEqual([...listedBy(r)].sort(), REGIONS.map(dbId).sort(), r);
    });

    it('a throttled read is classified AzureThrottled with the Retry-After as the next delay', async () => {
      emulator.faults.rateLimits({ reads: { burst: 1, perSecond: 0.25 } });
      await arm.redis.databases.get(RG, cluster('southeastasia'), 'default');
      const e = await arm.redis.databases.get(RG, cluster('southeastasia'), 'default').then(
        () => assert.fail('expected a 429'),
        (x: unknown) => x,
      );
      const c = classifyAzureError(e);
      assert.equal(c.type, FAILURE_TYPES.azureThrottled);
      assert.equal(c.retryable, true);
      assert.equal(c.retryAfterMs, 4000);
    });
  });

  describe('force-unlink: one id per call, and the member still listed after Succeeded', () => {
    it('refuses ids with more than one entry (observed), unless the quirk is off', async () => {
      await emulator.faults.outage('southeastasia');
      try {
        const two = { ids: [dbId('westeurope'), dbId('southeastasia')] };
        const e = await arm.redis.databases.beginForceUnlink(RG, cluster('eastus'), 'default', two).then(
          () => assert.fail('expected 400'),
          (x: unknown) => x,
        );
        assert.equal((e as { statusCode?: number }).statusCode, 400);
        assert.match((e as Error).message, /one database per call/);
        assert.equal(count('forceUnlink'), 0);
        assert.equal(emulator.faults.quirks({ forceUnlinkOneIdPerCall: false }).forceUnlinkOneIdPerCall, false);
      } finally {
        await emulator.faults.restore('southeastasia');
      }
    });

    it('the activity polls until no survivor lists the member, although the operation succeeded earlier', async () => {
      await emulator.faults.outage('westeurope');
      emulator.resetCounters();
      emulator.faults.quirks({ unlinkListedForMs: 1500 });
      const started = Date.now();
      const result = await run(() =>
        acts.forceUnlink(unlinkInput('westeurope', 'southeastasia', ['eastus', 'southeastasia'])),
      );
      const tookMs = Date.now() - started;
      assert.equal(result.skipped, false);
      const op = emulator.state().operations.find((o) => o.name === 'forceUnlink' && o.status === 'Succeeded');
      assert.ok(op?.endTime);
      assert.ok(tookMs >= 1500, `the activity returned only once the member was gone (${tookMs} ms)`);
      assert.equal(count('forceUnlink'), 1, 'polling, never a second call');
      for (const r of ['eastus', 'southeastasia']) assert.ok(!listedBy(r).includes(dbId('westeurope')), r);
      await emulator.faults.restore('westeurope');
      await run(() => acts.rejoinMember(rejoinInput('westeurope')));
    });
  });

  describe('linked ids are case-sensitive; the emulator lists them as given', () => {
    it('lists a force-linked id in the exact case it was given, and refuses an unlink in another case', async () => {
      await emulator.faults.outage('westeurope');
      await run(() => acts.forceUnlink(unlinkInput('westeurope', 'eastus', ['eastus', 'southeastasia'])));
      await emulator.faults.restore('westeurope');
      // The ids as some tools write them: ARM's case-insensitive keyword in lower case, names as they are.
      const given = (region: string): string => dbId(region).replace('/resourceGroups/', '/resourcegroups/');
      const res = await raw(
        emulator,
        token,
        'POST',
        `${dbId('westeurope')}/forceLinkToReplicationGroup?api-version=2026-08-01`,
        { geoReplication: { groupNickname: GROUP, linkedDatabases: REGIONS.map((r) => ({ id: given(r) })) } },
      );
      assert.equal(res.status, 202, JSON.stringify(res.body));
      const statusUrl = new URL(String(res.headers['azure-asyncoperation']));
      for (let i = 0; i < 100; i++) {
        const st = await raw(emulator, token, 'GET', statusUrl.pathname + statusUrl.search);
        if (st.body.status !== 'InProgress') {
          assert.equal(st.body.status, 'Succeeded');
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual([...listedBy('westeurope')].sort(), REGIONS.map(given).sort(), 'listed exactly as given');
      assert.ok(listedBy('eastus').includes(given('westeurope')), 'the members list it as given too');

      // Another case of a resource name is another id to Azure: refused.
      await emulator.faults.outage('westeurope');
      try {
        const wrong = dbId('westeurope').replace(cluster('westeurope'), cluster('westeurope').toUpperCase());
        const refused = await raw(emulator, token, 'POST', `${dbId('eastus')}/forceUnlink?api-version=2026-08-01`, {
          ids: [wrong],
        });
        assert.equal(refused.status, 400);
        assert.match(refused.body.error.message, /case-sensitive/);
        // The runbook's ids differ from the listed ones only in ARM's keyword case: the activity still sees the link.
        emulator.resetCounters();
        const r = await run(() => acts.forceUnlink(unlinkInput('westeurope', 'eastus', ['eastus', 'southeastasia'])));
        assert.equal(r.skipped, false);
        assert.equal(count('forceUnlink'), 1);
        assert.ok(!listedBy('eastus').some((id) => id.toLowerCase() === dbId('westeurope').toLowerCase()));
      } finally {
        await emulator.faults.restore('westeurope');
      }
      await run(() => acts.rejoinMember(rejoinInput('westeurope')));
    });
  });

  describe('operation status quirks', () => {
    it('parses a status URL with a display name, +05:30 times and endTime while InProgress; done only when Succeeded', async () => {
      emulator.faults.quirks({ operationStatus: true });
      emulator.faults.lro({ operation: 'flush', durationMs: 1500 });
      const responses: FullOperationResponse[] = [];
      const started = Date.now();
      const poller = await beginFlush(
        arm.redis,
        RG,
        cluster('westeurope'),
        'default',
        {},
        {
          updateIntervalInMs: 100,
          onResponse: (r) => responses.push(r),
        },
      );
      const statusUrl = responses[0]?.headers.get('azure-asyncoperation');
      assert.ok(statusUrl, 'Azure-AsyncOperation on the 202');
      assert.match(statusUrl, /\/locations\/West%20Europe\/operationsStatus\//);
      const status = await raw(emulator, token, 'GET', new URL(statusUrl).pathname + new URL(statusUrl).search);
      assert.equal(status.status, 200);
      assert.equal(status.body.status, 'InProgress');
      assert.match(status.body.startTime, /\+05:30$/);
      assert.match(status.body.endTime, /\+05:30$/, 'endTime is present while still InProgress');
      assert.ok(Date.parse(status.body.startTime) <= Date.now(), 'the offset is parsed as the same instant');
      assert.equal(operationIdOf(poller.toString()), status.body.name, 'the checkpoint names the operation');
      await poller.poll();
      assert.equal(poller.isDone(), false, 'endTime does not make it done');
      await poller.pollUntilDone();
      assert.ok(Date.now() - started >= 1400, 'the poller waited for Succeeded');
      const done = await raw(emulator, token, 'GET', new URL(statusUrl).pathname + new URL(statusUrl).search);
      assert.equal(done.body.status, 'Succeeded');
    });

    it('the force-unlink activity waits through the quirks until the operation succeeded', async () => {
      emulator.faults.quirks({ operationStatus: true });
      emulator.faults.lro({ operation: 'forceUnlink', durationMs: 1200 });
      await emulator.faults.outage('southeastasia');
      emulator.resetCounters();
      const started = Date.now();
      const result = await run(() =>
        acts.forceUnlink(unlinkInput('southeastasia', 'eastus', ['eastus', 'westeurope'])),
      );
      assert.equal(result.skipped, false);
      assert.ok(result.operationId, 'the operation id out of a status URL with a space');
      assert.ok(Date.now() - started >= 1100);
      assert.equal(count('forceUnlink'), 1);
      await emulator.faults.restore('southeastasia');
      await run(() => acts.rejoinMember(rejoinInput('southeastasia')));
    });
  });
});
