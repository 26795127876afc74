// `geofailover worker --probe-region R` end to end, short of a workflow: runWorker builds the activities from a
// configuration aimed at the emulator, connects the Temporal way (TEMPORAL_ADDRESS) and polls the region's probe
// task queue on the shared dev server; aborting stops it cleanly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { parseConfig } from '../../src/config/load';
import { probeTaskQueue } from '../../src/contract/names';
import type { Emulator } from '../../src/emulator';
import { runWorker } from '../../src/worker';
import { startTestEmulator } from '../helpers/emulator';
import { peopleConfig } from '../helpers/people';
import { getTestEnv } from '../helpers/temporal';

// temporal.api.enums.v1: TaskQueueKind.NORMAL, TaskQueueType.ACTIVITY (numeric: @temporalio/proto is not a direct
// dependency).
const TASK_QUEUE_KIND_NORMAL = 1;
const TASK_QUEUE_TYPE_ACTIVITY = 2;

describe('probe worker wiring (runWorker --probe-region)', function () {
  this.timeout(240_000);
  let env: TestWorkflowEnvironment;
  let emulator: Emulator;
  const saved = { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE };

  before(async () => {
    [env, emulator] = await Promise.all([getTestEnv(), startTestEmulator()]);
    process.env.TEMPORAL_ADDRESS = process.env.TEMPORAL_TEST_ADDRESS;
    process.env.TEMPORAL_NAMESPACE = 'default';
  });
  after(async () => {
    for (const [k, v] of [
      ['TEMPORAL_ADDRESS', saved.address],
      ['TEMPORAL_NAMESPACE', saved.namespace],
    ] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await Promise.all([env?.teardown(), emulator?.close()]);
  });

  it('polls geofailover-probe-<region>, built from the configuration and TEMPORAL_ADDRESS, and stops when asked', async () => {
    // A region name no other test uses, so the probe queue is this test's own.
    const region = `probe${randomBytes(4).toString('hex')}`;
    const state = emulator.state();
    const members = Object.fromEntries(state.databases.map((d) => [d.location, d.id]));
    const addresses = Object.fromEntries(
      state.databases.map((d) => {
        const a = emulator.privateEndpoint('eastus', d.id);
        return [d.location, `${a.host}:${a.port}`];
      }),
    );
    const config = parseConfig(
      JSON.stringify({
        people: peopleConfig(['sre-lead']),
        azure: { endpoint: emulator.arm, caFile: emulator.caPath },
        groups: {
          leaderboard: {
            members,
            trafficManager: {
              profileId: `/subscriptions/${state.subscriptionId}/resourceGroups/rg-geofailover-demo/providers/Microsoft.Network/trafficManagerProfiles/tm-leaderboard`,
              endpoints: Object.fromEntries(Object.keys(members).map((r) => [r, { name: r }])),
            },
            applicationRegions: { [region]: addresses },
            commanders: ['sre-lead'],
            approvers: ['sre-lead'],
          },
        },
      }),
      'test.json',
    );

    const stop = new AbortController();
    let ready: { kind: string; taskQueue: string; namespace: string } | undefined;
    const running = runWorker({ config, probeRegion: region, signal: stop.signal, onReady: (i) => (ready = i) });
    running.catch(() => undefined);
    try {
      const taskQueue = probeTaskQueue(region);
      let pollers = 0;
      for (let i = 0; i < 50 && pollers === 0; i++) {
        const r = await env.client.workflowService.describeTaskQueue({
          namespace: 'default',
          taskQueue: { name: taskQueue, kind: TASK_QUEUE_KIND_NORMAL },
          taskQueueType: TASK_QUEUE_TYPE_ACTIVITY,
        });
        pollers = r.pollers?.length ?? 0;
        if (pollers === 0) await new Promise((res) => setTimeout(res, 200));
      }
      assert.deepEqual(ready, { kind: 'probe', taskQueue, namespace: 'default' });
      assert.ok(pollers > 0, `a worker polls ${taskQueue} for activities`);
    } finally {
      stop.abort();
    }
    await running;
  });
});
