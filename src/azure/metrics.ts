/**
 * Azure Monitor metrics of Azure Managed Redis databases, through the official `MetricsClient`
 * (@azure/monitor-query-metrics, the regional batch API `metrics:getBatch`). This is how the runbook reads
 * memory pressure: `usedmemorypercentage` is Azure's own figure, per database, with no data-plane rights
 * needed (INFO memory on Azure Managed Redis has other fields, CRDT overhead, one figure per shard, and
 * `@dangerous` ACL rights). The identity needs Monitoring Reader on the databases.
 */
import type { TokenCredential } from '@azure/core-auth';
import type { PipelineRetryOptions } from '@azure/core-rest-pipeline';
import { MetricsClient, type MetricsClientOptions, type MetricsQueryResult } from '@azure/monitor-query-metrics';
import { disableKeepAlivePolicy } from './clients';
import { createAzureCredential, createStaticTokenCredential } from './credentials';

/** The public cloud's regional metrics host; `{region}` is the databases' location. */
export const DEFAULT_METRICS_ENDPOINT = 'https://{region}.metrics.monitor.azure.com';
export const REDIS_METRIC_NAMESPACE = 'Microsoft.Cache/redisEnterprise';
export const MEMORY_METRIC_NAMES = ['usedmemorypercentage', 'usedmemory', 'geoReplicationHealthy'] as const;
/** How far back a query looks for the newest PT1M point (Azure publishes a minute's point a little late). */
const LOOKBACK_MS = 10 * 60_000;

/** One database's newest memory figures (Maximum over PT1M); a figure Azure has no point for is absent. */
export interface DatabaseMemoryMetrics {
  databaseId: string;
  /** usedmemorypercentage: used memory, percent of the database's limit */
  usedPercent?: number;
  /** usedmemory, bytes */
  usedBytes?: number;
  /** geoReplicationHealthy: 1 → true, 0 → false */
  geoReplicationHealthy?: boolean;
  /** the time stamp of the usedmemorypercentage point read (start of its minute) */
  at?: string;
}

export interface AzureMonitorMetrics {
  /** the metrics endpoint that serves a region */
  endpointFor(region: string): string;
  /**
   * The memory figures of databases in one region (one batch call, at most 50 ids of one subscription).
   * @throws the SDK's RestError (or a network error) as it comes: classify it with classifyAzureError.
   */
  readDatabaseMemory(
    region: string,
    databaseIds: readonly string[],
    options?: { abortSignal?: AbortSignal },
  ): Promise<DatabaseMemoryMetrics[]>;
}

export interface CreateAzureMonitorMetricsOptions {
  /**
   * The metrics endpoint, `{region}` replaced by the databases' region. Default {@link DEFAULT_METRICS_ENDPOINT};
   * the emulator's ARM URL (no placeholder) for drills.
   */
  endpoint?: string;
  /**
   * Default: `DefaultAzureCredential`, or an unsigned static token for a loopback endpoint (fake HTTP only: the
   * emulator accepts only its tenant's tokens — pass `createClientSecretCredential`).
   */
  credential?: TokenCredential;
  /** extra CA to trust, PEM (the emulator's) */
  caPem?: string | string[];
  retryOptions?: PipelineRetryOptions;
  /** Default true. Tests turn it off. */
  keepAlive?: boolean;
}

/**
 * The metrics endpoint when the configuration names none: the public regional host, or the ARM endpoint itself
 * when that is a loopback address (the emulator serves Azure Monitor's batch API on its ARM port).
 */
export function defaultMetricsEndpoint(armEndpoint: string | undefined): string {
  return armEndpoint !== undefined && isLoopback(armEndpoint) ? armEndpoint : DEFAULT_METRICS_ENDPOINT;
}

function isLoopback(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint.replaceAll('{region}', 'region')).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(host);
}

/**
 * @throws TypeError when the endpoint is not an https URL (after `{region}` is filled in).
 */
export function createAzureMonitorMetrics(options: CreateAzureMonitorMetricsOptions = {}): AzureMonitorMetrics {
  const pattern = (options.endpoint ?? DEFAULT_METRICS_ENDPOINT).replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(pattern.replaceAll('{region}', 'region'));
  } catch {
    throw new TypeError(`metrics endpoint "${pattern}" is not a URL`);
  }
  if (url.protocol !== 'https:') throw new TypeError(`metrics endpoint "${pattern}" must be https`);
  const loopback = isLoopback(pattern);
  const credential = options.credential ?? (loopback ? createStaticTokenCredential() : createAzureCredential());
  const clients = new Map<string, MetricsClient>();
  const endpointFor = (region: string): string => pattern.replaceAll('{region}', region.toLowerCase());
  const clientFor = (region: string): MetricsClient => {
    const endpoint = endpointFor(region);
    let client = clients.get(endpoint);
    if (!client) {
      const clientOptions: MetricsClientOptions = {
        // Tokens for Azure Monitor carry the ARM audience (the SDK's default), from the emulator's tenant too.
        ...(options.caPem !== undefined ? { tlsOptions: { ca: options.caPem } } : {}),
        ...(options.retryOptions !== undefined ? { retryOptions: options.retryOptions } : {}),
        ...(options.keepAlive === false
          ? { additionalPolicies: [{ policy: disableKeepAlivePolicy(), position: 'perCall' as const }] }
          : {}),
      };
      client = new MetricsClient(endpoint, credential, clientOptions);
      clients.set(endpoint, client);
    }
    return client;
  };
  return {
    endpointFor,
    async readDatabaseMemory(region, databaseIds, readOptions = {}) {
      if (databaseIds.length === 0) return [];
      const endTime = new Date();
      const results = await clientFor(region).queryResources(
        [...databaseIds],
        [...MEMORY_METRIC_NAMES],
        REDIS_METRIC_NAMESPACE,
        {
          aggregation: 'Maximum',
          interval: 'PT1M',
          startTime: new Date(endTime.getTime() - LOOKBACK_MS),
          endTime,
          ...(readOptions.abortSignal ? { abortSignal: readOptions.abortSignal } : {}),
        } as Parameters<MetricsClient['queryResources']>[3],
      );
      return databaseIds.map((id) => memoryOf(id, results));
    },
  };
}

/** The newest point with a value of one metric; metrics are matched by id suffix or name, any casing. */
function newestMaximum(result: MetricsQueryResult, name: string): { value: number; at: Date } | undefined {
  const lower = name.toLowerCase();
  // `name` is the localized display name when Azure sends one, so the id is the reliable key.
  const metric = result.metrics.find(
    (m) => m.id?.toLowerCase().endsWith(`/metrics/${lower}`) || m.name?.toLowerCase() === lower,
  );
  let newest: { value: number; at: Date } | undefined;
  for (const series of metric?.timeseries ?? []) {
    for (const point of series.data ?? []) {
      if (typeof point.maximum !== 'number') continue;
      if (!newest || point.timeStamp.getTime() >= newest.at.getTime()) {
        newest = { value: point.maximum, at: point.timeStamp };
      }
    }
  }
  return newest;
}

function memoryOf(databaseId: string, results: readonly MetricsQueryResult[]): DatabaseMemoryMetrics {
  const result = results.find((r) => r.resourceId?.toLowerCase() === databaseId.toLowerCase());
  if (!result) return { databaseId };
  const percent = newestMaximum(result, 'usedmemorypercentage');
  const used = newestMaximum(result, 'usedmemory');
  const healthy = newestMaximum(result, 'geoReplicationHealthy');
  return {
    databaseId,
    ...(percent ? { usedPercent: percent.value, at: percent.at.toISOString() } : {}),
    ...(used ? { usedBytes: used.value } : {}),
    ...(healthy ? { geoReplicationHealthy: healthy.value >= 1 } : {}),
  };
}
