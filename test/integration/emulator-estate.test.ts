import assert from 'node:assert/strict';
import { createArmClients } from '../../src/azure/clients';
import type { Emulator } from '../../src/emulator';
import { configForEmulator } from '../../src/emulator/config';
import { parseScenario, scenarioFromSpec, ScenarioError } from '../../src/emulator/scenario';
import { estateGroupName, generateEstate } from '../../src/emulator/scenarios/estate';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';

/*
 * The generated estate (`geofailover emulator --scenario estate:N`): its shape, and a 10-group estate served
 * over HTTPS and read by the official Azure SDKs.
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
});
