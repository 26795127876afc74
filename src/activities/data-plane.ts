import { randomUUID } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ArmClients } from '../azure/clients';
import type { AzureMonitorMetrics } from '../azure/metrics';
import { FAILURE_TYPES } from '../contract/failures';
import { memoryUsage } from '../redis/info';
import { azureFailure } from './azure-failure';
import { readDataPlaneAccess, type DataPlaneAccess } from './database-access';
import { withRedis, type RedisSession as Client } from './redis-session';
import type { DataPlaneActivities, MemoryReading } from './types';

export interface DataPlaneDependencies {
  arm: ArmClients;
  /** extra CA to trust for the data plane's TLS, PEM (the emulator's); real Azure needs none */
  caPem?: string;
  /** bound of one data-plane session (connect, TLS, AUTH, commands); default 10 s */
  redisTimeoutMs?: number;
  /** Azure Monitor: readMemory's source when set; without it readMemory falls back to INFO memory */
  metrics?: AzureMonitorMetrics;
}

const DEFAULT_REDIS_TIMEOUT_MS = 10_000;
const CANARY_PREFIX = 'geofailover:canary:';

/** INFO memory and the canary, on the database's own endpoint (the hostName:port ARM reports). */
export function createDataPlaneActivities(deps: DataPlaneDependencies): DataPlaneActivities {
  const timeoutMs = deps.redisTimeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  const session = <T>(access: DataPlaneAccess, what: string, fn: (client: Client) => Promise<T>): Promise<T> =>
    withRedis(access, { caPem: deps.caPem, timeoutMs, what }, fn);

  const metrics = deps.metrics;
  return {
    async readMemory(member) {
      if (metrics) return readMemoryFromAzureMonitor(metrics, member);
      const what = `reading memory of ${member.region}`;
      const signal = Context.current().cancellationSignal;
      const access = await readDataPlaneAccess(deps.arm, member.databaseId, what, signal);
      const info = await session(access, what, (c) => c.info('memory'));
      let usage;
      try {
        usage = memoryUsage(info);
      } catch (e) {
        throw ApplicationFailure.create({
          message: `${what}: ${(e as Error).message}`,
          type: FAILURE_TYPES.probeFailed,
        });
      }
      return {
        region: member.region,
        databaseId: member.databaseId,
        usedBytes: usage.usedBytes,
        maxBytes: usage.maxBytes,
        // A database without a memory limit (never the case on Azure Managed Redis) reads as 0 %.
        percent: usage.percent ?? 0,
        readAt: new Date().toISOString(),
        source: 'redis-info',
      };
    },

    async canaryWriteRead({ member, ttlSeconds }) {
      const what = `canary on ${member.region}`;
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) {
        throw ApplicationFailure.nonRetryable(
          `${what}: ttlSeconds must be a whole number of seconds ≥ 1, got ${ttlSeconds}`,
          FAILURE_TYPES.invalidInput,
        );
      }
      const signal = Context.current().cancellationSignal;
      const access = await readDataPlaneAccess(deps.arm, member.databaseId, what, signal);
      const key = `${CANARY_PREFIX}${member.region}:${randomUUID()}`;
      const value = new Date().toISOString();
      return session(access, what, async (c) => {
        const started = performance.now();
        await c.set(key, value, { expiration: { type: 'EX', value: ttlSeconds } });
        const read = await c.get(key);
        const latencyMs = Math.round((performance.now() - started) * 10) / 10;
        if (read !== value) {
          throw new Error(`wrote ${key} but read back ${read === null ? 'nothing' : JSON.stringify(read)}`);
        }
        return { region: member.region, latencyMs };
      });
    },
  };
}

/**
 * readMemory from Azure Monitor: one batch call (`metrics:getBatch`) to the member's regional metrics endpoint
 * for this one database; the newest PT1M Maximum of usedmemorypercentage, usedmemory and geoReplicationHealthy.
 * One call per member (the activity reads one member); survivors in different regions go to their own
 * region's endpoint, so a failed region's endpoint never blocks the others.
 */
async function readMemoryFromAzureMonitor(
  metrics: AzureMonitorMetrics,
  member: { region: string; databaseId: string },
): Promise<MemoryReading> {
  const what = `reading memory of ${member.region} from Azure Monitor (${metrics.endpointFor(member.region)})`;
  const signal = Context.current().cancellationSignal;
  let figures;
  try {
    [figures] = await metrics.readDatabaseMemory(member.region, [member.databaseId], { abortSignal: signal });
  } catch (e) {
    if (signal.aborted) throw signal.reason ?? e;
    throw azureFailure(e, what);
  }
  if (figures?.usedPercent === undefined) {
    // Retryable: a minute's point is published a little late, and a stopped database has none.
    throw ApplicationFailure.create({
      message: `${what}: no usedmemorypercentage point in the last minutes`,
      type: FAILURE_TYPES.probeFailed,
    });
  }
  const percent = Math.round(figures.usedPercent * 10) / 10;
  const usedBytes = figures.usedBytes ?? 0;
  return {
    region: member.region,
    databaseId: member.databaseId,
    usedBytes,
    maxBytes: figures.usedPercent > 0 && usedBytes > 0 ? Math.round((usedBytes * 100) / figures.usedPercent) : 0,
    percent,
    readAt: new Date().toISOString(),
    source: 'azure-monitor',
    ...(figures.geoReplicationHealthy !== undefined ? { geoReplicationHealthy: figures.geoReplicationHealthy } : {}),
    ...(figures.at !== undefined ? { sampledAt: figures.at } : {}),
  };
}
