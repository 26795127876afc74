import assert from 'node:assert/strict';
import {
  clusterIdOfDatabase,
  formatClusterId,
  formatDatabaseId,
  formatTrafficManagerEndpointId,
  formatTrafficManagerProfileId,
  normalizeEndpointType,
  parseClusterId,
  parseDatabaseId,
  parseTrafficManagerEndpointId,
  parseTrafficManagerProfileId,
  ResourceIdParseError,
  sameLinkedId,
  sameResourceId,
} from '../../src/azure/resource-ids';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const DB_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-eastus/databases/default`;
const PROFILE_ID = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`;

function assertParseError(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ResourceIdParseError, `expected ResourceIdParseError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.match(e.message, /Expected \/subscriptions\/\{subscriptionId\}\/resourceGroups\//);
    return true;
  });
}

describe('azure resource ids', () => {
  describe('databases', () => {
    it('parses a database id and formats it back', () => {
      const id = parseDatabaseId(DB_ID);
      assert.deepEqual(id, {
        subscriptionId: SUB,
        resourceGroupName: RG,
        clusterName: 'redis-leaderboard-eastus',
        databaseName: 'default',
      });
      assert.equal(formatDatabaseId(id), DB_ID);
    });

    it('accepts any casing of the fixed segments and keeps names as written', () => {
      const id = parseDatabaseId(
        `/SUBSCRIPTIONS/${SUB}/resourcegroups/RG1/PROVIDERS/microsoft.cache/REDISENTERPRISE/Cache1/Databases/Default`,
      );
      assert.equal(id.resourceGroupName, 'RG1');
      assert.equal(id.clusterName, 'Cache1');
      assert.equal(id.databaseName, 'Default');
      assert.equal(
        formatDatabaseId(id),
        `/subscriptions/${SUB}/resourceGroups/RG1/providers/Microsoft.Cache/redisEnterprise/Cache1/databases/Default`,
      );
    });

    it('accepts the 37-character subscription ids some spec examples use', () => {
      const id = parseDatabaseId(
        '/subscriptions/e7b5a9d2-6b6a-4d2f-9143-20d9a10f5b8f2/resourceGroups/rg2/providers/Microsoft.Cache/redisEnterprise/cache2/databases/default',
      );
      assert.equal(id.clusterName, 'cache2');
    });

    it('explains what was expected when the id does not parse', () => {
      assertParseError(() => parseDatabaseId(''), /Redis Enterprise database.*must start with "\/"/);
      assertParseError(() => parseDatabaseId(DB_ID.slice(1)), /must start with "\/"/);
      assertParseError(() => parseDatabaseId(DB_ID.replace('/databases/default', '')), /ends before databases/);
      assertParseError(
        () => parseDatabaseId(DB_ID.replace('Microsoft.Cache', 'Microsoft.Network')),
        /segment 6 is "Microsoft.Network", expected "Microsoft.Cache"/,
      );
      assertParseError(() => parseDatabaseId(`${DB_ID}/forceUnlink`), /unexpected trailing "\/forceUnlink"/);
      assertParseError(() => parseDatabaseId(DB_ID.replace(RG, '')), /segment 4 \(\{resourceGroupName\}\) is empty/);
      assertParseError(() => parseDatabaseId(`${DB_ID}/`), /unexpected trailing/);
      assertParseError(() => parseDatabaseId(DB_ID.replace('default', 'def ault')), /contains whitespace/);
      assertParseError(() => parseDatabaseId(undefined as unknown as string), /not a string/);
    });

    it('refuses to format ids with empty or slashed names', () => {
      assert.throws(
        () =>
          formatDatabaseId({ subscriptionId: SUB, resourceGroupName: RG, clusterName: 'a/b', databaseName: 'default' }),
        /clusterName "a\/b"/,
      );
      assert.throws(
        () =>
          formatDatabaseId({ subscriptionId: SUB, resourceGroupName: '', clusterName: 'c', databaseName: 'default' }),
        TypeError,
      );
    });
  });

  describe('clusters', () => {
    it('parses and formats a cluster id, and derives it from a database id', () => {
      const clusterId = DB_ID.replace('/databases/default', '');
      assert.deepEqual(parseClusterId(clusterId), {
        subscriptionId: SUB,
        resourceGroupName: RG,
        clusterName: 'redis-leaderboard-eastus',
      });
      assert.equal(formatClusterId(parseClusterId(clusterId)), clusterId);
      assert.equal(formatClusterId(clusterIdOfDatabase(parseDatabaseId(DB_ID))), clusterId);
    });

    it('rejects a database id where a cluster id is needed', () => {
      assertParseError(
        () => parseClusterId(DB_ID),
        /Redis Enterprise cluster.*unexpected trailing "\/databases\/default"/,
      );
    });
  });

  describe('traffic manager', () => {
    it('parses a profile id in the SDK path casing and formats the canonical one', () => {
      const lower = PROFILE_ID.replace('trafficManagerProfiles', 'trafficmanagerprofiles');
      const id = parseTrafficManagerProfileId(lower);
      assert.deepEqual(id, { subscriptionId: SUB, resourceGroupName: RG, profileName: 'tm-leaderboard' });
      assert.equal(formatTrafficManagerProfileId(id), PROFILE_ID);
    });

    it('parses endpoint ids in every casing ARM uses and returns the SDK endpointType', () => {
      for (const segment of ['externalEndpoints', 'ExternalEndpoints', 'EXTERNALENDPOINTS']) {
        const id = parseTrafficManagerEndpointId(`${PROFILE_ID}/${segment}/eastus`);
        assert.equal(id.endpointType, 'ExternalEndpoints');
        assert.equal(id.endpointName, 'eastus');
        assert.equal(formatTrafficManagerEndpointId(id), `${PROFILE_ID}/externalEndpoints/eastus`);
      }
      assert.equal(parseTrafficManagerEndpointId(`${PROFILE_ID}/azureEndpoints/x`).endpointType, 'AzureEndpoints');
      assert.equal(parseTrafficManagerEndpointId(`${PROFILE_ID}/nestedEndpoints/x`).endpointType, 'NestedEndpoints');
      // the odd casing in example request bodies
      const odd = parseTrafficManagerEndpointId(
        `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.network/TrafficManagerProfiles/p/ExternalEndpoints/e`,
      );
      assert.equal(odd.profileName, 'p');
    });

    it('rejects unknown endpoint types and profile ids where an endpoint id is needed', () => {
      assertParseError(
        () => parseTrafficManagerEndpointId(`${PROFILE_ID}/heatMaps/default`),
        /endpoint type "heatMaps" is not azureEndpoints, externalEndpoints or nestedEndpoints/,
      );
      assertParseError(() => parseTrafficManagerEndpointId(PROFILE_ID), /ends before \{endpointType\}/);
      assertParseError(
        () => parseTrafficManagerProfileId(DB_ID),
        /Traffic Manager profile.*expected "Microsoft.Network"/,
      );
      assert.equal(normalizeEndpointType('nope'), undefined);
      assert.throws(
        () =>
          formatTrafficManagerEndpointId({
            subscriptionId: SUB,
            resourceGroupName: RG,
            profileName: 'p',
            endpointType: 'Bogus' as 'ExternalEndpoints',
            endpointName: 'e',
          }),
        /unknown endpoint type "Bogus"/,
      );
    });
  });

  it('compares ids case-insensitively', () => {
    assert.ok(sameResourceId(DB_ID, DB_ID.toUpperCase()));
    assert.ok(sameResourceId(DB_ID, `${DB_ID}/`));
    assert.ok(!sameResourceId(DB_ID, DB_ID.replace('eastus', 'westeurope')));
  });

  it('compares linked ids the way Azure does: resource names exactly, ARM keywords and groups in any case', () => {
    assert.ok(sameLinkedId(DB_ID, DB_ID));
    assert.ok(sameLinkedId(DB_ID, `${DB_ID}/`));
    // ARM's case-insensitive segments: keywords, subscription, resource group, provider namespace, types.
    const armCase = DB_ID.replace('resourceGroups', 'resourcegroups')
      .replace(RG, RG.toUpperCase())
      .replace('Microsoft.Cache', 'microsoft.cache')
      .replace('redisEnterprise', 'RedisEnterprise')
      .replace('/databases/', '/Databases/')
      .replace(SUB, SUB.toUpperCase());
    assert.ok(sameLinkedId(DB_ID, armCase));
    // Resource names are case-sensitive in a linked id.
    assert.ok(!sameLinkedId(DB_ID, DB_ID.replace('redis-leaderboard-eastus', 'Redis-Leaderboard-EastUS')));
    assert.ok(!sameLinkedId(DB_ID, DB_ID.replace('/databases/default', '/databases/Default')));
    assert.ok(!sameLinkedId(DB_ID, DB_ID.toUpperCase()));
    assert.ok(sameResourceId(DB_ID, DB_ID.toUpperCase()), 'the same ARM resource all the same');
    assert.ok(!sameLinkedId(DB_ID, DB_ID.replace('eastus', 'westeurope')));
  });
});
