import assert from 'node:assert/strict';
import type { MemberSnapshot } from '../../src/contract/types';
import { findGroupProblems, linkProblems, settingsProblems } from '../../src/workflows/runbook/group-checks';

const REGIONS = ['eastus', 'westeurope', 'southeastasia'];
const dbId = (region: string): string =>
  `/subscriptions/6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;

function healthy(region: string): MemberSnapshot {
  return {
    region,
    databaseId: dbId(region),
    reachable: true,
    provisioningState: 'Succeeded',
    resourceState: 'Running',
    groupNickname: 'leaderboard',
    linkedDatabases: REGIONS.map((r) => ({ id: dbId(r), state: 'Linked' })),
    settings: {
      sku: 'Balanced_B5',
      modules: ['RedisJSON', 'RediSearch'],
      evictionPolicy: 'NoEviction',
      clusteringPolicy: 'EnterpriseCluster',
      clientProtocol: 'Encrypted',
      highAvailability: 'Enabled',
    },
  };
}

function group(change: (members: MemberSnapshot[]) => void = () => undefined): MemberSnapshot[] {
  const members = REGIONS.map(healthy);
  change(members);
  return members;
}

function member(members: MemberSnapshot[], region: string): MemberSnapshot {
  const found = members.find((m) => m.region === region);
  assert.ok(found);
  return found;
}

describe('group checks', () => {
  it('finds no problem in a healthy group', () => {
    assert.deepEqual(findGroupProblems(group()), []);
  });

  it('names an unreachable member with its error, and does not check its links or settings', () => {
    const members = group((ms) => {
      Object.assign(member(ms, 'westeurope'), {
        reachable: false,
        error: { code: 'AzureTransient', message: 'connect ETIMEDOUT' },
        linkedDatabases: undefined,
        settings: undefined,
      });
    });
    assert.deepEqual(findGroupProblems(members), ['westeurope: unreachable (AzureTransient: connect ETIMEDOUT)']);
  });

  it('names members that are not Succeeded or not Running', () => {
    const members = group((ms) => {
      member(ms, 'eastus').provisioningState = 'Updating';
      member(ms, 'southeastasia').resourceState = 'Scaling';
    });
    assert.deepEqual(findGroupProblems(members), [
      'eastus: provisioningState is Updating, not Succeeded',
      'southeastasia: resourceState is Scaling, not Running',
    ]);
  });

  it('names links that are missing, not Linked, or to databases outside the configuration', () => {
    const stranger = dbId('northeurope');
    const members = group((ms) => {
      const east = member(ms, 'eastus');
      east.linkedDatabases = [
        { id: dbId('eastus'), state: 'Linked' },
        { id: dbId('westeurope'), state: 'LinkFailed' },
        { id: stranger, state: 'Linked' },
      ];
    });
    assert.deepEqual(linkProblems(members), [
      'eastus: link to westeurope is LinkFailed, not Linked',
      `eastus: linkedDatabases does not list southeastasia (${dbId('southeastasia')})`,
      `eastus: linkedDatabases lists ${stranger} (Linked), which is not a configured member`,
    ]);
  });

  it('compares resource ids case-insensitively, as ARM does', () => {
    const members = group((ms) => {
      const east = member(ms, 'eastus');
      east.linkedDatabases = east.linkedDatabases?.map((l) => ({
        ...l,
        id: l.id.replace('resourceGroups', 'resourcegroups'),
      }));
    });
    assert.deepEqual(linkProblems(members), []);
  });

  it('names each setting that differs with the value in every region', () => {
    const members = group((ms) => {
      const sea = member(ms, 'southeastasia');
      assert.ok(sea.settings);
      sea.settings.sku = 'Balanced_B10';
      sea.settings.highAvailability = 'Disabled';
      const west = member(ms, 'westeurope');
      assert.ok(west.settings);
      west.settings.evictionPolicy = undefined;
    });
    assert.deepEqual(settingsProblems(members), [
      'sku differs: eastus=Balanced_B5, westeurope=Balanced_B5, southeastasia=Balanced_B10',
      'evictionPolicy differs: eastus=NoEviction, westeurope=(unset), southeastasia=NoEviction',
      'highAvailability differs: eastus=Enabled, westeurope=Enabled, southeastasia=Disabled',
    ]);
  });

  it('compares modules as sets and capacity as numbers', () => {
    const members = group((ms) => {
      const west = member(ms, 'westeurope');
      assert.ok(west.settings);
      west.settings.modules = ['RediSearch', 'RedisJSON'];
      const sea = member(ms, 'southeastasia');
      assert.ok(sea.settings);
      sea.settings.modules = ['RediSearch'];
      sea.settings.capacity = 2;
    });
    assert.deepEqual(settingsProblems(members), [
      'capacity differs: eastus=(unset), westeurope=(unset), southeastasia=2',
      'modules differs: eastus=[RediSearch, RedisJSON], westeurope=[RediSearch, RedisJSON], southeastasia=[RediSearch]',
    ]);
  });

  it('names a member whose group nickname differs or whose settings are missing', () => {
    const members = group((ms) => {
      member(ms, 'eastus').groupNickname = 'leaderboard-old';
      member(ms, 'westeurope').settings = undefined;
    });
    assert.deepEqual(settingsProblems(members), [
      'westeurope: settings not reported, so they cannot be compared with the other members',
      'groupNickname differs: eastus=leaderboard-old, westeurope=leaderboard, southeastasia=leaderboard',
    ]);
  });

  it('needs at least two members, each region once', () => {
    assert.deepEqual(findGroupProblems([]), ['the group has 0 member(s) configured; failing over needs at least two']);
    const [east] = group();
    assert.ok(east);
    const problems = findGroupProblems([east, { ...east }]);
    assert.ok(problems.includes('eastus: configured more than once'), problems.join('\n'));
  });

  it('checks the TLS setting (clientProtocol) and high availability across the group', () => {
    const members = group((ms) => {
      const sea = member(ms, 'southeastasia');
      assert.ok(sea.settings);
      sea.settings.clientProtocol = 'Plaintext';
      const west = member(ms, 'westeurope');
      assert.ok(west.settings);
      west.settings.highAvailability = 'Disabled';
    });
    assert.deepEqual(settingsProblems(members), [
      'clientProtocol differs: eastus=Encrypted, westeurope=Encrypted, southeastasia=Plaintext',
      'highAvailability differs: eastus=Enabled, westeurope=Disabled, southeastasia=Enabled',
    ]);
  });

  it('compares linked ids case-sensitively, as Azure does (resource names exactly)', () => {
    const renamed = (id: string): string => id.replace('redis-leaderboard-eastus', 'REDIS-LEADERBOARD-EASTUS');
    const members = group((ms) => {
      const west = member(ms, 'westeurope');
      west.linkedDatabases = (west.linkedDatabases ?? []).map((l) => ({ ...l, id: renamed(l.id) }));
    });
    const problems = linkProblems(members);
    assert.ok(
      problems.some((p) => p.startsWith('westeurope: linkedDatabases does not list eastus')),
      problems.join('\n'),
    );
    // ARM's own case-insensitive segments still match.
    const armCase = group((ms) => {
      const west = member(ms, 'westeurope');
      west.linkedDatabases = (west.linkedDatabases ?? []).map((l) => ({
        ...l,
        id: l.id.replace('resourceGroups', 'resourcegroups').replace('Microsoft.Cache', 'microsoft.cache'),
      }));
    });
    assert.deepEqual(linkProblems(armCase), []);
  });
});
