import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisEnterpriseManagementClient } from '@azure/arm-redisenterprisecache';
import { createArmClients, type ArmClients } from '../../src/azure/clients';
import { beginForceLinkToReplicationGroupAndWait } from '../../src/azure/operation-specs';
import { formatDatabaseId, parseDatabaseId } from '../../src/azure/resource-ids';
import type { Emulator } from '../../src/emulator';
import { createArmHttpClient, type ArmHttpClient, type ArmHttpResponse } from '../helpers/arm-http';
import { listExamples, loadSpec, type SpecExample } from '../helpers/azure-fixtures';
import { emulatorCredential, startTestEmulator, withAccessKeys } from '../helpers/emulator';
import { SwaggerValidator } from '../helpers/swagger-validator';

/*
 * Every x-ms-example of an operation the emulator serves, replayed against the emulator: the example's
 * api-version, path parameters and request body, with its subscription, resource group and resource names
 * rewritten onto the default scenario's resources. Each response (initial, status polls, final GET) is
 * validated with ajv against the spec's schema for that operation and status code.
 *
 * Not generated, because the emulator does not serve them: RedisEnterprise_Create (cluster PUT) and
 * Profiles_CreateOrUpdate (profile PUT).
 */

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const GROUP = 'leaderboard';
const PROFILE = 'tm-leaderboard';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
type Region = (typeof REGIONS)[number];
const E: Region = 'eastus';
const W: Region = 'westeurope';
const S: Region = 'southeastasia';
const cluster = (r: Region): string => `redis-leaderboard-${r}`;
const dbId = (r: Region): string =>
  formatDatabaseId({ subscriptionId: SUB, resourceGroupName: RG, clusterName: cluster(r), databaseName: 'default' });
const POLL = { updateIntervalInMs: 20 };

const redisSpec = new SwaggerValidator('redisenterprise', loadSpec('redisenterprise.2026-08-01.json'));
const tmSpec = new SwaggerValidator('trafficmanager', loadSpec('trafficmanager.2022-04-01.json'));

/** Examples from the older spec layout carry no operationId: named here by file. */
const OPERATION_BY_FILE: Record<string, string> = {
  'redisenterprise/2022-01-01/RedisEnterpriseDatabasesCreateWithGeoReplication.json': 'Databases_Create',
  'redisenterprise/2022-01-01/RedisEnterpriseDatabasesForceUnlink.json': 'Databases_ForceUnlink',
  'trafficmanager/Endpoint-GET-External-WithLocation.json': 'Endpoints_Get',
  'trafficmanager/Profile-GET-WithEndpoints.json': 'Profiles_Get',
};

const EXAMPLES = new Map<string, SpecExample>(
  ['redisenterprise', 'redisenterprise/2022-01-01', 'trafficmanager'].flatMap((dir) =>
    listExamples(dir).map(({ file, example }) => [file, example] as const),
  ),
);

function example(file: string): { example: SpecExample; operationId: string } {
  const found = EXAMPLES.get(file);
  if (!found) throw new Error(`no example ${file}`);
  const operationId = found.operationId ?? OPERATION_BY_FILE[file];
  if (!operationId) throw new Error(`${file}: no operationId`);
  return { example: found, operationId };
}

interface Mapping {
  /** example cluster name → scenario region */
  clusters?: Record<string, Region>;
  /** example endpoint name → endpoint name to use */
  endpoints?: Record<string, string>;
  /** path parameters to override (location, operationId) */
  path?: Record<string, string>;
  /** last adjustment of the rewritten body */
  body?: (body: Record<string, unknown>) => void;
}

/** Rewrites every Redis database id and Traffic Manager id in the example body onto the scenario. */
function rewriteStrings(value: unknown, mapping: Mapping): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteStrings(v, mapping));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteStrings(v, mapping)]));
  }
  if (typeof value !== 'string') return value;
  const redis =
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Cache\/redisEnterprise\/([^/]+)\/databases\/([^/]+)$/i.exec(
      value,
    );
  if (redis) {
    const region = mapping.clusters?.[redis[1] as string];
    if (!region) throw new Error(`example names cluster ${redis[1]}, which the mapping does not place`);
    return dbId(region);
  }
  const tm =
    /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Network\/trafficManagerProfiles\/[^/]+(?:\/([^/]+)\/([^/]+))?$/i.exec(
      value,
    );
  if (tm) {
    const profileId = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficManagerProfiles/${PROFILE}`;
    if (!tm[1]) return profileId;
    return `${profileId}/${tm[1]}/${mapping.endpoints?.[tm[2] as string] ?? tm[2]}`;
  }
  return value;
}

interface Replayed {
  initial: ArmHttpResponse;
  polls: ArmHttpResponse[];
  final?: ArmHttpResponse;
}

function assertValid(
  validator: SwaggerValidator,
  operationId: string,
  r: ArmHttpResponse,
  what: string,
  require: string[] = [],
): void {
  const result = validator.validate(operationId, { status: r.status, headers: r.headers, body: r.body }, require);
  assert.ok(
    result.valid,
    `${what}: ${operationId} ${r.status} does not match the spec:\n  ${result.errors.join('\n  ')}\n  body: ${r.text.slice(0, 2000)}`,
  );
}

/** Properties the example's response shows that the emulator's response lacks (reported, not failed). */
const missingProperties = new Map<string, Set<string>>();

function noteMissing(file: string, expected: unknown, actual: unknown, at = ''): void {
  if (expected && typeof expected === 'object' && !Array.isArray(expected)) {
    for (const [k, v] of Object.entries(expected)) {
      const a = actual && typeof actual === 'object' ? (actual as Record<string, unknown>)[k] : undefined;
      if (a === undefined) {
        const set = missingProperties.get(file) ?? new Set<string>();
        set.add(`${at}${k}`);
        missingProperties.set(file, set);
      } else {
        noteMissing(file, v, a, `${at}${k}.`);
      }
    }
  } else if (Array.isArray(expected) && Array.isArray(actual) && expected.length > 0 && actual.length > 0) {
    noteMissing(file, expected[0], actual[0], `${at}[].`);
  }
}

describe('spec examples replayed against the emulator', function () {
  this.timeout(30_000);
  let emulator: Emulator;
  let http: ArmHttpClient;
  let clients: ArmClients;
  let redis: RedisEnterpriseManagementClient;

  before(async () => {
    // The ListKeys example needs access keys Enabled.
    emulator = await startTestEmulator({ scenario: withAccessKeys() });
    http = createArmHttpClient(emulator.arm, emulator.caPem, emulatorCredential(emulator));
    clients = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      keepAlive: false,
    });
    redis = clients.redis;
  });
  after(async () => {
    await emulator?.close();
    if (missingProperties.size > 0 && process.env.GEOFAILOVER_REPORT_MISSING) {
      for (const [file, props] of missingProperties) {
        process.stderr.write(`[spec-examples] ${file}: the emulator omits ${[...props].join(', ')}\n`);
      }
    }
  });

  /** Sends the example's request (rewritten by `mapping`), validates, and follows an LRO to its end. */
  async function replay(file: string, mapping: Mapping): Promise<Replayed> {
    const { example: ex, operationId } = example(file);
    const validator = file.startsWith('trafficmanager/') ? tmSpec : redisSpec;
    const params = ex.parameters;
    const apiVersion = String(params['api-version']);
    const route = validator.route(operationId);
    const pathValues: Record<string, string> = {
      subscriptionId: SUB,
      resourceGroupName: RG,
      ...(typeof params.clusterName === 'string'
        ? { clusterName: cluster(mapping.clusters?.[params.clusterName] ?? E) }
        : {}),
      ...(typeof params.databaseName === 'string' ? { databaseName: params.databaseName } : {}),
      ...(typeof params.profileName === 'string' ? { profileName: PROFILE } : {}),
      ...(typeof params.endpointType === 'string' ? { endpointType: params.endpointType } : {}),
      ...(typeof params.endpointName === 'string'
        ? { endpointName: mapping.endpoints?.[params.endpointName] ?? params.endpointName }
        : {}),
      ...mapping.path,
    };
    const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = pathValues[name];
      if (v === undefined) throw new Error(`${file}: no value for path parameter ${name}`);
      return encodeURIComponent(v);
    });
    let body: unknown;
    if (params.parameters !== undefined) {
      const rewritten = rewriteStrings(params.parameters, mapping) as Record<string, unknown>;
      mapping.body?.(rewritten);
      body = rewritten;
    }
    const url = `${path}?api-version=${encodeURIComponent(apiVersion)}`;
    const initial = await http.request(route.method, url, body);
    const allowed = Object.keys(ex.responses);
    assert.ok(
      allowed.includes(String(initial.status)),
      `${file}: status ${initial.status}, the example shows ${allowed.join('/')}: ${initial.text.slice(0, 1000)}`,
    );
    // For a long-running operation's 201/202 the polling headers the spec declares must be there: the SDK needs them.
    const requireHeaders = validator
      .declaredHeaders(operationId, initial.status)
      .filter((h) => /^(azure-asyncoperation|location)$/i.test(h));
    assertValid(validator, operationId, initial, `${file} initial response`, requireHeaders);
    noteMissing(file, ex.responses[String(initial.status)]?.body, initial.body);
    const result: Replayed = { initial, polls: [] };
    const statusUrl = initial.headers['azure-asyncoperation'];
    if (!statusUrl) return result;

    assert.equal(
      new URL(statusUrl).searchParams.get('api-version'),
      apiVersion,
      'the status URL keeps the api-version',
    );
    const deadline = Date.now() + 15_000;
    for (;;) {
      const poll = await http.request('GET', statusUrl);
      result.polls.push(poll);
      assertValid(redisSpec, 'OperationsStatus_Get', poll, `${file} status poll`);
      const status = String((poll.body as { status?: unknown }).status ?? '');
      if (/^(succeeded|failed|canceled)$/i.test(status)) {
        assert.equal(status, 'Succeeded', `${file}: operation ended ${status}: ${poll.text}`);
        break;
      }
      assert.ok(Date.now() < deadline, `${file}: operation still ${status} after 15 s`);
      await sleep(25);
    }
    if (operationId === 'Databases_Create' || operationId === 'Databases_Update') {
      // final-state-via original-uri / azure-async-operation: the SDK reads the resource itself
      const final = await http.request('GET', url);
      assertValid(redisSpec, 'Databases_Get', final, `${file} final GET`);
      assert.equal(
        (final.body as { properties?: { provisioningState?: string } }).properties?.provisioningState,
        'Succeeded',
      );
      result.final = final;
    } else if (operationId === 'Databases_Flush') {
      // final-state-via location
      const location = initial.headers.location;
      assert.ok(location, `${file}: Location`);
      const final = await http.request('GET', location);
      assert.ok([200, 204].includes(final.status), `${file}: Location answered ${final.status}: ${final.text}`);
      result.final = final;
    }
    return result;
  }

  // ---- state helpers (through the SDK) -------------------------------------------------------

  async function listedBy(r: Region): Promise<string[]> {
    const db = await redis.databases.get(RG, cluster(r), 'default');
    return (db.geoReplication?.linkedDatabases ?? []).map((l) => (l.id ?? '').toLowerCase());
  }

  async function exists(r: Region): Promise<boolean> {
    return redis.databases.get(RG, cluster(r), 'default').then(
      () => true,
      (e: { statusCode?: number }) => {
        if (e.statusCode === 404) return false;
        throw e;
      },
    );
  }

  /** Force-unlinks `r` (from a survivor) when the survivors still list it. */
  async function ensureUnlinked(r: Region): Promise<void> {
    const survivor = REGIONS.find((x) => x !== r) as Region;
    if ((await exists(r)) && (await listedBy(survivor)).includes(dbId(r).toLowerCase())) {
      await redis.databases.beginForceUnlinkAndWait(RG, cluster(survivor), 'default', { ids: [dbId(r)] }, POLL);
    }
  }

  async function ensureDeleted(r: Region): Promise<void> {
    await ensureUnlinked(r);
    await redis.databases.beginDeleteAndWait(RG, cluster(r), 'default', POLL);
  }

  /** Brings the group back to three linked members. */
  async function ensureWhole(): Promise<void> {
    for (const r of REGIONS) {
      const others = REGIONS.filter((x) => x !== r);
      const linked = (await exists(r)) && (await listedBy(others[0] as Region)).includes(dbId(r).toLowerCase());
      if (linked) continue;
      const ids = [r, ...others].map((x) => ({ id: dbId(x) }));
      if (await exists(r)) {
        const db = await redis.databases.get(RG, cluster(r), 'default');
        if (db.geoReplication) {
          await beginForceLinkToReplicationGroupAndWait(
            redis,
            RG,
            cluster(r),
            'default',
            { geoReplication: { groupNickname: GROUP, linkedDatabases: ids } },
            POLL,
          );
          continue;
        }
        await redis.databases.beginDeleteAndWait(RG, cluster(r), 'default', POLL);
      }
      await redis.databases.beginCreateAndWait(
        RG,
        cluster(r),
        'default',
        {
          clientProtocol: 'Encrypted',
          clusteringPolicy: 'EnterpriseCluster',
          evictionPolicy: 'NoEviction',
          geoReplication: { groupNickname: GROUP, linkedDatabases: ids },
        },
        POLL,
      );
    }
    for (const r of REGIONS) {
      assert.deepEqual((await listedBy(r)).sort(), REGIONS.map((x) => dbId(x).toLowerCase()).sort(), `${r} is whole`);
    }
  }

  /** The ids the body must list besides the example's own: every reachable member of the group part joined. */
  function completeLinkedDatabases(target: Region): (body: Record<string, unknown>) => void {
    return (body) => {
      const geo = ((body.properties as Record<string, unknown> | undefined)?.geoReplication ?? body.geoReplication) as {
        groupNickname?: string;
        linkedDatabases?: { id: string }[];
      };
      geo.groupNickname = GROUP;
      const listed = new Set((geo.linkedDatabases ?? []).map((l) => l.id.toLowerCase()));
      for (const r of [target, ...REGIONS.filter((x) => x !== target)]) {
        if (!listed.has(dbId(r).toLowerCase())) (geo.linkedDatabases ??= []).push({ id: dbId(r) });
      }
    };
  }

  // ---- Microsoft.Cache/redisEnterprise -------------------------------------------------------

  describe('Redis Enterprise', () => {
    afterEach(async () => {
      await emulator.faults.reset();
    });

    it('RedisEnterpriseGet.json (RedisEnterprise_Get)', async () => {
      const { initial } = await replay('redisenterprise/RedisEnterpriseGet.json', { clusters: { cache1: E } });
      assert.equal((initial.body as { name?: string }).name, cluster(E));
    });

    it('RedisEnterpriseDatabasesGet.json (Databases_Get)', async () => {
      const { initial } = await replay('redisenterprise/RedisEnterpriseDatabasesGet.json', { clusters: { cache1: E } });
      assert.equal((initial.body as { id?: string }).id, dbId(E));
    });

    it('RedisEnterpriseDatabasesListByCluster.json (Databases_ListByCluster)', async () => {
      const { initial } = await replay('redisenterprise/RedisEnterpriseDatabasesListByCluster.json', {
        clusters: { cache1: E },
      });
      assert.deepEqual(
        (initial.body as { value: { id: string }[] }).value.map((d) => d.id),
        [dbId(E)],
      );
    });

    it('RedisEnterpriseDatabasesListKeys.json (Databases_ListKeys)', async () => {
      const { initial } = await replay('redisenterprise/RedisEnterpriseDatabasesListKeys.json', {
        clusters: { cache1: E },
      });
      assert.ok((initial.body as { primaryKey?: string }).primaryKey);
    });

    it('RedisEnterpriseDatabasesForceUnlink.json (Databases_ForceUnlink, 2026-08-01)', async () => {
      try {
        await replay('redisenterprise/RedisEnterpriseDatabasesForceUnlink.json', {
          clusters: { cache1: W, cache2: S },
        });
        assert.ok(!(await listedBy(W)).includes(dbId(S).toLowerCase()), 'the survivor no longer lists the member');
      } finally {
        await ensureWhole();
      }
    });

    it('2022-01-01/RedisEnterpriseDatabasesForceUnlink.json (Databases_ForceUnlink, 2022-01-01)', async () => {
      try {
        await replay('redisenterprise/2022-01-01/RedisEnterpriseDatabasesForceUnlink.json', {
          clusters: { cache1: W, cache2: S },
        });
        assert.ok(!(await listedBy(E)).includes(dbId(S).toLowerCase()), 'every survivor drops the member');
      } finally {
        await ensureWhole();
      }
    });

    it('RedisEnterpriseDatabasesForceLink.json (Databases_ForceLinkToReplicationGroup)', async () => {
      await ensureUnlinked(S);
      try {
        const { initial } = await replay('redisenterprise/RedisEnterpriseDatabasesForceLink.json', {
          clusters: { cache1: S, cache2: W },
          body: completeLinkedDatabases(S),
        });
        assert.equal(initial.status, 202);
        assert.ok((await listedBy(E)).includes(dbId(S).toLowerCase()), 'the rejoined member is linked again');
      } finally {
        await ensureWhole();
      }
    });

    it('RedisEnterpriseDatabasesFlush.json (Databases_Flush)', async () => {
      await replay('redisenterprise/RedisEnterpriseDatabasesFlush.json', { clusters: { cache1: E, cache2: W } });
    });

    it('OperationsStatusGet.json (OperationsStatus_Get)', async () => {
      const { initial } = await replay('redisenterprise/RedisEnterpriseDatabasesFlush.json', {
        clusters: { cache1: E, cache2: W },
      });
      const statusUrl = initial.headers['azure-asyncoperation'];
      assert.ok(statusUrl, 'a flush that returned an operation');
      const m = /\/locations\/([^/]+)\/operationsStatus\/([^/?]+)/i.exec(new URL(statusUrl).pathname);
      assert.ok(m, statusUrl);
      // the example names the region by display name ("West US"); ask for ours the same way
      const { initial: status } = await replay('redisenterprise/OperationsStatusGet.json', {
        path: { location: 'East US', operationId: decodeURIComponent(m[2] as string) },
      });
      assert.equal((status.body as { status?: string }).status, 'Succeeded');
      assert.equal((status.body as { name?: string }).name, decodeURIComponent(m[2] as string));
    });

    it('RedisEnterpriseDatabasesUpdate.json (Databases_Update) on a database outside any group', async () => {
      // The example turns on persistence and AllKeysLRU, which a geo-replicated database refuses: use a standalone one.
      await ensureDeleted(S);
      try {
        await redis.databases.beginCreateAndWait(
          RG,
          cluster(S),
          'default',
          { clientProtocol: 'Encrypted', clusteringPolicy: 'EnterpriseCluster', evictionPolicy: 'NoEviction' },
          POLL,
        );
        const { final } = await replay('redisenterprise/RedisEnterpriseDatabasesUpdate.json', {
          clusters: { cache1: S },
        });
        const props = (final?.body as { properties?: Record<string, unknown> }).properties ?? {};
        assert.equal(props.evictionPolicy, 'AllKeysLRU');
        assert.equal(props.notifyKeyspaceEvents, 'KEA');
        assert.deepEqual(props.persistence, { aofEnabled: false, rdbEnabled: true, rdbFrequency: '12h' });
      } finally {
        await redis.databases.beginDeleteAndWait(RG, cluster(S), 'default', POLL);
        await ensureWhole();
      }
    });

    for (const file of [
      'redisenterprise/RedisEnterpriseDatabasesCreateWithGeoReplication.json',
      'redisenterprise/2022-01-01/RedisEnterpriseDatabasesCreateWithGeoReplication.json',
    ]) {
      it(`${file.replace('redisenterprise/', '')} (Databases_Create with geoReplication)`, async () => {
        await ensureDeleted(S);
        try {
          const { initial, final } = await replay(file, {
            clusters: { cache1: S, cache2: W },
            body: completeLinkedDatabases(S),
          });
          assert.equal(initial.status, 201);
          const created = initial.body as {
            properties?: { provisioningState?: string; geoReplication?: { linkedDatabases?: { state?: string }[] } };
          };
          assert.equal(created.properties?.provisioningState, 'Creating');
          assert.ok(
            (created.properties?.geoReplication?.linkedDatabases ?? []).every((l) => l.state === 'Linking'),
            'links show Linking while the create runs',
          );
          const linked = (
            final?.body as { properties?: { geoReplication?: { linkedDatabases?: { id: string; state: string }[] } } }
          ).properties?.geoReplication?.linkedDatabases;
          assert.deepEqual(
            (linked ?? []).map((l) => [parseDatabaseId(l.id).clusterName, l.state]).sort(),
            REGIONS.map((r) => [cluster(r), 'Linked']).sort(),
          );
        } finally {
          await ensureWhole();
        }
      });
    }
  });

  // ---- error responses (the `default` response of each operation) ------------------------------

  describe('error responses', () => {
    const dbPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise`;
    const tmPath = `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Network/trafficmanagerprofiles/${PROFILE}`;

    function assertArmError(r: ArmHttpResponse, status: number, code: RegExp): void {
      assert.equal(r.status, status, r.text);
      const error = (r.body as { error?: { code?: string; message?: string } }).error;
      assert.match(error?.code ?? '', code, r.text);
      assert.ok(error?.message, 'error.message');
      assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    }

    it('Databases_Get of a missing cluster: 404 with the ErrorResponse shape', async () => {
      const r = await http.request(
        'GET',
        `${dbPath}/redis-leaderboard-nowhere/databases/default?api-version=2026-08-01`,
      );
      assertArmError(r, 404, /^(ResourceNotFound|ParentResourceNotFound)$/);
      assertValid(redisSpec, 'Databases_Get', r, 'missing database');
    });

    it('an unsupported api-version: 400 with the ErrorResponse shape', async () => {
      const r = await http.request('GET', `${dbPath}/${cluster(E)}/databases/default?api-version=2019-01-01`);
      assertArmError(r, 400, /ApiVersion|NoRegisteredProviderFound/i);
      assertValid(redisSpec, 'Databases_Get', r, 'bad api-version');
    });

    it('Databases_ForceUnlink without its required body: 400 with the ErrorResponse shape', async () => {
      const r = await http.request(
        'POST',
        `${dbPath}/${cluster(W)}/databases/default/forceUnlink?api-version=2026-08-01`,
        {},
      );
      assertArmError(r, 400, /.+/);
      assertValid(redisSpec, 'Databases_ForceUnlink', r, 'forceUnlink without ids');
    });

    it('Endpoints_Get of a missing endpoint: 404 with the CloudError shape', async () => {
      const r = await http.request('GET', `${tmPath}/ExternalEndpoints/nowhere?api-version=2022-04-01`);
      assertArmError(r, 404, /^(ResourceNotFound|NotFound)$/);
      assertValid(tmSpec, 'Endpoints_Get', r, 'missing endpoint');
    });
  });

  // ---- Microsoft.Network/trafficmanagerprofiles -------------------------------------------------

  describe('Traffic Manager', () => {
    async function deleteEndpoint(name: string): Promise<void> {
      await clients.trafficManager.endpoints.delete(RG, PROFILE, 'ExternalEndpoints', name);
    }

    it('Profile-GET-WithEndpoints.json (Profiles_Get)', async () => {
      const { initial } = await replay('trafficmanager/Profile-GET-WithEndpoints.json', {});
      assert.equal((initial.body as { name?: string }).name, PROFILE);
    });

    it('Endpoint-GET-External-WithLocation.json (Endpoints_Get)', async () => {
      const { initial } = await replay('trafficmanager/Endpoint-GET-External-WithLocation.json', {
        endpoints: { azsmnet7187: 'eastus' },
      });
      assert.equal((initial.body as { name?: string }).name, 'eastus');
    });

    for (const [file, name] of [
      ['trafficmanager/Endpoint-PUT-External-WithLocation.json', 'example-with-location'],
      ['trafficmanager/Endpoint-PUT-External-WithAlwaysServe.json', 'example-always-serve'],
    ] as const) {
      it(`${file.replace('trafficmanager/', '')} (Endpoints_CreateOrUpdate)`, async () => {
        try {
          const { initial } = await replay(file, { endpoints: { azsmnet7187: name } });
          assert.equal(initial.status, 201, 'a new endpoint answers 201');
          const again = await replay(file, { endpoints: { azsmnet7187: name } });
          assert.equal(again.initial.status, 200, 'replacing it answers 200');
        } finally {
          await deleteEndpoint(name);
        }
      });
    }

    it('Endpoint-PATCH-External-Target.json (Endpoints_Update)', async () => {
      const name = 'example-patch';
      await clients.trafficManager.endpoints.createOrUpdate(RG, PROFILE, 'ExternalEndpoints', name, {
        target: 'foobar.contoso.com',
        endpointStatus: 'Enabled',
        endpointLocation: 'North Europe',
      });
      try {
        const { initial } = await replay('trafficmanager/Endpoint-PATCH-External-Target.json', {
          endpoints: { azsmnet7187: name },
        });
        const props = (initial.body as { properties?: Record<string, unknown> }).properties ?? {};
        assert.equal(props.target, 'another.foobar.contoso.com');
        assert.equal(props.endpointLocation, 'North Europe', 'PATCH merges');
      } finally {
        await deleteEndpoint(name);
      }
    });
  });
});
