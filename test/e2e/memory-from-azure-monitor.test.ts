// The unlink trigger and the approval's evidence use Azure Monitor's figures: failoverRunbook on the real stack
// (its worker wired from the configuration configForEmulator writes, so readMemory reads the emulator's Azure
// Monitor metrics), a long outage until the unlink gate opens, and what the gate's request shows.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FAST_METADATA_BUILDUP, RealStack, step, waitForStatus } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
const SURVIVORS = ['southeastasia', 'westeurope'];

interface Sample {
  percents: Record<string, number>;
  sources?: Record<string, string>;
  geoReplicationHealthy?: Record<string, boolean>;
  grade?: string;
}

describe('failoverRunbook on the real stack: memory pressure from Azure Monitor', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack | undefined;

  before(async () => {
    env = await getTestEnv();
  });
  after(async () => {
    await stack?.close();
    await env?.teardown();
  });

  it("the await-recovery samples and the unlink gate's request show Azure Monitor's percentages and source", async () => {
    stack = await RealStack.start(env, { metadataBytesPerSecond: FAST_METADATA_BUILDUP });
    await stack.emulator.faults.outage(FAILED);
    const handle = await stack.startFailover(FAILED);
    try {
      const gate = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate');
      const request = gate.openGate?.request as {
        trigger: { reason: string };
        memoryTrend: { direction: string; toPercent: number; samples: Sample[] };
      };
      assert.equal(request.trigger.reason, 'critical-pressure');
      const last = request.memoryTrend.samples.at(-1)!;
      assert.deepEqual(Object.keys(last.percents).sort(), SURVIVORS);
      assert.deepEqual(last.sources, Object.fromEntries(SURVIVORS.map((r) => [r, 'azure-monitor'])));
      // Survivors miss a linked member: Azure Monitor's geoReplicationHealthy reads 0.
      assert.deepEqual(last.geoReplicationHealthy, Object.fromEntries(SURVIVORS.map((r) => [r, false])));
      assert.equal(request.memoryTrend.toPercent, Math.max(...Object.values(last.percents)));
      assert.ok(request.memoryTrend.toPercent >= 75, `memory at ${request.memoryTrend.toPercent}%`);
      // The figure is the redis-server's real used/max memory (within the build-up of the time since).
      const state = await stack.emulator.freshState();
      for (const region of SURVIVORS) {
        const m = state.databases.find((d) => d.location === region)!.memory!;
        const now = (m.usedBytes / m.maxBytes) * 100;
        assert.ok(last.percents[region]! <= now + 0.5, `${region}: sample ${last.percents[region]} %, now ${now} %`);
      }
      const watch = step(gate, 'await-recovery').evidence as { memoryTrend: { samples: Sample[] } };
      assert.equal(watch.memoryTrend.samples.at(-1)?.sources?.[SURVIVORS[0]!], 'azure-monitor');
    } finally {
      await handle.terminate('test over').catch(() => undefined);
    }
  });
});
