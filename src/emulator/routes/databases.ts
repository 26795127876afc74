/**
 * Microsoft.Cache/redisEnterprise/{cluster}/databases: list, get, create (PUT, with geo-replication),
 * update (PATCH), delete, and the POST actions (database-actions.ts). Mutations are long-running
 * operations whose effects apply when they succeed (lro.ts).
 */
import { z } from 'zod';
import { ArmError } from '../errors';
import { lroHeaders, type OperationRecord } from '../lro';
import type { OperationName } from '../operations';
import {
  DATABASE_TYPE,
  isValidResourceName,
  type DatabaseRecord,
  type DatabaseSettings,
  type LinkedDatabase,
} from '../store';
import {
  REDIS_API_VERSIONS,
  REDIS_NEWER_API_VERSIONS,
  compact,
  matchPath,
  methodNotAllowed,
  parseBody,
  type ArmRequest,
  type ArmResponse,
  type ArmServices,
  type Route,
  type RouteResolver,
} from './common';
import { flush, forceLink, forceUnlink, listKeys, regenerateKey } from './database-actions';
import {
  NAME_RULE,
  accepted,
  databaseScope,
  idRef,
  renderDatabase,
  requireDatabase,
  requireIdle,
  sameId,
  startLro,
  type DatabaseScope,
} from './database-shared';
import { givenCase, givenCaseAll, groupPartToJoin } from './geo-replication';
import { CLUSTER_PATH, clusterScope, requireCluster } from './redis-enterprise';

export { renderDatabase } from './database-shared';

const DATABASES_PATH = [...CLUSTER_PATH, 'databases'];
const DATABASE_PATH = [...DATABASES_PATH, '{databaseName}'];
const ACTION_PATH = [...DATABASE_PATH, '{action}'];

// ---- request bodies --------------------------------------------------------------------------

const evictionPolicy = z.enum([
  'AllKeysLFU',
  'AllKeysLRU',
  'AllKeysRandom',
  'VolatileLRU',
  'VolatileLFU',
  'VolatileTTL',
  'VolatileRandom',
  'NoEviction',
]);
const persistence = z.object({
  aofEnabled: z.boolean().optional(),
  rdbEnabled: z.boolean().optional(),
  aofFrequency: z.enum(['1s', 'always']).optional(),
  rdbFrequency: z.enum(['1h', '6h', '12h']).optional(),
});
const mutableProperties = {
  clientProtocol: z.enum(['Encrypted', 'Plaintext']).optional(),
  clusteringPolicy: z.enum(['EnterpriseCluster', 'OSSCluster', 'NoCluster']).optional(),
  evictionPolicy: evictionPolicy.optional(),
  persistence: persistence.optional(),
  accessKeysAuthentication: z.enum(['Enabled', 'Disabled']).optional(),
  deferUpgrade: z.enum(['Deferred', 'NotDeferred']).optional(),
  notifyKeyspaceEvents: z.string().optional(),
};
const createBody = z.object({
  properties: z
    .object({
      ...mutableProperties,
      port: z.number().int().min(0).max(65535).optional(),
      modules: z.array(z.object({ name: z.string().min(1), args: z.string().optional() })).optional(),
      geoReplication: z
        .object({ groupNickname: z.string().min(1), linkedDatabases: z.array(idRef).optional() })
        .optional(),
    })
    .optional(),
});
const updateBody = z.object({ properties: z.object(mutableProperties).optional() });
type UpdateProperties = NonNullable<z.output<typeof updateBody>['properties']>;

// ---- routes ----------------------------------------------------------------------------------

const ACTIONS: Record<string, OperationName> = {
  forceunlink: 'forceUnlink',
  forcelinktoreplicationgroup: 'forceLinkToReplicationGroup',
  flush: 'flush',
  listkeys: 'listKeys',
  regeneratekey: 'regenerateKey',
};

export const databaseRoutes: RouteResolver = (method, segments, services): Route | undefined => {
  let params = matchPath(segments, DATABASES_PATH);
  if (params) {
    if (method !== 'GET') methodNotAllowed(method, DATABASE_TYPE, ['GET']);
    const scope = clusterScope(params, services);
    return {
      operation: 'listDatabases',
      resourceType: DATABASE_TYPE,
      apiVersions: REDIS_API_VERSIONS,
      resourceId: `${scope.clusterId}/databases`,
      region: scope.cluster?.location,
      handle: () => {
        const cluster = requireCluster(scope, services, true);
        return { status: 200, body: { value: services.store.databasesOf(cluster.id).map(renderDatabase) } };
      },
    };
  }
  params = matchPath(segments, DATABASE_PATH);
  if (params) {
    const scope = databaseScope(params, services);
    const base = {
      resourceType: DATABASE_TYPE,
      apiVersions: REDIS_API_VERSIONS,
      resourceId: scope.databaseId,
      region: scope.cluster?.location,
    };
    switch (method) {
      case 'GET':
        return {
          ...base,
          operation: 'getDatabase',
          handle: () => ({ status: 200, body: renderDatabase(requireDatabase(scope, services)) }),
        };
      case 'PUT':
        return { ...base, operation: 'create', handle: (req) => putDatabase(req, scope, services) };
      case 'PATCH':
        return { ...base, operation: 'update', handle: (req) => patchDatabase(req, scope, services) };
      case 'DELETE':
        return { ...base, operation: 'delete', handle: (req) => deleteDatabase(req, scope, services) };
      default:
        return methodNotAllowed(method, DATABASE_TYPE, ['GET', 'PUT', 'PATCH', 'DELETE']);
    }
  }
  params = matchPath(segments, ACTION_PATH);
  if (params) {
    const operation = ACTIONS[(params.action ?? '').toLowerCase()];
    if (!operation) return undefined;
    if (method !== 'POST') methodNotAllowed(method, `${DATABASE_TYPE}/${params.action}`, ['POST']);
    const scope = databaseScope(params, services);
    const handlers: Partial<Record<OperationName, (req: ArmRequest) => ArmResponse | Promise<ArmResponse>>> = {
      forceUnlink: (req) => forceUnlink(req, scope, services),
      forceLinkToReplicationGroup: (req) => forceLink(req, scope, services),
      flush: (req) => flush(req, scope, services),
      listKeys: () => listKeys(scope, services),
      regenerateKey: (req) => regenerateKey(req, scope, services),
    };
    const handle = handlers[operation];
    if (!handle) return undefined;
    return {
      operation,
      resourceType: `${DATABASE_TYPE}/${params.action}`,
      apiVersions:
        operation === 'flush' || operation === 'forceLinkToReplicationGroup'
          ? REDIS_NEWER_API_VERSIONS
          : REDIS_API_VERSIONS,
      resourceId: scope.databaseId,
      region: scope.cluster?.location,
      handle,
    };
  }
  return undefined;
};

// ---- PUT: create (or update an existing database) --------------------------------------------

async function putDatabase(req: ArmRequest, scope: DatabaseScope, services: ArmServices): Promise<ArmResponse> {
  if (!isValidResourceName(scope.databaseName)) {
    throw ArmError.invalidResourceName('database name', scope.databaseName, NAME_RULE);
  }
  const cluster = requireCluster(scope, services, true);
  const body = parseBody(createBody, req.body, { required: true });
  const props = body?.properties ?? {};
  const existing = scope.database;
  if (existing && existing.resourceState !== 'CreateFailed') {
    requireIdle(existing);
    if (props.geoReplication) {
      const current = existing.geoReplication?.groupNickname;
      if (!current || current.toLowerCase() !== props.geoReplication.groupNickname.toLowerCase()) {
        throw ArmError.badRequest('geoReplication can only be set when the database is created.', 'geoReplication');
      }
    }
    if (props.modules) {
      const names = (ms: { name: string }[]): string =>
        ms
          .map((m) => m.name.toLowerCase())
          .sort()
          .join(',');
      if (names(props.modules) !== names(existing.settings.modules)) {
        throw ArmError.badRequest('modules can only be set when the database is created.', 'modules');
      }
    }
    const op = startUpdate(req, services, existing, props);
    return {
      status: 200,
      body: renderDatabase(existing),
      headers: lroHeaders(req.baseUrl, op, { retryAfterSeconds: services.lro.retryAfterSeconds, location: false }),
    };
  }
  if (existing) requireIdle(existing);

  const slot = services.store.slot(scope.databaseId);
  if (!slot) {
    throw ArmError.badRequest(
      `The emulator can only create the database 'default' (or a database of the scenario) under '${cluster.name}': Azure Managed Redis has one database per cluster.`,
      'databaseName',
    );
  }
  const settings: DatabaseSettings = {
    clientProtocol: props.clientProtocol ?? 'Encrypted',
    clusteringPolicy: props.clusteringPolicy ?? 'OSSCluster',
    evictionPolicy: props.evictionPolicy ?? 'VolatileLRU',
    modules: (props.modules ?? []).map((m) => ({ name: m.name, args: m.args })),
    persistence: {
      aofEnabled: props.persistence?.aofEnabled ?? false,
      rdbEnabled: props.persistence?.rdbEnabled ?? false,
      aofFrequency: props.persistence?.aofFrequency,
      rdbFrequency: props.persistence?.rdbFrequency,
    },
    accessKeysAuthentication: props.accessKeysAuthentication ?? 'Enabled',
    deferUpgrade: props.deferUpgrade ?? 'NotDeferred',
    notifyKeyspaceEvents: props.notifyKeyspaceEvents ?? '',
  };
  if (settings.clientProtocol !== slot.clientProtocol) {
    throw ArmError.badRequest(
      `The emulator's redis-server for '${slot.id}' serves ${slot.clientProtocol === 'Encrypted' ? 'TLS' : 'plain text'}; clientProtocol '${settings.clientProtocol}' is not supported for it.`,
      'clientProtocol',
    );
  }
  const id = slot.id;
  let part: string[] = [];
  let listedIds: string[] = [];
  let geo: DatabaseRecord['geoReplication'];
  if (props.geoReplication) {
    const nickname = props.geoReplication.groupNickname;
    const listed = props.geoReplication.linkedDatabases ?? [];
    listedIds = listed;
    if (listed.length > 0 && !listed.some((l) => sameId(l, id))) {
      throw ArmError.badRequest(
        `geoReplication.linkedDatabases must list the database being created ('${id}') and every existing member.`,
        'geoReplication.linkedDatabases',
      );
    }
    part = groupPartToJoin(
      services,
      { id, settings, skuName: cluster.sku.name },
      nickname,
      listed,
      'geoReplication.linkedDatabases',
    );
    geo = {
      groupNickname: nickname,
      linkedDatabases: [id, ...part].map((x): LinkedDatabase => ({ id: x, state: 'Linking' })),
    };
  }
  const record: DatabaseRecord = {
    id,
    clusterId: cluster.id,
    clusterName: cluster.name,
    name: slot.name,
    location: cluster.location,
    settings,
    port: services.dataPlane.endpoint(id).port,
    maxMemoryBytes: slot.maxMemoryBytes,
    provisioningState: 'Creating',
    resourceState: 'Creating',
    geoReplication: geo,
    keys: services.newKeys(),
  };
  services.store.addDatabase(record);
  const op = startLro(req, services, {
    name: 'create',
    target: record,
    running: ['Creating', 'Creating'],
    failed: ['Failed', 'CreateFailed'],
    result: { kind: 'resource', render: () => currentRender(services, id) },
    apply: async () => {
      const { dataPlane } = services;
      if (!dataPlane.isRunning(id)) await dataPlane.startDatabase(id);
      // A new database starts empty, with its own key.
      await dataPlane.flush(id);
      await dataPlane.setPassword(id, record.keys.primaryKey);
      if (geo) services.store.link(givenCase(listedIds, id), geo.groupNickname, givenCaseAll(listedIds, part));
    },
    onFail: () => {
      const db = services.store.database(id);
      if (db?.geoReplication) {
        db.geoReplication.linkedDatabases = db.geoReplication.linkedDatabases.map((l) => ({
          ...l,
          state: 'LinkFailed',
        }));
      }
    },
  });
  services.log(`create ${id}${geo ? ` joining ${geo.groupNickname} with ${part.length} member(s)` : ''}`);
  return {
    status: 201,
    body: renderDatabase(record),
    headers: lroHeaders(req.baseUrl, op, { retryAfterSeconds: services.lro.retryAfterSeconds, location: false }),
  };
}

function currentRender(services: ArmServices, id: string): Record<string, unknown> | undefined {
  const db = services.store.database(id);
  return db ? renderDatabase(db) : undefined;
}

function checkUpdate(db: DatabaseRecord, props: UpdateProperties): void {
  if (props.clientProtocol && props.clientProtocol !== db.settings.clientProtocol) {
    throw ArmError.badRequest(
      'The emulator cannot change clientProtocol of an existing database (its redis-server keeps its TLS setting).',
      'clientProtocol',
    );
  }
  if (
    props.clusteringPolicy &&
    props.clusteringPolicy !== db.settings.clusteringPolicy &&
    db.settings.clusteringPolicy !== 'NoCluster'
  ) {
    throw ArmError.badRequest(
      `clusteringPolicy can only be changed when it is NoCluster; it is ${db.settings.clusteringPolicy}.`,
      'clusteringPolicy',
    );
  }
  if (db.geoReplication && (props.persistence?.aofEnabled || props.persistence?.rdbEnabled)) {
    throw ArmError.badRequest('Persistence is not supported with active geo-replication.', 'persistence');
  }
}

function startUpdate(
  req: ArmRequest,
  services: ArmServices,
  db: DatabaseRecord,
  props: UpdateProperties,
): OperationRecord {
  checkUpdate(db, props);
  return startLro(req, services, {
    name: req.method === 'PUT' ? 'create' : 'update',
    target: db,
    running: ['Updating', 'Updating'],
    failed: ['Failed', 'UpdateFailed'],
    result: { kind: 'resource', render: () => currentRender(services, db.id) },
    apply: async () => {
      const current = services.store.database(db.id);
      if (!current) return;
      const s = current.settings;
      if (props.clusteringPolicy) s.clusteringPolicy = props.clusteringPolicy;
      if (props.evictionPolicy) s.evictionPolicy = props.evictionPolicy;
      if (props.accessKeysAuthentication) s.accessKeysAuthentication = props.accessKeysAuthentication;
      if (props.deferUpgrade) s.deferUpgrade = props.deferUpgrade;
      if (props.notifyKeyspaceEvents !== undefined) s.notifyKeyspaceEvents = props.notifyKeyspaceEvents;
      if (props.persistence) s.persistence = { ...s.persistence, ...compact(props.persistence) };
    },
  });
}

// ---- PATCH, DELETE ---------------------------------------------------------------------------

function patchDatabase(req: ArmRequest, scope: DatabaseScope, services: ArmServices): ArmResponse {
  const db = requireDatabase(scope, services);
  const body = parseBody(updateBody, req.body, { required: true });
  requireIdle(db);
  return accepted(req, services, startUpdate(req, services, db, body?.properties ?? {}));
}

function deleteDatabase(req: ArmRequest, scope: DatabaseScope, services: ArmServices): ArmResponse {
  if (!isValidResourceName(scope.databaseName)) {
    throw ArmError.invalidResourceName('database name', scope.databaseName, NAME_RULE);
  }
  requireCluster(scope, services, true);
  const db = scope.database;
  // ARM answers 204 to a DELETE of a resource that does not exist.
  if (!db) return { status: 204 };
  requireIdle(db);
  const id = db.id;
  const op = startLro(req, services, {
    name: 'delete',
    target: db,
    running: ['Deleting', 'Deleting'],
    failed: ['Failed', 'DeleteFailed'],
    apply: async () => {
      if (services.dataPlane.isRunning(id)) await services.dataPlane.stopDatabase(id);
      services.store.removeDatabase(id);
      services.log(`deleted ${id}`);
    },
  });
  return accepted(req, services, op);
}
