import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createClient } from 'redis';
import { createArmClients } from '../../src/azure/clients';
import type { Emulator } from '../../src/emulator';
import { createCertificateAuthority } from '../../src/emulator/certificates';
import { configForEmulator } from '../../src/emulator/config';
import { DataPlane } from '../../src/emulator/data-plane';
import { parseScenario, scenarioFromSpec, ScenarioError } from '../../src/emulator/scenario';
import { estateGroupName, generateEstate } from '../../src/emulator/scenarios/estate';
import { parseLatencySpec, LatencySettingError } from '../../src/emulator/latencies';
import { ControlClient } from '../../src/emulator/main';
import { probeRedisEndpoint } from '../../src/redis/probe';
import { emulatorCredential, redisEntraAuth, startTestEmulator } from '../helpers/emulator';

/*
 * The generated estate (`geofailover emulator --scenario estate:N`): its shape, a 10-group estate served over
 * HTTPS and read by the official Azure SDKs, the shared data-plane shape (one redis-server per region) answering
 * probes per database and isolating databases, and the emulated latencies.
 */

const REGIONS = ['eastus', 'westeurope', 'southeastasia'];

describe('generated estate', () => {
  it('has N groups, each with a cluster and database per region and a Priority Traffic Manager profile', () => {
    const scenario = parseScenario(generateEstate({ groups: 12 }), 'estate:12');
    assert.deepEqual(scenario.regions, REGIONS);
    assert.deepEqual(scenario.applicationRegions, REGIONS);
    assert.equal(scenario.clusters.length, 36);
    assert.equal(scenario.trafficManagerProfiles.length, 12);
    const nicknames = new Set(scenario.clusters.map((c) => c.databases[0]?.geoReplication?.groupNickname));
    assert.equal(nicknames.size, 12);
    assert.ok(nicknames.has('estate-001') && nicknames.has('estate-012'));
    const members = scenario.clusters.filter((c) => c.databases[0]?.geoReplication?.groupNickname === 'estate-007');
    assert.deepEqual(
      members.map((c) => [c.name, c.location]),
      REGIONS.map((r) => [`redis-estate-007-${r}`, r]),
    );
    const profile = scenario.trafficManagerProfiles.find((p) => p.name === 'tm-estate-007');
    assert.ok(profile);
    assert.equal(profile.routingMethod, 'Priority');
    assert.deepEqual(
      profile.endpoints.map((e) => [e.name, e.priority, e.target, e.endpointStatus]),
      REGIONS.map((r, i) => [r, i + 1, `redis-estate-007-${r}.${r}.redis.azure.net`, 'Enabled']),
    );
  });

  it('is the same for the same size, and names sort in creation order', () => {
    assert.deepEqual(generateEstate({ groups: 3 }), generateEstate({ groups: 3 }));
    assert.equal(estateGroupName(0, 200), 'estate-001');
    assert.equal(estateGroupName(199, 200), 'estate-200');
    assert.equal(estateGroupName(1499, 1500), 'estate-1500');
  });

  it('is named on the command line as estate:N; a bad size is a scenario error', () => {
    assert.equal(scenarioFromSpec('estate:4').trafficManagerProfiles.length, 4);
    assert.throws(() => scenarioFromSpec('estate:0'), ScenarioError);
    assert.throws(() => scenarioFromSpec('estate:x'), ScenarioError); // not a spec: a missing file
    assert.throws(() => generateEstate({ groups: 0 }), RangeError);
  });

  describe('a 10-group estate over HTTPS', function () {
    this.timeout(180_000);
    let emulator: Emulator;

    before(async () => {
      emulator = await startTestEmulator({ scenario: scenarioFromSpec('estate:10') });
    });
    after(async () => {
      await emulator?.close();
    });

    it('lists every cluster, database and profile through the official SDKs', async () => {
      // The product's clients: the official SDKs with the emulator's CA trusted.
      const { redis, trafficManager: tm } = createArmClients({
        subscriptionId: emulator.state().subscriptionId,
        endpoint: emulator.arm,
        caPem: emulator.caPem,
        credential: emulatorCredential(emulator),
        redisApiVersion: null,
        keepAlive: false,
      });
      for (let i = 1; i <= 10; i++) {
        for (const r of REGIONS) {
          const name = `redis-estate-${String(i).padStart(3, '0')}-${r}`;
          const cluster = await redis.redisEnterprise.get('rg-geofailover-estate', name);
          assert.equal(cluster.location, r);
        }
      }
      const db = await redis.databases.get('rg-geofailover-estate', 'redis-estate-010-westeurope', 'default');
      assert.equal(db.geoReplication?.groupNickname, 'estate-010');
      assert.deepEqual(
        (db.geoReplication?.linkedDatabases ?? []).map((l) => [l.id?.split('/')[8], l.state]).sort(),
        REGIONS.map((r) => [`redis-estate-010-${r}`, 'Linked']).sort(),
      );
      const profile = await tm.profiles.get('rg-geofailover-estate', 'tm-estate-010');
      assert.deepEqual(
        profile.endpoints?.map((e) => [e.name, e.priority, e.endpointStatus]),
        REGIONS.map((r, i) => [r, i + 1, 'Enabled']),
      );
    });

    it('keeps one redis-server per database up to 30 databases', () => {
      assert.deepEqual(emulator.state().dataPlane, { shape: 'per-database', redisServers: 30 });
    });

    it('writes a configuration with every group, each routed by its own profile', () => {
      const config = configForEmulator(emulator.state(), emulator.caPath, { 'sre-lead': [] });
      const groups = config.groups as Record<string, { members: Record<string, string>; trafficManager: any }>;
      assert.equal(Object.keys(groups).length, 10);
      for (let i = 1; i <= 10; i++) {
        const name = `estate-${String(i).padStart(3, '0')}`;
        assert.deepEqual(Object.keys(groups[name]?.members ?? {}), REGIONS);
        assert.match(groups[name]?.trafficManager.profileId, new RegExp(`/tm-${name}$`));
      }
    });
  });

  describe('the shared data plane (one redis-server per region)', function () {
    this.timeout(180_000);
    let emulator: Emulator;
    let auth: { username: string; password: string };

    const dbId = (group: number, region: string): string => {
      const name = `redis-estate-${String(group).padStart(3, '0')}-${region}`;
      return `/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg-geofailover-estate/providers/Microsoft.Cache/redisEnterprise/${name}/databases/default`;
    };
    const probe = (appRegion: string, id: string) => {
      const { host, port } = emulator.privateEndpoint(appRegion, id);
      return probeRedisEndpoint({
        address: `${host}:${port}`,
        hostName: '127.0.0.1',
        tls: true,
        caPem: emulator.caPem,
        ...auth,
        timeoutMs: 5_000,
      });
    };
    /** A client through `appRegion`'s private endpoint to a database, authenticated with Entra ID. */
    const clientOf = async (appRegion: string, id: string) => {
      const { host, port } = emulator.privateEndpoint(appRegion, id);
      const client = createClient({
        socket: { host, port, tls: true, ca: emulator.caPem, servername: 'localhost', reconnectStrategy: false },
        ...auth,
        disableClientInfo: true,
      });
      client.on('error', () => {});
      await client.connect();
      return client;
    };

    before(async () => {
      emulator = await startTestEmulator({ scenario: scenarioFromSpec('estate:10'), dataPlane: 'shared' });
      auth = await redisEntraAuth(emulator);
    });
    after(async () => {
      await emulator?.close();
    });

    it('runs one redis-server per region and answers a probe of every database from every application region', async () => {
      assert.deepEqual(emulator.dataPlane, { shape: 'shared', redisServers: 3 });
      assert.deepEqual(emulator.state().dataPlane, { shape: 'shared', redisServers: 3 });
      // A few at a time: the test process hosts the emulator, which terminates every probe's TLS.
      const targets = REGIONS.flatMap((app) =>
        Array.from({ length: 10 }, (_, g) => REGIONS.map((r) => [app, dbId(g + 1, r)] as const)).flat(),
      );
      const results = [];
      for (let i = 0; i < targets.length; i += 6) {
        results.push(...(await Promise.all(targets.slice(i, i + 6).map(([app, id]) => probe(app, id)))));
      }
      assert.equal(results.length, 90);
      assert.deepEqual(
        results.filter((r) => r.outcome !== 'ok'),
        [],
      );
      const wrong = await probeRedisEndpoint({
        ...(await (async () => {
          const { host, port } = emulator.privateEndpoint('eastus', dbId(1, 'eastus'));
          return { address: `${host}:${port}` };
        })()),
        hostName: '127.0.0.1',
        tls: true,
        caPem: emulator.caPem,
        username: auth.username,
        password: 'not-a-token',
        timeoutMs: 5_000,
      });
      assert.equal(wrong.outcome, 'auth-error');
    });

    it('isolates databases that share a server: keys, DBSIZE, and no way to SELECT or FLUSHALL another', async () => {
      const a = await clientOf('westeurope', dbId(2, 'eastus'));
      const b = await clientOf('westeurope', dbId(3, 'eastus'));
      const direct = createClient({
        socket: {
          ...emulator.privateEndpoint('eastus', dbId(2, 'eastus')),
          port: emulator.state().databases.find((d) => d.id === dbId(2, 'eastus'))!.port,
          tls: true,
          ca: emulator.caPem,
          servername: 'localhost',
          reconnectStrategy: false,
        },
        ...auth,
        disableClientInfo: true,
      });
      direct.on('error', () => {});
      await direct.connect();
      try {
        await a.set('only-in-a', 'yes');
        assert.equal(await b.get('only-in-a'), null);
        assert.equal(await b.dbSize(), 0);
        // The database's own port (what ARM reports) reaches the same database as its private endpoints.
        assert.equal(await direct.get('only-in-a'), 'yes');
        await assert.rejects(b.sendCommand(['SELECT', '0']), /NOPERM/);
        await assert.rejects(b.sendCommand(['FLUSHALL']), /NOPERM/);
        await assert.rejects(b.sendCommand(['SWAPDB', '0', '1']), /NOPERM/);
        assert.equal(await a.get('only-in-a'), 'yes');
      } finally {
        a.destroy();
        b.destroy();
        direct.destroy();
      }
    });

    it("reads each database's memory on its own: its keys count, its neighbours' do not", async () => {
      const a = await clientOf('eastus', dbId(4, 'westeurope'));
      try {
        await a.set('big', 'x'.repeat(512 * 1024));
        const state = await emulator.freshState();
        const memoryOf = (id: string) => state.databases.find((d) => d.id === id)?.memory;
        const mine = memoryOf(dbId(4, 'westeurope'));
        const neighbour = memoryOf(dbId(5, 'westeurope'));
        assert.ok(mine && neighbour);
        assert.ok(mine.usedBytes >= neighbour.usedBytes + 512 * 1024, JSON.stringify({ mine, neighbour }));
        assert.equal(mine.maxBytes, 64 * 1024 * 1024);
      } finally {
        a.destroy();
      }
    });

    it('applies the probe latency to the shared shape too', async () => {
      emulator.latencies.set({ probe: 200 });
      try {
        const started = performance.now();
        const result = await probe('southeastasia', dbId(7, 'eastus'));
        assert.equal(result.outcome, 'ok', JSON.stringify(result));
        assert.ok(performance.now() - started >= 200);
      } finally {
        emulator.latencies.set({ probe: 0 });
      }
    });

    it("a region's outage stops its server (its databases refuse), other regions answer, data survives restore", async () => {
      const before = await clientOf('eastus', dbId(6, 'southeastasia'));
      await before.set('kept', 'through-outage');
      before.destroy();
      await emulator.faults.outage('southeastasia');
      try {
        const down = await probe('eastus', dbId(6, 'southeastasia'));
        assert.equal(down.outcome, 'refused', JSON.stringify(down));
        assert.equal((await probe('eastus', dbId(6, 'westeurope'))).outcome, 'ok');
        assert.equal(emulator.state().databases.find((d) => d.id === dbId(6, 'southeastasia'))?.running, false);
      } finally {
        await emulator.faults.restore('southeastasia');
      }
      assert.equal((await probe('westeurope', dbId(6, 'southeastasia'))).outcome, 'ok');
      const after = await clientOf('eastus', dbId(6, 'southeastasia'));
      try {
        assert.equal(await after.get('kept'), 'through-outage');
      } finally {
        after.destroy();
      }
    });
  });

  describe('emulated latencies', function () {
    this.timeout(120_000);
    let emulator: Emulator;

    before(async () => {
      emulator = await startTestEmulator({ latencies: { 'arm-read': 300, probe: 250 } });
    });
    after(async () => {
      await emulator?.close();
    });

    it('parses arm-read=150ms,arm-write=1s,lro=10s,probe=30ms and refuses what it cannot read', () => {
      assert.deepEqual(parseLatencySpec('arm-read=150ms,arm-write=1s,lro=10s,probe=30ms'), {
        'arm-read': 150,
        'arm-write': 1000,
        lro: 10_000,
        probe: 30,
      });
      assert.deepEqual(parseLatencySpec('lro=1.5s'), { lro: 1500 });
      assert.throws(() => parseLatencySpec('disk=1s'), LatencySettingError);
      assert.throws(() => parseLatencySpec('probe=fast'), LatencySettingError);
    });

    it('an ARM read takes at least the configured read latency', async () => {
      const { redis } = createArmClients({
        subscriptionId: emulator.state().subscriptionId,
        endpoint: emulator.arm,
        caPem: emulator.caPem,
        credential: emulatorCredential(emulator),
        redisApiVersion: null,
        keepAlive: false,
      });
      await redis.databases.get('rg-geofailover-demo', 'redis-leaderboard-eastus', 'default'); // token fetched
      const started = performance.now();
      await redis.databases.get('rg-geofailover-demo', 'redis-leaderboard-eastus', 'default');
      assert.ok(performance.now() - started >= 300);
    });

    it('a probe through a private endpoint takes at least the configured probe latency', async () => {
      const auth = await redisEntraAuth(emulator);
      const id = emulator.state().databases[0]!.id;
      const { host, port } = emulator.privateEndpoint('westeurope', id);
      const started = performance.now();
      const result = await probeRedisEndpoint({
        address: `${host}:${port}`,
        hostName: '127.0.0.1',
        tls: true,
        caPem: emulator.caPem,
        ...auth,
        timeoutMs: 10_000,
      });
      assert.equal(result.outcome, 'ok', JSON.stringify(result));
      assert.ok(performance.now() - started >= 250);
    });

    it('a long-running ARM write takes at least the write latency plus the LRO latency', async () => {
      emulator.latencies.set({ 'arm-write': 300, lro: 700 });
      try {
        const { redis } = createArmClients({
          subscriptionId: emulator.state().subscriptionId,
          endpoint: emulator.arm,
          caPem: emulator.caPem,
          credential: emulatorCredential(emulator),
          redisApiVersion: null,
          keepAlive: false,
        });
        await redis.databases.get('rg-geofailover-demo', 'redis-leaderboard-westeurope', 'default'); // token fetched
        const started = performance.now();
        await redis.databases.beginForceUnlinkAndWait(
          'rg-geofailover-demo',
          'redis-leaderboard-westeurope',
          'default',
          { ids: [emulator.state().databases.find((d) => d.location === 'southeastasia')!.id] },
          { updateIntervalInMs: 20 },
        );
        assert.ok(performance.now() - started >= 300 + 700);
      } finally {
        emulator.latencies.set({ 'arm-write': 0, lro: 0 });
      }
    });

    it('the control API reads and changes them at once; a fault reset keeps them', async () => {
      const control = new ControlClient(emulator.control);
      assert.deepEqual(await control.request('GET', '/latencies'), {
        'arm-read': 300,
        'arm-write': 0,
        lro: 0,
        probe: 250,
      });
      assert.deepEqual(await control.request('POST', '/latencies', { lro: 10_000, probe: 0 }), {
        'arm-read': 300,
        'arm-write': 0,
        lro: 10_000,
        probe: 0,
      });
      await control.reset();
      assert.equal(emulator.latencies.lroMs(), 10_000);
      await assert.rejects(control.request('POST', '/latencies', { disk: 5 }), /latencies/);
    });
  });

  describe('the shared data plane, database by database', function () {
    this.timeout(120_000);
    let workDir: string;
    let dataPlane: DataPlane;
    const spec = (name: string, region: string, password: string) => ({
      id: `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/${name}/databases/default`,
      hostName: `${name}.${region}.redis.azure.net`,
      password,
      tls: false,
      maxMemoryBytes: 8 * 1024 * 1024,
      region,
    });
    const a = spec('a', 'eastus', 'key-of-a');
    const b = spec('b', 'eastus', 'key-of-b');

    const clientOf = async (id: string, password: string) => {
      const client = createClient({
        socket: { ...dataPlane.privateEndpoint('westeurope', id), reconnectStrategy: false },
        password,
        disableClientInfo: true,
      });
      client.on('error', () => {});
      await client.connect();
      return client;
    };

    before(async () => {
      workDir = await mkdtemp(path.join(os.tmpdir(), 'shared-data-plane-'));
      dataPlane = await DataPlane.start(
        { ca: await createCertificateAuthority(), workDir, shape: 'shared' },
        [a, b],
        ['westeurope'],
      );
    });
    after(async () => {
      await dataPlane?.close();
      await rm(workDir, { recursive: true, force: true });
    });

    it('takes access keys as the default user; a new key works at once, the old one no longer', async () => {
      assert.equal(dataPlane.serverCount, 1);
      const client = await clientOf(a.id, 'key-of-a');
      await client.set('k', 'a');
      client.destroy();
      await dataPlane.setPassword(b.id, 'new-key-of-b');
      await assert.rejects(clientOf(b.id, 'key-of-b'), /WRONGPASS/);
      const again = await clientOf(b.id, 'new-key-of-b');
      try {
        assert.equal(await again.get('k'), null);
      } finally {
        again.destroy();
      }
    });

    it('stops one database while the server runs on for the other; a flush while stopped empties it', async () => {
      const before = await clientOf(a.id, 'key-of-a');
      await before.set('kept', '1');
      await dataPlane.stopDatabase(a.id);
      assert.equal(dataPlane.isRunning(a.id), false);
      assert.equal(dataPlane.isRunning(b.id), true);
      await assert.rejects(before.get('kept')); // its connection was reset
      if (before.isOpen) before.destroy();
      await assert.rejects(clientOf(a.id, 'key-of-a'));
      const neighbour = await clientOf(b.id, 'new-key-of-b');
      neighbour.destroy();
      await dataPlane.flush(a.id);
      await dataPlane.startDatabase(a.id);
      const after = await clientOf(a.id, 'key-of-a');
      try {
        assert.equal(await after.get('kept'), null);
      } finally {
        after.destroy();
      }
    });

    it('grows and clears emulated metadata within the cap, per database', async () => {
      const start = (await dataPlane.memory(a.id)).usedBytes;
      const grown = await dataPlane.growMetadata(a.id, 2 * 1024 * 1024, 6 * 1024 * 1024);
      assert.ok(grown >= start + 2 * 1024 * 1024 - 1 && grown <= 6 * 1024 * 1024, String(grown));
      assert.equal(await dataPlane.growMetadata(a.id, 64 * 1024 * 1024, 6 * 1024 * 1024), 6 * 1024 * 1024);
      assert.ok((await dataPlane.memory(b.id)).usedBytes < 2 * 1024 * 1024);
      await dataPlane.clearMetadata(a.id);
      assert.ok((await dataPlane.memory(a.id)).usedBytes < 2 * 1024 * 1024);
    });
  });
});
