// Every activity of the failover runbook against one emulator (HTTPS ARM + real redis-servers), through the
// official SDK clients, each run inside a MockActivityEnvironment (heartbeats and cancellation as on a worker).
// The tests share the emulator's state and run in order: force-unlink and rejoin build on each other.
import assert from 'node:assert/strict';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createClient } from 'redis';
import { createActivities, createProbeActivities } from '../../src/activities';
import type { GeofailoverActivities, ProbeActivities, ProbeTargetInput } from '../../src/activities/types';
import { createArmClients, type ArmClients } from '../../src/azure/clients';
import { parseDatabaseId } from '../../src/azure/resource-ids';
import { FAILURE_TYPES } from '../../src/contract/failures';
import type { EndpointRef, GroupDefinition } from '../../src/contract/runbook';
import type { Emulator } from '../../src/emulator';
import { emulatorCredential, redisEntraAuth, startTestEmulator } from '../helpers/emulator';
import { activityAuthorization, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';
import type { Authorization } from '../../src/contract/policy';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;
const member = (region: string): { region: string; databaseId: string } => ({ region, databaseId: dbId(region) });
const PROFILE_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`;
const endpoint = (region: string): EndpointRef => ({ type: 'ExternalEndpoints', name: region });
const MAX_MEMORY_BYTES = 64 * 1024 * 1024;
const POLL_MS = 50;

const quietLogger = new DefaultLogger('ERROR');

// The worker's policy for the default scenario's group, and the signed statements a run of it would carry:
// destructive activities verify them against the policy and the calling workflow before they call Azure.
const GROUP = 'leaderboard';
const RUN = { workflowId: 'failover/leaderboard', runId: 'run-activities-test' };
const POLICY_GROUP: GroupDefinition = {
  ...testGroup([...REGIONS]),
  name: GROUP,
  members: Object.fromEntries(REGIONS.map((r) => [r, dbId(r)])),
  trafficManager: {
    profileId: PROFILE_ID,
    endpoints: Object.fromEntries(REGIONS.map((r) => [r, endpoint(r)])),
  },
};
const authorization = (gate?: 'approval-unlink' | 'approval-rejoin'): Authorization =>
  activityAuthorization(RUN, REGIONS.map(dbId), gate);
const signed = (gate?: 'approval-unlink' | 'approval-rejoin') => ({ group: GROUP, authorization: authorization(gate) });
/** The worker's policy, and no caller check: no workflow calls these activities here (the check is tested on the real stack). */
const signedDeps = {
  callerCheck: async (): Promise<undefined> => undefined,
  policies: (group: string) =>
    group === GROUP
      ? { found: true as const, policy: policyFor(POLICY_GROUP) }
      : { found: false as const, reason: `no group ${group}` },
};

/** An ApplicationFailure of this contract type and retryability. */
function failure(type: string, nonRetryable: boolean, message?: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(e)}`);
    assert.equal(e.type, type, e.message);
    assert.equal(e.nonRetryable, nonRetryable, e.message);
    if (message) assert.match(e.message, message);
    return true;
  };
}

describe('runbook activities against the emulator', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let arm: ArmClients;
  let acts: GeofailoverActivities;
  let probes: ProbeActivities;

  const env = (info?: Partial<Info>, logger = quietLogger): MockActivityEnvironment =>
    new MockActivityEnvironment({ workflowExecution: RUN, ...info }, { logger });
  const run = <T>(fn: () => Promise<T>, e: MockActivityEnvironment = env()): Promise<T> => e.run(fn);

  /** Accepted mutating calls for one operation, on resources whose id contains `resource`. */
  const count = (operation: string, resource = ''): number =>
    emulator
      .counters()
      .filter((c) => c.operation === operation && c.resourceId.toLowerCase().includes(resource.toLowerCase()))
      .reduce((n, c) => n + c.count, 0);

  /** Who lists whom, as ARM shows it (from the emulator's state): region → [listed region, state]. */
  const links = (): Record<string, [string, string][]> =>
    Object.fromEntries(
      emulator
        .state()
        .databases.map((d) => [
          d.location,
          d.linkedDatabases
            .map((l): [string, string] => [l.id.toLowerCase().split('redis-leaderboard-')[1]!.split('/')[0]!, l.state])
            .sort(),
        ]),
    );
  const fullyLinked = Object.fromEntries(
    REGIONS.map((r) => [r, [...REGIONS].sort().map((o): [string, string] => [o, 'Linked'])]),
  );

  /** A direct node-redis client on one member (as an application would connect), with Entra ID (keys Disabled). */
  async function redisOf(region: string): Promise<ReturnType<typeof createClient>> {
    const id = parseDatabaseId(dbId(region));
    const [cluster, db, auth] = await Promise.all([
      arm.redis.redisEnterprise.get(RG, id.clusterName),
      arm.redis.databases.get(RG, id.clusterName, 'default'),
      redisEntraAuth(emulator),
    ]);
    const client = createClient({
      ...auth,
      maintNotifications: 'disabled',
      socket: {
        host: cluster.hostName!,
        port: db.port!,
        tls: true,
        ca: emulator.caPem,
        connectTimeout: 3000,
        reconnectStrategy: false,
      },
    });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  before(async () => {
    emulator = await startTestEmulator();
    arm = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
      retryOptions: { maxRetries: 0 },
    });
    const deps = { arm, caPem: emulator.caPem, redisTimeoutMs: 3000, ...signedDeps };
    acts = createActivities(deps);
    probes = createProbeActivities(deps);
  });
  after(async () => {
    await emulator?.close();
  });

  describe('data plane (memory, canary)', () => {
    it('reads plausible used/max memory of every member at the address ARM reports', async () => {
      const readings = await Promise.all(REGIONS.map((r) => run(() => acts.readMemory(member(r)))));
      for (const [i, m] of readings.entries()) {
        assert.equal(m.region, REGIONS[i]);
        assert.equal(m.databaseId, dbId(REGIONS[i]!));
        assert.equal(m.maxBytes, MAX_MEMORY_BYTES);
        assert.ok(m.usedBytes > 100_000 && m.usedBytes < m.maxBytes, `used ${m.usedBytes}`);
        assert.equal(m.percent, Math.round((m.usedBytes / m.maxBytes) * 1000) / 10);
        assert.ok(Math.abs(Date.parse(m.readAt) - Date.now()) < 10_000, m.readAt);
      }
    });

    it("sees a survivor's memory rise while a member is in outage (replication metadata builds up)", async () => {
      const before = await run(() => acts.readMemory(member('eastus')));
      await emulator.faults.outage('southeastasia');
      try {
        await new Promise((r) => setTimeout(r, 1200));
        const during = await run(() => acts.readMemory(member('eastus')));
        assert.ok(
          during.usedBytes > before.usedBytes + 1024 * 1024,
          `used memory rose from ${before.usedBytes} to ${during.usedBytes}`,
        );
        assert.ok(during.percent > before.percent);
      } finally {
        await emulator.faults.restore('southeastasia');
      }
    });

    it('writes and reads back a canary with a TTL on every member', async () => {
      const results = await Promise.all(
        REGIONS.map((r) => run(() => acts.canaryWriteRead({ member: member(r), ttlSeconds: 60 }))),
      );
      assert.deepEqual(
        results.map((c) => c.region),
        [...REGIONS],
      );
      for (const c of results) assert.ok(c.latencyMs >= 0 && c.latencyMs < 5000, `latency ${c.latencyMs}`);
      const client = await redisOf('eastus');
      try {
        const keys: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: 'geofailover:canary:*', COUNT: 100 })) {
          keys.push(...batch);
        }
        assert.ok(keys.length >= 1, 'the canary key is there');
        for (const k of keys) {
          const ttl = await client.ttl(k);
          assert.ok(ttl > 0 && ttl <= 60, `${k} expires (ttl ${ttl})`);
        }
      } finally {
        client.destroy();
      }
    });

    it('refuses a malformed database id at once, without retries', async () => {
      await assert.rejects(
        run(() => acts.readMemory({ region: 'eastus', databaseId: '/subscriptions/x/nonsense' })),
        failure(FAILURE_TYPES.invalidInput, true, /eastus/),
      );
    });
  });

  describe('probes from application regions', () => {
    const targets = (appRegion: string): ProbeTargetInput[] =>
      REGIONS.map((r) => {
        const a = emulator.privateEndpoint(appRegion, dbId(r));
        return { memberRegion: r, databaseId: dbId(r), address: `${a.host}:${a.port}` };
      });

    it('reaches every member from every application region: TCP, TLS, AUTH and PING', async () => {
      const all = await Promise.all(
        REGIONS.map((app) =>
          run(() => probes.probeEndpoints({ applicationRegion: app, targets: targets(app), timeoutMs: 2000 })),
        ),
      );
      const records = all.flat();
      assert.equal(records.length, 9);
      for (const r of records) {
        assert.equal(r.outcome, 'ok', `${r.applicationRegion} → ${r.memberRegion}: ${r.error}`);
        assert.equal(r.failedStage, undefined);
        assert.ok(typeof r.latencyMs === 'number' && r.latencyMs >= 0);
      }
      assert.deepEqual(
        records.map((r) => `${r.applicationRegion}>${r.memberRegion}`),
        REGIONS.flatMap((a) => REGIONS.map((m) => `${a}>${m}`)),
      );
      assert.ok(!JSON.stringify(records).includes('eyJ'), 'no token in the result');
      assert.deepEqual(emulator.listKeysCalls(), [], 'keys Disabled: the probes never asked for a key');
    });

    it('names the region and endpoint a firewall refuses or black-holes, within the timeout', async () => {
      emulator.faults.firewall({ applicationRegion: 'westeurope', database: dbId('eastus'), mode: 'refuse' });
      emulator.faults.firewall({ applicationRegion: 'westeurope', database: dbId('southeastasia'), mode: 'blackhole' });
      try {
        const started = Date.now();
        const records = await run(() =>
          probes.probeEndpoints({ applicationRegion: 'westeurope', targets: targets('westeurope'), timeoutMs: 500 }),
        );
        const elapsed = Date.now() - started;
        const by = Object.fromEntries(records.map((r) => [r.memberRegion, r]));
        assert.equal(by.eastus?.applicationRegion, 'westeurope');
        assert.equal(by.eastus?.outcome, 'refused');
        assert.equal(by.eastus?.failedStage, 'tcp');
        assert.equal(by.eastus?.address, targets('westeurope')[0]!.address);
        assert.equal(by.southeastasia?.outcome, 'timeout');
        assert.ok(by.southeastasia?.error, 'the failure says why');
        assert.equal(by.westeurope?.outcome, 'ok');
        assert.ok(elapsed < 3000, `a black hole is bounded by timeoutMs (took ${elapsed} ms)`);
        // Another application region is not affected.
        const other = await run(() =>
          probes.probeEndpoints({ applicationRegion: 'eastus', targets: targets('eastus'), timeoutMs: 500 }),
        );
        assert.deepEqual(
          other.map((r) => r.outcome),
          ['ok', 'ok', 'ok'],
        );
      } finally {
        await emulator.faults.reset();
      }
    });
  });

  describe('traffic manager', () => {
    const statuses = (p: { endpoints: { name: string; endpointStatus: string }[] }): Record<string, string> =>
      Object.fromEntries(p.endpoints.map((e) => [e.name, e.endpointStatus]));

    it('reads the profile with every endpoint, its status, priority and target', async () => {
      const p = await run(() => acts.readProfile({ profileId: PROFILE_ID }));
      assert.equal(p.profileId, PROFILE_ID);
      assert.equal(p.routingMethod, 'Priority');
      assert.deepEqual(
        p.endpoints.map((e) => [e.name, e.type, e.endpointStatus, e.priority]),
        REGIONS.map((r, i) => [r, 'ExternalEndpoints', 'Enabled', i + 1]),
      );
      assert.match(p.endpoints[0]!.target!, /eastus/);
    });

    it("disables then re-enables the failed region's endpoint; repeating a call changes nothing", async () => {
      const off = await run(() =>
        acts.setEndpointStatus({
          ...signed(),
          profileId: PROFILE_ID,
          endpoint: endpoint('westeurope'),
          status: 'Disabled',
        }),
      );
      assert.equal(off.changed, true);
      assert.equal(statuses(off.before).westeurope, 'Enabled');
      assert.deepEqual(statuses(off.after), { eastus: 'Enabled', westeurope: 'Disabled', southeastasia: 'Enabled' });
      assert.equal(count('updateEndpoint', '/westeurope'), 1);

      const again = await run(() =>
        acts.setEndpointStatus({
          ...signed(),
          profileId: PROFILE_ID,
          endpoint: endpoint('westeurope'),
          status: 'Disabled',
        }),
      );
      assert.equal(again.changed, false);
      assert.equal(again.foundAtAttempt, undefined, 'a first attempt that finds it done says only that');
      assert.equal(count('updateEndpoint', '/westeurope'), 1, 'no second PATCH');
      // A retry (its worker died after the PATCH) finds it done, and says which attempt found it.
      const retried = await run(
        () =>
          acts.setEndpointStatus({
            ...signed(),
            profileId: PROFILE_ID,
            endpoint: endpoint('westeurope'),
            status: 'Disabled',
          }),
        env({ attempt: 2 }),
      );
      assert.equal(retried.changed, false);
      assert.equal(retried.foundAtAttempt, 2);
      assert.equal(count('updateEndpoint', '/westeurope'), 1, 'still one PATCH');

      const on = await run(() =>
        acts.setEndpointStatus({
          ...signed(),
          profileId: PROFILE_ID,
          endpoint: endpoint('westeurope'),
          status: 'Enabled',
        }),
      );
      assert.equal(on.changed, true);
      assert.equal(statuses(on.after).westeurope, 'Enabled');
      assert.equal(count('updateEndpoint', '/westeurope'), 2);
    });

    it('refuses to disable the last enabled endpoint, before any change', async () => {
      const set = (region: string, status: 'Enabled' | 'Disabled') =>
        run(() => acts.setEndpointStatus({ ...signed(), profileId: PROFILE_ID, endpoint: endpoint(region), status }));
      await set('eastus', 'Disabled');
      await set('westeurope', 'Disabled');
      try {
        await assert.rejects(
          set('southeastasia', 'Disabled'),
          failure(FAILURE_TYPES.verificationFailed, true, /southeastasia.*(last|no other) enabled endpoint/i),
        );
        assert.equal(count('updateEndpoint', '/southeastasia'), 0);
      } finally {
        await set('eastus', 'Enabled');
        await set('westeurope', 'Enabled');
      }
    });

    it("refuses at once an endpoint that is not the group's, before any ARM call", async () => {
      await assert.rejects(
        run(() =>
          acts.setEndpointStatus({
            ...signed(),
            profileId: PROFILE_ID,
            endpoint: endpoint('northpole'),
            status: 'Disabled',
          }),
        ),
        failure(FAILURE_TYPES.notAuthorized, true, /northpole/),
      );
    });

    it('waits out a 429 storm on an endpoint switch (Retry-After), then switches it once', async () => {
      // The default pipeline: 3 retries of its own, each after Retry-After; the activity then waits out the rest.
      const patient = createActivities({
        arm: createArmClients({
          subscriptionId: SUB,
          endpoint: emulator.arm,
          caPem: emulator.caPem,
          credential: emulatorCredential(emulator),
          keepAlive: false,
        }),
        ...signedDeps,
      });
      const patches = count('updateEndpoint', '/westeurope');
      emulator.faults.throttle({ count: 5, retryAfterSeconds: 1, operation: 'updateEndpoint' });
      try {
        const off = await run(() =>
          patient.setEndpointStatus({
            ...signed(),
            profileId: PROFILE_ID,
            endpoint: endpoint('westeurope'),
            status: 'Disabled',
          }),
        );
        assert.equal(off.changed, true);
        assert.equal(count('updateEndpoint', '/westeurope'), patches + 1, 'one PATCH, after the 429s');
      } finally {
        await emulator.faults.reset();
        await run(() =>
          patient.setEndpointStatus({
            ...signed(),
            profileId: PROFILE_ID,
            endpoint: endpoint('westeurope'),
            status: 'Enabled',
          }),
        );
      }
    });

    it('surfaces a 429 storm longer than the SDK retries and its wait bound as retryable AzureThrottled, honouring Retry-After', async () => {
      // The default pipeline: 3 retries of its own, each after Retry-After; no waiting beyond them (bound 0).
      const retrying = createActivities({
        arm: createArmClients({
          subscriptionId: SUB,
          endpoint: emulator.arm,
          caPem: emulator.caPem,
          credential: emulatorCredential(emulator),
          keepAlive: false,
        }),
        throttleWaitMs: 0,
      });
      emulator.faults.throttle({ count: 4, retryAfterSeconds: 1, operation: 'getProfile' });
      try {
        await assert.rejects(
          run(() => retrying.readProfile({ profileId: PROFILE_ID })),
          (e: unknown) => {
            failure(FAILURE_TYPES.azureThrottled, false)(e);
            assert.equal((e as ApplicationFailure).nextRetryDelay, 1000);
            return true;
          },
        );
        assert.deepEqual(emulator.faults.list().throttles, [], 'the SDK retried the first three itself');
      } finally {
        await emulator.faults.reset();
      }
    });
  });

  describe('force-unlink (westeurope fails)', () => {
    const unlinkInput = {
      survivorDatabaseId: dbId('eastus'),
      failedDatabaseId: dbId('westeurope'),
      survivorDatabaseIds: [dbId('eastus'), dbId('southeastasia')],
      pollIntervalMs: POLL_MS,
      ...signed('approval-unlink'),
    };
    before(async () => {
      await emulator.faults.outage('westeurope');
      emulator.resetCounters();
    });

    it('refuses without a quorum of signed approvals of the calling run, before any ARM call', async () => {
      const attempts: Record<string, unknown>[] = [
        { ...unlinkInput, authorization: authorization() },
        { ...unlinkInput, authorization: { request: { statement: '{}', signature: 'forged' } } },
        { ...unlinkInput, authorization: undefined },
      ];
      for (const input of attempts) {
        await assert.rejects(
          run(() => acts.forceUnlink(input as never)),
          failure(FAILURE_TYPES.notAuthorized, true, /refused, nothing was called in Azure/),
        );
      }
      // Valid approvals, but for another run: a rogue workflow cannot reuse them.
      await assert.rejects(
        run(() => acts.forceUnlink(unlinkInput), env({ workflowExecution: { ...RUN, runId: 'another-run' } })),
        failure(FAILURE_TYPES.notAuthorized, true, /run/),
      );
      assert.equal(count('forceUnlink'), 0, 'no force-unlink reached ARM');
    });

    it('surfaces a failed long-running operation as non-retryable AzureOperationFailed; nothing changes', async () => {
      emulator.faults.lro({
        operation: 'forceUnlink',
        fail: { code: 'UnlinkFailed', message: 'the survivor could not drop the link' },
      });
      await assert.rejects(
        run(() => acts.forceUnlink(unlinkInput)),
        failure(FAILURE_TYPES.azureOperationFailed, true, /UnlinkFailed/),
      );
      assert.deepEqual(links().eastus, fullyLinked.eastus, 'the survivors still list westeurope');
      emulator.resetCounters();
    });

    it('after a worker crash mid-operation, the retry resumes the same operation; no second call', async () => {
      emulator.faults.lro({ operation: 'forceUnlink', durationMs: 1500 });
      // Attempt 1: starts the operation, heartbeats its poller state, then the worker "dies" (cancel).
      const first = env();
      let checkpoint: { pollerState?: string; operationId?: string } | undefined;
      const heartbeated = new Promise<void>((resolve) =>
        first.on('heartbeat', (d: typeof checkpoint) => {
          if (d?.pollerState) {
            checkpoint = d;
            resolve();
          }
        }),
      );
      const attempt1 = run(() => acts.forceUnlink(unlinkInput), first);
      attempt1.catch(() => undefined);
      await heartbeated;
      first.cancel();
      await assert.rejects(attempt1, (e: unknown) => e instanceof CancelledFailure);
      assert.ok(checkpoint?.operationId, 'the heartbeat names the operation');

      // A retry without heartbeat details (lost checkpoint) sees the unlink in flight and waits for it;
      // the retry with the checkpoint resumes polling the same operation.
      const [blind, resumed] = await Promise.all([
        run(() => acts.forceUnlink(unlinkInput)),
        run(() => acts.forceUnlink(unlinkInput), env({ attempt: 2, heartbeatDetails: checkpoint })),
      ]);
      assert.equal(resumed.skipped, false);
      assert.equal(resumed.resumed, true);
      assert.equal(resumed.operationId, checkpoint.operationId);
      assert.equal(resumed.calledOn, dbId('eastus'));
      assert.equal(blind.skipped, true);
      assert.equal(count('forceUnlink'), 1, 'exactly one force-unlink call');
      assert.deepEqual(links().eastus, [
        ['eastus', 'Linked'],
        ['southeastasia', 'Linked'],
      ]);
      assert.deepEqual(links().southeastasia, [
        ['eastus', 'Linked'],
        ['southeastasia', 'Linked'],
      ]);
    });

    it('a second call finds the member already unlinked and skips; still one call', async () => {
      const again = await run(() => acts.forceUnlink(unlinkInput));
      assert.equal(again.skipped, true);
      assert.equal(count('forceUnlink'), 1);
    });
  });

  describe('rejoin', () => {
    const allMembers = REGIONS.map(dbId);

    it('force-links the recovered member back: its data is discarded, every member lists every other', async () => {
      await emulator.faults.restore('westeurope');
      const client = await redisOf('westeurope');
      try {
        await client.set('written-during-split', 'stale');
      } finally {
        client.destroy();
      }
      const r = await run(() =>
        acts.rejoinMember({
          databaseId: dbId('westeurope'),
          groupNickname: 'leaderboard',
          memberDatabaseIds: allMembers,
          method: 'force-link',
          pollIntervalMs: POLL_MS,
          ...signed('approval-rejoin'),
        }),
      );
      assert.equal(r.skipped, false);
      assert.equal(count('forceLinkToReplicationGroup', 'westeurope'), 1);
      assert.deepEqual(links(), fullyLinked);
      const after = await redisOf('westeurope');
      try {
        assert.equal(await after.get('written-during-split'), null, 'the rejoined database starts empty');
      } finally {
        after.destroy();
      }
      const again = await run(() =>
        acts.rejoinMember({
          databaseId: dbId('westeurope'),
          groupNickname: 'leaderboard',
          memberDatabaseIds: allMembers,
          method: 'force-link',
          pollIntervalMs: POLL_MS,
          ...signed('approval-rejoin'),
        }),
      );
      assert.equal(again.skipped, true);
      assert.equal(count('forceLinkToReplicationGroup', 'westeurope'), 1, 'no second force-link');
    });

    it('recreates an unlinked member (delete, then create with the group nickname)', async () => {
      await emulator.faults.outage('southeastasia');
      await run(() =>
        acts.forceUnlink({
          survivorDatabaseId: dbId('westeurope'),
          failedDatabaseId: dbId('southeastasia'),
          survivorDatabaseIds: [dbId('eastus'), dbId('westeurope')],
          pollIntervalMs: POLL_MS,
          ...signed('approval-unlink'),
        }),
      );
      await emulator.faults.restore('southeastasia');
      const client = await redisOf('southeastasia');
      try {
        await client.set('written-during-split', 'stale');
      } finally {
        client.destroy();
      }
      const r = await run(() =>
        acts.rejoinMember({
          databaseId: dbId('southeastasia'),
          groupNickname: 'leaderboard',
          memberDatabaseIds: allMembers,
          method: 'recreate',
          pollIntervalMs: POLL_MS,
          ...signed('approval-rejoin'),
        }),
      );
      assert.equal(r.skipped, false);
      assert.equal(count('delete', 'southeastasia'), 1);
      assert.equal(count('create', 'southeastasia'), 1);
      assert.deepEqual(links(), fullyLinked);
      const db = emulator.state().databases.find((d) => d.location === 'southeastasia');
      assert.equal(db?.provisioningState, 'Succeeded');
      const after = await redisOf('southeastasia');
      try {
        assert.equal(await after.get('written-during-split'), null);
      } finally {
        after.destroy();
      }
    });
  });
});
