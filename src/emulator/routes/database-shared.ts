/**
 * What the database routes share: finding the database a path names, the busy check, id handling,
 * the wire rendering, and starting a long-running operation on a database.
 */
import { z } from 'zod';
import { ArmError } from '../errors';
import { lroHeaders, type OperationRecord, type OperationResult } from '../lro';
import type { LroOperationName } from '../operations';
import {
  DATABASE_TYPE,
  databaseResourceId,
  isValidResourceName,
  parseDatabaseId,
  type ActiveOperation,
  type DatabaseRecord,
  type ProvisioningState,
  type ResourceState,
} from '../store';
import { compact, type ArmRequest, type ArmResponse, type ArmServices } from './common';
import { clusterScope, requireCluster, type ClusterScope } from './redis-enterprise';

export const NAME_RULE = '1-60 letters, digits and single dashes';
const DATABASE_ID_RULE =
  'a database resource id: /subscriptions/SUB/resourceGroups/RG/providers/Microsoft.Cache/redisEnterprise/CLUSTER/databases/NAME';

const MODULE_VERSIONS: Record<string, string> = {
  redisearch: '2.8.4',
  redisjson: '2.6.6',
  redisbloom: '2.6.3',
  redistimeseries: '1.10.4',
};

/** A database id, as a string (2022-01-01 style) or `{ id }` (LinkedDatabase style); both are accepted. */
export const idRef = z
  .union([z.string(), z.object({ id: z.string() })], {
    error: 'expected a database resource id, as a string or as {"id": "..."}',
  })
  .transform((v) => (typeof v === 'string' ? v : v.id));

export function renderDatabase(db: DatabaseRecord): Record<string, unknown> {
  const geo = db.activeOperation?.geoView ?? db.geoReplication;
  const s = db.settings;
  return {
    id: db.id,
    name: `${db.clusterName}/${db.name}`,
    type: DATABASE_TYPE,
    properties: compact({
      clientProtocol: s.clientProtocol,
      port: db.port,
      provisioningState: db.provisioningState,
      resourceState: db.resourceState,
      clusteringPolicy: s.clusteringPolicy,
      evictionPolicy: s.evictionPolicy,
      persistence: compact({ ...s.persistence }),
      modules: s.modules.map((m) => ({
        name: m.name,
        args: m.args ?? '',
        version: m.version ?? MODULE_VERSIONS[m.name.toLowerCase()] ?? '1.0.0',
      })),
      geoReplication: geo
        ? {
            groupNickname: geo.groupNickname,
            linkedDatabases: geo.linkedDatabases.map((l) => ({ id: l.id, state: l.state })),
          }
        : undefined,
      redisVersion: '7.4',
      deferUpgrade: s.deferUpgrade,
      accessKeysAuthentication: s.accessKeysAuthentication,
      notifyKeyspaceEvents: s.notifyKeyspaceEvents,
    }),
  };
}

export interface DatabaseScope extends ClusterScope {
  databaseName: string;
  databaseId: string;
  database?: DatabaseRecord;
}

export function databaseScope(params: Record<string, string>, services: ArmServices): DatabaseScope {
  const scope = clusterScope(params, services);
  const databaseName = params.databaseName ?? '';
  const built = databaseResourceId(scope.clusterId, databaseName);
  const database = services.store.database(built);
  return { ...scope, databaseName, database, databaseId: database?.id ?? built };
}

export function requireDatabase(scope: DatabaseScope, services: ArmServices): DatabaseRecord {
  if (!isValidResourceName(scope.databaseName)) {
    throw ArmError.invalidResourceName('database name', scope.databaseName, NAME_RULE);
  }
  const cluster = requireCluster(scope, services, true);
  if (!scope.database) {
    throw ArmError.resourceNotFound(`${DATABASE_TYPE}/${cluster.name}/${scope.databaseName}`, cluster.resourceGroup);
  }
  return scope.database;
}

export function requireIdle(db: DatabaseRecord): void {
  if (db.activeOperation) throw ArmError.conflict(db.id, db.activeOperation.name, db.activeOperation.id);
}

export function parseIds(ids: readonly string[], field: string): string[] {
  return ids.map((id, i) => {
    if (!parseDatabaseId(id)) throw ArmError.invalidResourceName(`${field}[${i}]`, id, DATABASE_ID_RULE);
    return id;
  });
}

export function isDown(services: ArmServices, databaseId: string): boolean {
  const db = services.store.database(databaseId);
  return db !== undefined && services.faults.isRegionDown(db.location);
}

export function sameId(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/**
 * Azure's comparison of linked database ids: case-sensitive for the resource names (cluster, database); the
 * segments ARM resolves case-insensitively (keywords, subscription, resource group, provider namespace, types)
 * may differ in case.
 */
export function sameLinkedId(a: string, b: string): boolean {
  const x = a.split('/').filter(Boolean);
  const y = b.split('/').filter(Boolean);
  if (x.length !== y.length) return false;
  const providers = x.findIndex((seg) => seg.toLowerCase() === 'providers');
  return x.every((p, i) => {
    const q = y[i] as string;
    const offset = providers < 0 ? -1 : i - providers;
    return offset >= 3 && offset % 2 === 1 ? p === q : p.toLowerCase() === q.toLowerCase();
  });
}

export function unique(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return ids.filter((id) => {
    const k = id.toLowerCase();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
export interface LroSpec {
  name: LroOperationName;
  target: DatabaseRecord;
  running: [ProvisioningState, ResourceState];
  failed: [ProvisioningState, ResourceState];
  geoView?: ActiveOperation['geoView'];
  result?: OperationResult;
  /** applies the effects; the target's states return to Succeeded/Running afterwards when it still exists */
  apply(): Promise<void>;
  /** extra clean-up when the operation fails */
  onFail?(): void;
}

/** Starts a long-running operation on a database: marks it busy, consults LRO faults, counts it. */
export function startLro(req: ArmRequest, services: ArmServices, spec: LroSpec): OperationRecord {
  const { store } = services;
  const id = spec.target.id;
  const fault = services.faults.takeLroFault(spec.name, id);
  const op = services.operations.start({
    name: spec.name,
    resourceId: id,
    subscriptionId: store.subscriptionOf(id),
    location: spec.target.location,
    apiVersion: req.apiVersion,
    durationMs: fault?.durationMs ?? services.lro.durationMs + services.latencies.lroMs(),
    outcome: fault && (fault.fail || fault.cancel) ? { fail: fault.fail, cancel: fault.cancel } : undefined,
    result: spec.result,
    statusQuirks: services.faults.activeQuirks().operationStatus,
    effects: {
      succeed: async () => {
        await spec.apply();
        store.setActiveOperation(id, undefined);
        store.setStates(id, 'Succeeded', 'Running');
        await services.metadata.reconcile();
      },
      fail: (status) => {
        store.setActiveOperation(id, undefined);
        if (status === 'Canceled') store.setStates(id, 'Canceled', spec.failed[1]);
        else store.setStates(id, spec.failed[0], spec.failed[1]);
        spec.onFail?.();
      },
    },
  });
  store.setStates(id, spec.running[0], spec.running[1]);
  store.setActiveOperation(id, { id: op.id, name: spec.name, geoView: spec.geoView });
  services.counters.increment(id, spec.name);
  return op;
}

export function accepted(req: ArmRequest, services: ArmServices, op: OperationRecord): ArmResponse {
  return {
    status: 202,
    headers: lroHeaders(req.baseUrl, op, { retryAfterSeconds: services.lro.retryAfterSeconds, location: true }),
  };
}

export function requireRunning(services: ArmServices, id: string): void {
  if (!services.dataPlane.isRunning(id)) {
    throw new Error(`the redis-server of ${id} is not running`);
  }
}
