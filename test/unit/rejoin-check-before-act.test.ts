// rejoinMember checks before it acts, against a faked ARM (an in-process HTTP client answering the Azure SDK): a
// member already in the group — Linking or Linked as it and every other member report it — gets no call, and a
// member recreated into the group earlier is never deleted again, whatever its links read.
import assert from 'node:assert/strict';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createGeoReplicationActivities } from '../../src/activities/geo-replication';
import type { GeoReplicationActivities } from '../../src/activities/types';
import { createArmClients } from '../../src/azure/clients';
import { rejoinCheck, type MemberView } from '../../src/azure/rejoin-check';
import type { GroupDefinition } from '../../src/contract/runbook';
import { FakeHttpClient, type FakeReply, type RecordedRequest } from '../helpers/azure-fake-http';
import { activityAuthorization, policyFor } from '../helpers/people';
import { testGroup } from '../helpers/runbook-fakes';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const HOST = 'https://127.0.0.1:9';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
const REJOINING = 'eastus';
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-${region}/databases/default`;
const GROUP = 'leaderboard';
const RUN = { workflowId: `failover/${GROUP}`, runId: 'run-rejoin-check' };
const POLICY_GROUP: GroupDefinition = {
  ...testGroup([...REGIONS]),
  name: GROUP,
  members: Object.fromEntries(REGIONS.map((r) => [r, dbId(r)])),
};

type Links = Partial<Record<(typeof REGIONS)[number], string>>;

/** A database as ARM answers GET: its provisioning state and whom it lists in which state. */
function database(region: string, links: Links, provisioningState = 'Succeeded'): unknown {
  return {
    id: dbId(region),
    name: 'default',
    type: 'Microsoft.Cache/redisEnterprise/databases',
    properties: {
      provisioningState,
      resourceState: provisioningState === 'Succeeded' ? 'Running' : provisioningState,
      clientProtocol: 'Encrypted',
      port: 10000,
      clusteringPolicy: 'EnterpriseCluster',
      evictionPolicy: 'NoEviction',
      modules: [],
      geoReplication: {
        groupNickname: 'leaderboard',
        linkedDatabases: Object.entries(links).map(([r, state]) => ({ id: dbId(r), state })),
      },
    },
  };
}

/**
 * A faked ARM over the three databases: GET answers what `world()` says (a region absent from it: 404); every other
 * request is recorded as a call and answered as an accepted long-running operation that has succeeded.
 */
function fakeArm(world: () => Record<string, unknown>): { http: FakeHttpClient; calls: () => string[] } {
  const status = `${HOST}/subscriptions/${SUB}/providers/Microsoft.Cache/locations/eastus/operationsStatus/op1?api-version=x`;
  const http = new FakeHttpClient((r: RecordedRequest): FakeReply => {
    const path = new URL(r.url).pathname;
    if (r.method === 'GET' && path.includes('/operationsStatus/')) {
      return { status: 200, body: { id: 'op1', name: 'op1', status: 'Succeeded' } };
    }
    if (r.method === 'GET') {
      const region = REGIONS.find((x) => path.toLowerCase() === dbId(x).toLowerCase());
      const body = region ? world()[region] : undefined;
      return body
        ? { status: 200, body }
        : { status: 404, body: { error: { code: 'ResourceNotFound', message: `${path} not found` } } };
    }
    return { status: 202, headers: { 'Azure-AsyncOperation': status } };
  });
  const calls = (): string[] =>
    http.requests
      .filter((r) => r.method !== 'GET')
      .map((r) => `${r.method} ${new URL(r.url).pathname.split('/').slice(-3).join('/')}`);
  return { http, calls };
}

function activities(http: FakeHttpClient): GeoReplicationActivities {
  return createGeoReplicationActivities({
    arm: createArmClients({ subscriptionId: SUB, endpoint: HOST, httpClient: http, retryOptions: { maxRetries: 0 } }),
    callerCheck: async () => undefined,
    policies: (group) =>
      group === GROUP
        ? { found: true, policy: policyFor(POLICY_GROUP) }
        : { found: false, reason: `no group ${group}` },
  });
}

function rejoin(
  acts: GeoReplicationActivities,
  method: 'force-link' | 'recreate',
): ReturnType<GeoReplicationActivities['rejoinMember']> {
  const env = new MockActivityEnvironment({ workflowExecution: RUN }, { logger: new DefaultLogger('ERROR') });
  return env.run(() =>
    acts.rejoinMember({
      databaseId: dbId(REJOINING),
      groupNickname: 'leaderboard',
      memberDatabaseIds: REGIONS.map(dbId),
      method,
      pollIntervalMs: 5,
      group: GROUP,
      authorization: activityAuthorization(RUN, REGIONS.map(dbId), 'approval-rejoin'),
    }),
  );
}

/** Every member lists every member (itself included) in `state`, or as `links` says for the rejoining member. */
function group(survivorsSeeIt: string | undefined, itSees: string, provisioningState = 'Succeeded') {
  const survivor = (region: string): unknown =>
    database(region, {
      westeurope: 'Linked',
      southeastasia: 'Linked',
      ...(survivorsSeeIt !== undefined ? { eastus: survivorsSeeIt } : {}),
    });
  return {
    eastus: database('eastus', { eastus: itSees, westeurope: itSees, southeastasia: itSees }, provisioningState),
    westeurope: survivor('westeurope'),
    southeastasia: survivor('southeastasia'),
  };
}

describe('rejoinMember checks before it acts (faked ARM)', () => {
  for (const method of ['force-link', 'recreate'] as const) {
    it(`${method}: a member every member lists as Linking (and that lists them) is in the group — no call`, async () => {
      const { http, calls } = fakeArm(() => group('Linking', 'Linking'));
      const result = await rejoin(activities(http), method);
      assert.equal(result.skipped, true);
      assert.match(result.reason ?? '', /already in the group; nothing was called: redis-eastus is in the group/);
      assert.deepEqual(calls(), []);
    });
  }

  it('force-link: a force-unlinked member (its stale view lists the group, nobody lists it) is force-linked once', async () => {
    const { http, calls } = fakeArm(() => group(undefined, 'Linked'));
    const result = await rejoin(activities(http), 'force-link');
    assert.equal(result.skipped, false);
    assert.deepEqual(calls(), ['POST databases/default/forceLinkToReplicationGroup']);
  });

  it('recreate: a member recreated into the group earlier is not deleted again, even with its links LinkFailed', async () => {
    const { http, calls } = fakeArm(() => group('LinkFailed', 'LinkFailed'));
    const result = await rejoin(activities(http), 'recreate');
    assert.equal(result.skipped, true);
    assert.match(
      result.reason ?? '',
      /not deleted again: redis-eastus is already a member of leaderboard \(listed by redis-westeurope \(LinkFailed\), redis-southeastasia \(LinkFailed\)\)/,
    );
    assert.deepEqual(calls(), [], 'no DELETE, no PUT');
  });

  it('recreate: a member still being created waits for the create, then finds it in the group — no delete', async () => {
    let reads = 0;
    const { http, calls } = fakeArm(() => {
      reads += 1;
      // The create of an earlier attempt is in flight (its checkpoint was lost): Creating, nobody lists it yet.
      return reads <= 6 ? group(undefined, 'Linking', 'Creating') : group('Linked', 'Linked');
    });
    const result = await rejoin(activities(http), 'recreate');
    assert.equal(result.skipped, true);
    assert.match(result.reason ?? '', /already in the group/);
    assert.deepEqual(calls(), []);
  });
});

describe('rejoinCheck: is a member in its group, as it and every other member report it', () => {
  const view = (region: string, links: Links, more: Partial<MemberView> = {}): MemberView => ({
    id: dbId(region),
    name: region,
    reachable: true,
    exists: true,
    links: Object.entries(links).map(([r, state]) => ({ id: dbId(r), state })),
    ...more,
  });
  const survivors = (eastus?: string): MemberView[] =>
    ['westeurope', 'southeastasia'].map((r) =>
      view(r, { westeurope: 'Linked', southeastasia: 'Linked', ...(eastus ? { eastus } : {}) }),
    );

  it('Linking or Linked both ways: in the group', () => {
    const found = rejoinCheck(view('eastus', { westeurope: 'Linking', southeastasia: 'Linked' }), survivors('Linking'));
    assert.equal(found.inGroup, true);
    assert.deepEqual(found.problems, []);
  });

  it("a force-unlinked member's stale view (nobody lists it back): not in the group, listed by nobody", () => {
    const found = rejoinCheck(view('eastus', { westeurope: 'Linked', southeastasia: 'Linked' }), survivors());
    assert.equal(found.inGroup, false);
    assert.deepEqual(found.listedBy, []);
    assert.match(found.summary, /westeurope lists eastus as nothing; southeastasia lists eastus as nothing/);
  });

  it('LinkFailed, a member that could not be read, a member that does not exist: not in the group', () => {
    assert.deepEqual(
      rejoinCheck(view('eastus', { westeurope: 'Linked', southeastasia: 'Linked' }), survivors('LinkFailed')).listedBy,
      [
        { name: 'westeurope', state: 'LinkFailed' },
        { name: 'southeastasia', state: 'LinkFailed' },
      ],
    );
    const unread = survivors('Linked');
    unread[0] = { ...unread[0]!, reachable: false, links: [] };
    assert.match(
      rejoinCheck(view('eastus', { westeurope: 'Linked', southeastasia: 'Linked' }), unread).summary,
      /westeurope could not be read/,
    );
    assert.match(
      rejoinCheck(view('eastus', {}, { exists: false }), survivors('Linked')).summary,
      /eastus does not exist/,
    );
  });
});
