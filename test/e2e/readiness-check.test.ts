// The whole stack for one workflow: the shared Temporal dev server, a real worker with the real
// activities, the official Azure SDK over HTTPS against the emulator, and its redis-servers.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowBundle } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { createArmClients } from '../../src/azure/clients';
import type { ReadinessCheckInput, ReadinessReport } from '../../src/contract/readiness';
import type { Emulator } from '../../src/emulator';
import { startReadinessCheck } from '../../src/starter';
import { createWorker } from '../../src/worker';
import { emulatorCredential, startTestEmulator } from '../helpers/emulator';
import { getTestEnv, getWorkflowBundle, uniqueName, uniqueTaskQueue } from '../helpers/temporal';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'];
const dbId = (region: string): string =>
  `/subscriptions/${SUB}/resourceGroups/rg-geofailover-demo/providers/Microsoft.Cache/redisEnterprise/redis-leaderboard-${region}/databases/default`;

describe('readinessCheck end to end against the emulator', function () {
  this.timeout(90_000);
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;
  let emulator: Emulator;

  before(async () => {
    [env, bundle, emulator] = await Promise.all([getTestEnv(), getWorkflowBundle(), startTestEmulator()]);
  });
  after(async () => {
    await Promise.all([env?.teardown(), emulator?.close()]);
  });

  async function check(): Promise<ReadinessReport> {
    const taskQueue = uniqueTaskQueue('readiness');
    const arm = createArmClients({
      subscriptionId: SUB,
      endpoint: emulator.arm,
      caPem: emulator.caPem,
      credential: emulatorCredential(emulator),
      retryOptions: { maxRetries: 0 },
    });
    const worker = await createWorker({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: createActivities({ arm }),
    });
    const input: ReadinessCheckInput = {
      group: uniqueName('leaderboard'),
      members: REGIONS.map((region) => ({ region, databaseId: dbId(region) })),
      activityTimeouts: { scheduleToClose: '10s', initialRetryInterval: '100ms' },
    };
    return worker.runUntil(async () => (await startReadinessCheck(env.client, input, { taskQueue })).result());
  }

  it('finds the default group ready to fail over', async () => {
    const report = await check();
    assert.deepEqual(report.problems, []);
    assert.equal(report.ready, true);
    assert.deepEqual(
      report.members.map((m) => [m.region, m.reachable, m.settings?.sku]),
      REGIONS.map((r) => [r, true, 'Balanced_B5']),
    );
  });

  it('names the region that does not answer during an outage', async () => {
    await emulator.faults.outage('southeastasia');
    try {
      const report = await check();
      assert.equal(report.ready, false);
      assert.equal(report.members.find((m) => m.region === 'southeastasia')?.reachable, false);
      assert.ok(
        report.problems.some((p) => p.includes('southeastasia')),
        `problems name the region: ${report.problems.join('; ')}`,
      );
    } finally {
      await emulator.faults.restore('southeastasia');
    }
  });
});
