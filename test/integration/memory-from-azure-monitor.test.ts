// Memory pressure from Azure Monitor: the emulator's metrics (per resource on ARM, and the batch API the
// official MetricsClient calls), and readMemory reading them through the worker's own wiring
// (activityDependenciesFromConfig on the configuration configForEmulator writes), against INFO memory.
import assert from 'node:assert/strict';
import https from 'node:https';
import path from 'node:path';
import { MetricsClient } from '@azure/monitor-query-metrics';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import type { GeofailoverActivities, MemoryReading } from '../../src/activities/types';
import { createArmClients } from '../../src/azure/clients';
import { MEMORY_METRIC_NAMES, REDIS_METRIC_NAMESPACE } from '../../src/azure/metrics';
import { parseConfig } from '../../src/config/load';
import { ARM_AUDIENCE, type Emulator } from '../../src/emulator';
import { configForEmulator, writeIdentitySecret } from '../../src/emulator/config';
import { activityDependenciesFromConfig } from '../../src/worker';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';
import { APPROVERS, peopleConfig } from '../helpers/people';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;
const member = (region: string): { region: string; databaseId: string } => ({ region, databaseId: dbId(region) });
const MAX_MEMORY_BYTES = 64 * 1024 * 1024;
const quietLogger = new DefaultLogger('ERROR');

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

describe('memory pressure from Azure Monitor (emulator metrics, MetricsClient, readMemory)', function () {
  this.timeout(60_000);
  let emulator: Emulator;
  let monitor: GeofailoverActivities;
  let info: GeofailoverActivities;

  const run = <T>(fn: () => Promise<T>): Promise<T> => new MockActivityEnvironment({}, { logger: quietLogger }).run(fn);

  function request(
    method: string,
    path: string,
    body?: unknown,
    token: string | null = emulator.issuer.mint(ARM_AUDIENCE),
  ): Promise<Answer> {
    const url = new URL(path, emulator.arm);
    const text = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          ca: emulator.caPem,
          agent: false,
          headers: {
            ...(token !== null ? { authorization: `Bearer ${token}` } : {}),
            ...(text !== undefined ? { 'content-type': 'application/json' } : {}),
          },
        },
        (res) => {
          let data = '';
          res.on('data', (c: Buffer) => (data += c.toString('utf8')));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: data ? (JSON.parse(data) as Answer['body']) : {} }),
          );
        },
      );
      req.on('error', reject);
      req.end(text);
    });
  }

  /** used_memory / maxmemory of a member's redis-server right now, as the emulator's data plane reads them. */
  async function infoPercent(region: string): Promise<{ percent: number; usedBytes: number; maxBytes: number }> {
    const state = await emulator.freshState();
    const memory = state.databases.find((d) => d.location === region)?.memory;
    assert.ok(memory, `memory of ${region}`);
    return { ...memory, percent: (memory.usedBytes / memory.maxBytes) * 100 };
  }

  function activities(memorySource?: 'azure-monitor' | 'redis-info'): GeofailoverActivities {
    // the worker's principal, its secret in a file beside a configuration in the emulator's work dir
    const identity = writeIdentitySecret(
      emulator.identity,
      path.join(path.dirname(emulator.caPath), 'test.config.json'),
    );
    const written = configForEmulator(emulator.state(), emulator.caPath, {}, identity);
    const input = {
      ...written,
      azure: { ...written.azure, ...(memorySource ? { memorySource } : {}) },
      people: peopleConfig(APPROVERS),
    };
    const config = parseConfig(JSON.stringify(input), 'test.config.json');
    const deps = activityDependenciesFromConfig(config, { retryOptions: { maxRetries: 0 } });
    return createActivities({ ...deps, redisTimeoutMs: 3000, callerCheck: async () => undefined });
  }

  before(async () => {
    emulator = await startTestEmulator();
    monitor = activities(); // the default: azure-monitor
    info = activities('redis-info');
  });
  after(async () => {
    await emulator?.close();
  });

  describe('the emulator serves Azure Monitor metrics', () => {
    it('answers the ARM per-resource path in the shape of Microsoft.Insights/metrics', async () => {
      const path = `${dbId('eastus')}/providers/Microsoft.Insights/metrics?metricnames=usedmemorypercentage,usedmemory,geoReplicationHealthy&aggregation=Maximum&interval=PT1M&api-version=2023-10-01`;
      const answer = await request('GET', path);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      const value = answer.body.value as {
        name: { value: string };
        unit: string;
        timeseries: { data: { timeStamp: string; maximum?: number }[] }[];
      }[];
      assert.deepEqual(
        value.map((m) => [m.name.value, m.unit]),
        [
          ['usedmemorypercentage', 'Percent'],
          ['usedmemory', 'Bytes'],
          ['geoReplicationHealthy', 'Count'],
        ],
      );
      const [percent, used, healthy] = value.map((m) => m.timeseries[0]!.data.at(-1)!);
      const now = await infoPercent('eastus');
      assert.ok(Math.abs(percent!.maximum! - now.percent) < 0.5, `${percent!.maximum} vs INFO ${now.percent}`);
      assert.ok(Math.abs(used!.maximum! - now.usedBytes) < 256 * 1024, `${used!.maximum} vs INFO ${now.usedBytes}`);
      assert.equal(healthy!.maximum, 1);
      assert.equal(answer.body.interval, 'PT1M');
      assert.ok(Math.abs(Date.parse(percent!.timeStamp) - Date.now()) < 61_000, percent!.timeStamp);
    });

    it('refuses what Azure refuses: no token, an unknown metric, a wrong namespace, an unknown query parameter', async () => {
      const base = `${dbId('eastus')}/providers/Microsoft.Insights/metrics`;
      const noToken = await request('GET', `${base}?metricnames=usedmemory&api-version=2023-10-01`, undefined, null);
      assert.equal(noToken.status, 401);
      const unknown = await request('GET', `${base}?metricnames=cpu&api-version=2023-10-01`);
      assert.equal(unknown.status, 400);
      assert.match(unknown.body.error!.message, /usedmemorypercentage/);
      const namespace = await request(
        'POST',
        `/subscriptions/${SUB}/metrics:getBatch?metricnamespace=Microsoft.Compute/virtualMachines&metricnames=usedmemory&api-version=2024-02-01`,
        { resourceids: [dbId('eastus')] },
      );
      assert.equal(namespace.status, 400);
      const query = await request('GET', `${base}?metricnames=usedmemory&bogus=1&api-version=2023-10-01`);
      assert.equal(query.status, 400);
      const version = await request('GET', `${base}?metricnames=usedmemory&api-version=2026-08-01`);
      assert.equal(version.status, 400);
    });

    it('answers the batch API so that MetricsClient (the official SDK) parses it unchanged', async () => {
      const client = new MetricsClient(emulator.arm, emulatorCredential(emulator), {
        tlsOptions: { ca: emulator.caPem },
        retryOptions: { maxRetries: 0 },
      });
      const results = await client.queryResources(
        [dbId('westeurope')],
        [...MEMORY_METRIC_NAMES],
        REDIS_METRIC_NAMESPACE,
        { aggregation: 'Maximum', interval: 'PT1M', startTime: new Date(Date.now() - 300_000), endTime: new Date() },
      );
      assert.equal(results.length, 1);
      const [result] = results;
      assert.equal(result!.resourceId, dbId('westeurope'));
      assert.equal(result!.resourceRegion, 'westeurope');
      assert.equal(result!.granularity, 'PT1M');
      assert.ok(result!.timespan && 'startTime' in result!.timespan);
      // The SDK turns `name` into the localized display name, as Azure's answers make it.
      const byId = (n: string) => result!.metrics.find((m) => m.id.endsWith(`/metrics/${n}`));
      assert.equal(byId('usedmemorypercentage')?.name, 'Used Memory Percentage');
      assert.equal(byId('usedmemory')?.unit, 'Bytes');
      const point = byId('usedmemorypercentage')!.timeseries[0]!.data!.at(-1)!;
      assert.ok(point.timeStamp instanceof Date);
      const now = await infoPercent('westeurope');
      assert.ok(Math.abs(point.maximum! - now.percent) < 0.5, `${point.maximum} vs INFO ${now.percent}`);
      assert.equal(byId('geoReplicationHealthy')!.timeseries[0]!.data!.at(-1)!.maximum, 1);
    });

    it("batches only one region's databases, and a region in outage has no metrics endpoint", async () => {
      const mixed = await request(
        'POST',
        `/subscriptions/${SUB}/metrics:getBatch?metricnamespace=microsoft.cache/redisenterprise&metricnames=usedmemory&api-version=2024-02-01`,
        { resourceids: [dbId('eastus'), dbId('westeurope')] },
      );
      assert.equal(mixed.status, 400);
      await emulator.faults.outage('southeastasia');
      try {
        const down = await request(
          'POST',
          `/subscriptions/${SUB}/metrics:getBatch?metricnamespace=microsoft.cache/redisenterprise&metricnames=usedmemory&api-version=2024-02-01`,
          { resourceids: [dbId('southeastasia')] },
        );
        assert.equal(down.status, 503);
        await assert.rejects(
          run(() => monitor.readMemory(member('southeastasia'))),
          (e: unknown) => {
            assert.ok(e instanceof ApplicationFailure, String(e));
            assert.equal(e.type, 'AzureTransient');
            assert.equal(e.nonRetryable, false);
            assert.match(e.message, /Azure Monitor/);
            return true;
          },
        );
      } finally {
        await emulator.faults.restore('southeastasia');
      }
    });
  });

  describe('readMemory', () => {
    it("reads Azure Monitor's usedmemorypercentage: the redis-server's real used/max memory", async () => {
      const readings = await Promise.all(REGIONS.map((r) => run(() => monitor.readMemory(member(r)))));
      for (const [i, m] of readings.entries()) {
        const region = REGIONS[i]!;
        const now = await infoPercent(region);
        assert.equal(m.source, 'azure-monitor');
        assert.equal(m.region, region);
        assert.equal(m.databaseId, dbId(region));
        assert.ok(Math.abs(m.percent - now.percent) < 0.5, `${region}: ${m.percent} % vs INFO ${now.percent} %`);
        assert.ok(Math.abs(m.usedBytes - now.usedBytes) < 256 * 1024, `${m.usedBytes} vs ${now.usedBytes}`);
        // derived from usedmemory / usedmemorypercentage (two decimals): within 1 %
        assert.ok(Math.abs(m.maxBytes - MAX_MEMORY_BYTES) < MAX_MEMORY_BYTES / 100, `max ${m.maxBytes}`);
        assert.equal(m.geoReplicationHealthy, true);
        assert.ok(m.sampledAt && Date.now() - Date.parse(m.sampledAt) < 61_000, m.sampledAt);
      }
    });

    it('still reads INFO memory when configured with memorySource redis-info (the fallback)', async () => {
      const m = await run(() => info.readMemory(member('eastus')));
      assert.equal(m.source, 'redis-info');
      assert.equal(m.maxBytes, MAX_MEMORY_BYTES);
      assert.equal(m.geoReplicationHealthy, undefined);
      const viaMonitor = await run(() => monitor.readMemory(member('eastus')));
      assert.ok(
        Math.abs(m.percent - viaMonitor.percent) < 0.5,
        `INFO ${m.percent} vs Azure Monitor ${viaMonitor.percent}`,
      );
    });

    it('rises while a member is in outage (metadata builds up) and geoReplicationHealthy flips to 0 and back', async () => {
      const before = await run(() => monitor.readMemory(member('eastus')));
      assert.equal(before.geoReplicationHealthy, true);
      await emulator.faults.outage('southeastasia');
      let during: MemoryReading;
      try {
        await new Promise((r) => setTimeout(r, 1200));
        during = await run(() => monitor.readMemory(member('eastus')));
        const duringInfo = await run(() => info.readMemory(member('eastus')));
        assert.ok(
          during.usedBytes > before.usedBytes + 1024 * 1024,
          `used memory rose from ${before.usedBytes} to ${during.usedBytes}`,
        );
        assert.ok(during.percent > before.percent, `${before.percent} % → ${during.percent} %`);
        assert.ok(Math.abs(during.percent - duringInfo.percent) < 1, `${during.percent} vs INFO ${duringInfo.percent}`);
        assert.equal(during.geoReplicationHealthy, false);
      } finally {
        await emulator.faults.restore('southeastasia');
      }
      const after = await run(() => monitor.readMemory(member('eastus')));
      assert.equal(after.geoReplicationHealthy, true);
      assert.ok(after.percent < during.percent, `metadata discarded after the member came back: ${after.percent} %`);
    });

    it('geoReplicationHealthy: survivors read 1 again once the failed member is force-unlinked; it reads 0 when back', async () => {
      const arm = createArmClients({
        subscriptionId: SUB,
        endpoint: emulator.arm,
        caPem: emulator.caPem,
        credential: emulatorCredential(emulator),
        keepAlive: false,
        retryOptions: { maxRetries: 0 },
      });
      await emulator.faults.outage('eastus');
      try {
        assert.equal((await run(() => monitor.readMemory(member('westeurope')))).geoReplicationHealthy, false);
        await arm.redis.databases.beginForceUnlinkAndWait(RG, 'redis-leaderboard-westeurope', 'default', {
          ids: [dbId('eastus')],
        });
        for (const r of ['westeurope', 'southeastasia']) {
          assert.equal((await run(() => monitor.readMemory(member(r)))).geoReplicationHealthy, true, r);
        }
      } finally {
        await emulator.faults.restore('eastus');
      }
      // eastus still lists the others, but nobody lists it back: it was unlinked.
      assert.equal((await run(() => monitor.readMemory(member('eastus')))).geoReplicationHealthy, false);
      assert.equal((await run(() => monitor.readMemory(member('westeurope')))).geoReplicationHealthy, true);
    });

    it("a throttled Azure Monitor answer is a retryable AzureThrottled with the service's Retry-After", async () => {
      emulator.faults.throttle({ count: 1, retryAfterSeconds: 7, operation: 'getMetricsBatch' });
      await assert.rejects(
        run(() => monitor.readMemory(member('westeurope'))),
        (e: unknown) => {
          assert.ok(e instanceof ApplicationFailure, String(e));
          assert.equal(e.type, 'AzureThrottled', e.message);
          assert.equal(e.nonRetryable, false);
          return true;
        },
      );
      assert.equal((await run(() => monitor.readMemory(member('westeurope')))).source, 'azure-monitor');
    });

    it('is about as fast as INFO memory (printed)', async () => {
      const time = async (acts: GeofailoverActivities): Promise<number> => {
        const samples: number[] = [];
        for (let i = 0; i < 10; i++) {
          const t = performance.now();
          await run(() => acts.readMemory(member('westeurope')));
          samples.push(performance.now() - t);
        }
        return samples.sort((a, b) => a - b)[5]!;
      };
      const viaMonitor = await time(monitor);
      const viaInfo = await time(info);
      console.log(
        `      readMemory median of 10: Azure Monitor ${viaMonitor.toFixed(1)} ms, INFO memory ${viaInfo.toFixed(1)} ms`,
      );
      assert.ok(viaMonitor < 2000 && viaInfo < 2000);
    });
  });
});
