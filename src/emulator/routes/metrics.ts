/**
 * Azure Monitor metrics of the databases (Microsoft.Insights): the ARM per-resource
 * API and the regional batch API that `MetricsClient` (@azure/monitor-query-metrics) calls. The emulator
 * serves both on its ARM port; point a MetricsClient's endpoint at it.
 *
 *   GET  {databaseId}/providers/Microsoft.Insights/metrics?metricnames=…&aggregation=Maximum&interval=PT1M&api-version=2023-10-01
 *   POST /subscriptions/{sub}/metrics:getBatch?metricnamespace=Microsoft.Cache/redisEnterprise&metricnames=…&api-version=2024-02-01
 *        { "resourceids": [ ≤ 50 database ids, one subscription and region ] }
 *
 * Figures are measured when asked, from the database's real redis-server (INFO memory used_memory and
 * maxmemory, the same numbers the data plane reports): `usedmemory` (Bytes), `usedmemorypercentage`
 * (Percent, used/max, two decimals) and `geoReplicationHealthy` (1, or 0 while a linked member is in outage,
 * not Linked, or no longer lists this database back — it was unlinked). The emulator keeps no history: every
 * time series holds one point, the current minute; a database whose redis-server is stopped has a point
 * without a value, as Azure answers for minutes with no data.
 */
import { z } from 'zod';
import { ArmError } from '../errors';
import { DATABASE_TYPE, parseDatabaseId, type DatabaseRecord } from '../store';
import { matchPath, parseBody, type ArmRequest, type ArmServices, type Route } from './common';
import { databaseScope, requireDatabase } from './database-shared';
import { CLUSTER_PATH } from './redis-enterprise';

export const METRICS_API_VERSIONS = ['2018-01-01', '2023-10-01'] as const;
export const METRICS_BATCH_API_VERSIONS = ['2023-10-01', '2024-02-01'] as const;
export const METRIC_NAMESPACE = 'Microsoft.Cache/redisEnterprise';
const MAX_BATCH_RESOURCES = 50;
const DATABASE_METRICS_PATH = [
  ...CLUSTER_PATH,
  'databases',
  '{databaseName}',
  'providers',
  'Microsoft.Insights',
  'metrics',
];

interface MetricDefinition {
  name: string;
  displayName: string;
  description: string;
  unit: 'Bytes' | 'Percent' | 'Count';
}

const METRICS: readonly MetricDefinition[] = [
  {
    name: 'usedmemorypercentage',
    displayName: 'Used Memory Percentage',
    description: 'Percentage of the memory limit in use by the database.',
    unit: 'Percent',
  },
  {
    name: 'usedmemory',
    displayName: 'Used Memory',
    description: 'Memory used by the database, in bytes.',
    unit: 'Bytes',
  },
  {
    name: 'geoReplicationHealthy',
    displayName: 'Geo Replication Healthy',
    description: 'Whether the database replicates with every linked member: 1 healthy, 0 unhealthy.',
    unit: 'Count',
  },
];

const AGGREGATIONS = ['average', 'minimum', 'maximum', 'total', 'count'] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

const PER_RESOURCE_QUERY = [
  'metricnames',
  'aggregation',
  'interval',
  'timespan',
  'metricnamespace',
  'top',
  'orderby',
  '$filter',
  'resulttype',
  'autoadjusttimegrain',
  'validatedimensions',
  'rollupby',
];
const BATCH_QUERY = [
  'metricnames',
  'metricnamespace',
  'aggregation',
  'interval',
  'starttime',
  'endtime',
  'top',
  'orderby',
  'filter',
  'rollupby',
];

/** One database's figures now. */
interface Figures {
  usedmemorypercentage?: number;
  usedmemory?: number;
  geoReplicationHealthy: number;
}

/** The routes: per resource under a database id, and the subscription's batch. */
export function metricsRoutes(method: string, segments: string[], services: ArmServices): Route | undefined {
  const batch = matchPath(segments, ['subscriptions', '{subscriptionId}', 'metrics:getBatch']);
  if (batch) return batchRoute(method, batch.subscriptionId ?? '', services);
  const params = matchPath(segments, DATABASE_METRICS_PATH);
  if (!params) return undefined;
  const scope = databaseScope(params, services);
  return {
    operation: 'listMetrics',
    resourceType: 'Microsoft.Insights/metrics',
    apiVersions: METRICS_API_VERSIONS,
    resourceId: scope.databaseId,
    region: scope.database?.location,
    query: PER_RESOURCE_QUERY,
    handle: async (req) => {
      if (req.method !== 'GET') throw ArmError.methodNotAllowed(req.method, 'Microsoft.Insights/metrics', ['GET']);
      const db = requireDatabase(scope, services);
      const query = parseQuery(req, { namespaceRequired: false });
      const window = timespanOf(req.query.get('timespan'));
      const metrics = await metricsOf(db, query, services);
      return {
        status: 200,
        body: {
          cost: 0,
          timespan: `${window.start.toISOString()}/${window.end.toISOString()}`,
          interval: query.interval,
          value: metrics,
          namespace: METRIC_NAMESPACE,
          resourceregion: db.location,
        },
      };
    },
  };
}

function batchRoute(method: string, subscriptionId: string, services: ArmServices): Route {
  return {
    operation: 'getMetricsBatch',
    resourceType: 'Microsoft.Insights/metrics:getBatch',
    apiVersions: METRICS_BATCH_API_VERSIONS,
    resourceId: `/subscriptions/${subscriptionId}/metrics:getBatch`,
    query: BATCH_QUERY,
    handle: async (req) => {
      if (method !== 'POST') throw ArmError.methodNotAllowed(method, 'Microsoft.Insights/metrics:getBatch', ['POST']);
      if (!services.store.hasSubscription(subscriptionId)) throw ArmError.subscriptionNotFound(subscriptionId);
      const query = parseQuery(req, { namespaceRequired: true });
      const body = parseBody(batchBody, req.body, { required: true }) as z.output<typeof batchBody>;
      const databases = body.resourceids.map((id, i) => batchMember(id, i, subscriptionId, services));
      const regions = [...new Set(databases.map((d) => d.location.toLowerCase()))];
      if (regions.length > 1) {
        throw ArmError.badRequest(
          `resourceids: all resources of a batch must be in one region (the endpoint's), got ${regions.join(', ')}.`,
          'resourceids',
        );
      }
      // The region's metrics endpoint answers for that region only; in an outage it is down too.
      const region = databases[0]?.location;
      if (region !== undefined && services.faults.isRegionDown(region)) throw ArmError.regionUnavailable(region);
      const start = parseTime(req.query.get('starttime'), 'starttime') ?? new Date(Date.now() - 60 * 60_000);
      const end = parseTime(req.query.get('endtime'), 'endtime') ?? new Date();
      if (end.getTime() < start.getTime())
        throw ArmError.badRequest('endtime must not be before starttime.', 'endtime');
      const values = await Promise.all(
        databases.map(async (db) => ({
          starttime: start.toISOString(),
          endtime: end.toISOString(),
          interval: query.interval,
          namespace: METRIC_NAMESPACE,
          resourceregion: db.location,
          resourceid: db.id,
          value: await metricsOf(db, query, services),
        })),
      );
      return { status: 200, body: { values } };
    },
  };
}

const batchBody = z.object({
  resourceids: z
    .array(z.string(), { error: 'expected an array of resource ids' })
    .min(1, 'name at least one resource id')
    .max(MAX_BATCH_RESOURCES, `at most ${MAX_BATCH_RESOURCES} resource ids per batch`),
});

function batchMember(id: string, index: number, subscriptionId: string, services: ArmServices): DatabaseRecord {
  const parsed = parseDatabaseId(id);
  if (!parsed) {
    throw ArmError.badRequest(
      `resourceids[${index}]: "${id}" is not a ${DATABASE_TYPE}/databases resource id (the namespace queried).`,
      `resourceids[${index}]`,
    );
  }
  if (parsed.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase()) {
    throw ArmError.badRequest(
      `resourceids[${index}]: every resource of a batch must be in subscription ${subscriptionId}.`,
      `resourceids[${index}]`,
    );
  }
  const db = services.store.database(id);
  if (!db)
    throw ArmError.resourceNotFound(
      `${DATABASE_TYPE}/${parsed.clusterName}/databases/${parsed.databaseName}`,
      parsed.resourceGroup,
    );
  return db;
}

interface MetricsQuery {
  names: MetricDefinition[];
  aggregations: Aggregation[];
  interval: string;
}

function parseQuery(req: ArmRequest, options: { namespaceRequired: boolean }): MetricsQuery {
  const namespace = req.query.get('metricnamespace') ?? req.query.get('metricNamespace');
  if (namespace === null && options.namespaceRequired) {
    throw ArmError.badRequest('metricnamespace is required.', 'metricnamespace');
  }
  if (namespace !== null && namespace.toLowerCase() !== METRIC_NAMESPACE.toLowerCase()) {
    throw ArmError.badRequest(
      `metricnamespace "${namespace}" is not served; the emulator serves ${METRIC_NAMESPACE}.`,
      'metricnamespace',
    );
  }
  const raw = req.query.getAll('metricnames').flatMap((v) => v.split(','));
  const requested = raw.map((n) => n.trim()).filter((n) => n.length > 0);
  if (requested.length === 0) throw ArmError.badRequest('metricnames is required.', 'metricnames');
  const names = requested.map((n) => {
    const def = METRICS.find((m) => m.name.toLowerCase() === n.toLowerCase());
    if (!def) {
      throw ArmError.badRequest(
        `Failed to find metric configuration for provider: Microsoft.Cache, resource Type: redisEnterprise/databases, metric: ${n}. Valid metrics: ${METRICS.map((m) => m.name).join(',')}`,
        'metricnames',
      );
    }
    return def;
  });
  const aggregationText = req.query.get('aggregation') ?? 'average';
  const aggregations = aggregationText.split(',').map((a) => {
    const lower = a.trim().toLowerCase();
    if (!(AGGREGATIONS as readonly string[]).includes(lower)) {
      throw ArmError.badRequest(`aggregation "${a}" is not one of ${AGGREGATIONS.join(', ')}.`, 'aggregation');
    }
    return lower as Aggregation;
  });
  const interval = req.query.get('interval') ?? 'PT1M';
  if (!/^(PT\d+[MH]|P\d+D|FULL)$/i.test(interval)) {
    throw ArmError.badRequest(`interval "${interval}" is not an ISO 8601 duration such as PT1M.`, 'interval');
  }
  return { names, aggregations, interval: interval.toUpperCase() };
}

function parseTime(value: string | null, field: string): Date | undefined {
  if (value === null || value === '') return undefined;
  const t = new Date(value);
  if (Number.isNaN(t.getTime())) throw ArmError.badRequest(`${field} "${value}" is not an ISO 8601 time.`, field);
  return t;
}

/** `start/end`, `start/duration` or a bare duration are what ARM takes; the emulator reads start/end only. */
function timespanOf(value: string | null): { start: Date; end: Date } {
  const end = new Date();
  if (value) {
    const [a, b] = value.split('/');
    const start = a ? new Date(a) : undefined;
    const stop = b ? new Date(b) : undefined;
    if (start && stop && !Number.isNaN(start.getTime()) && !Number.isNaN(stop.getTime())) return { start, end: stop };
  }
  return { start: new Date(end.getTime() - 60 * 60_000), end };
}

async function figuresOf(db: DatabaseRecord, services: ArmServices): Promise<Figures> {
  const healthy = geoReplicationHealthy(db, services) ? 1 : 0;
  if (!services.dataPlane.isRunning(db.id)) return { geoReplicationHealthy: healthy };
  try {
    const { usedBytes, maxBytes } = await services.dataPlane.memory(db.id);
    return {
      usedmemory: usedBytes,
      usedmemorypercentage: maxBytes > 0 ? Math.round((usedBytes / maxBytes) * 10_000) / 100 : 0,
      geoReplicationHealthy: healthy,
    };
  } catch {
    // stopped between the check and the read: no data for this minute
    return { geoReplicationHealthy: healthy };
  }
}

/**
 * 1 when every member the database lists is there, up, Linked and lists it back; 0 while one is in outage,
 * linking or unlinking, or no longer lists it (the database was force-unlinked). A database outside any
 * group is healthy.
 */
export function geoReplicationHealthy(db: DatabaseRecord, services: ArmServices): boolean {
  const { store, faults } = services;
  const down = (location: string): boolean => faults.isRegionDown(location) || faults.isDataPlaneDown(location);
  if (down(db.location)) return false;
  for (const link of db.geoReplication?.linkedDatabases ?? []) {
    if (link.id.toLowerCase() === db.id.toLowerCase()) continue;
    if (link.state !== 'Linked') return false;
    const other = store.database(link.id);
    if (!other || down(other.location) || !store.lists(other, db.id)) return false;
  }
  return true;
}

async function metricsOf(db: DatabaseRecord, query: MetricsQuery, services: ArmServices): Promise<unknown[]> {
  const figures = await figuresOf(db, services);
  const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
  return query.names.map((def) => {
    const value = figures[def.name as keyof Figures];
    const point: Record<string, unknown> = { timeStamp: minute };
    if (value !== undefined) {
      for (const a of query.aggregations) point[a] = a === 'count' ? 1 : value;
    }
    return {
      id: `${db.id}/providers/Microsoft.Insights/metrics/${def.name}`,
      type: 'Microsoft.Insights/metrics',
      name: { value: def.name, localizedValue: def.displayName },
      displayDescription: def.description,
      unit: def.unit,
      timeseries: [{ metadatavalues: [], data: [point] }],
      errorCode: 'Success',
    };
  });
}
