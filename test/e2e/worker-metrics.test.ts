// The worker's Prometheus endpoint after a run: the SDK's runtime metrics and the runbook's own — RTO seconds, gate
// wait seconds per gate, destructive calls per kind, interventions — from a real worker process with observability
// on (test/fixtures/metrics-worker.ts: the real workflows, mocked activities), its log lines JSON.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WORKFLOW_TYPES, workflowIds } from '../../src/contract/names';
import { scrapeMetrics } from '../../src/observability/prometheus';
import type { failoverRunbook } from '../../src/workflows';
import { abortAs, interveneAs, policyFor } from '../helpers/people';
import { testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { step, waitForStatus } from '../helpers/runbook-status';
import { getTestEnv, uniqueTaskQueue } from '../helpers/temporal';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The value of a sample line `name{labels} value` whose labels include every given one; undefined if none. */
function sample(metrics: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('worker metrics on Prometheus (a real worker process)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let child: ChildProcess | undefined;
  let stderr = '';

  before(async () => {
    env = await getTestEnv();
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await env?.teardown();
  });

  it('/metrics shows the runbook metrics after a run, beside the SDK’s; the log lines are JSON', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const group = testGroup(regions);
    const port = await freePort();
    const taskQueue = uniqueTaskQueue('metrics');
    child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, '../fixtures/metrics-worker.ts')], {
      env: {
        ...process.env,
        GF_METRICS_SCENARIO: JSON.stringify({ group, policy: policyFor(group), failedRegion: failed, taskQueue, port }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on('data', (c: Buffer) => c.toString().includes('ready') && resolve());
      child!.once('exit', (code) => reject(new Error(`the worker exited (${code}): ${stderr}`)));
    });

    const handle = await env.client.workflow.start<typeof failoverRunbook>(WORKFLOW_TYPES.failoverRunbook, {
      taskQueue,
      workflowId: workflowIds.failover(group.name),
      args: [testInput(group, failed)],
    });
    try {
      await waitForStatus(handle, (s) => s.openGate?.gate === 'intervention:traffic-reroute', 'intervention', 60_000);
      await interveneAs(handle, 'sre-lead', 'retry', 'the lock is released');
      await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery', 60_000);
      await abortAs(handle, 'sre-lead', 'test over');
      const result = await handle.result();
      assert.equal(result.outcome, 'aborted', result.summary);
      assert.ok(result.rtoMs !== undefined, 'traffic was rerouted');
    } finally {
      await handle.terminate('test ended').catch(() => undefined);
    }

    // The worker exports what the workflow recorded on its next scrape.
    const metrics = await scrapeMetrics('127.0.0.1', port, 10_000);
    const rtoCount = sample(metrics, 'geofailover_rto_seconds_count', { group: group.name });
    assert.equal(
      rtoCount,
      1,
      `one RTO recorded:\n${metrics
        .split('\n')
        .filter((l) => l.includes('geofailover'))
        .join('\n')}`,
    );
    assert.equal(
      sample(metrics, 'geofailover_gate_wait_seconds_count', {
        gate: 'intervention:traffic-reroute',
        outcome: 'retry',
      }),
      1,
    );
    assert.equal(sample(metrics, 'geofailover_interventions', { step: 'traffic-reroute' }), 1);
    assert.equal(
      sample(metrics, 'geofailover_destructive_calls', { kind: 'endpoint-status' }),
      2,
      'the failed switch and its retry',
    );
    assert.ok(sample(metrics, 'temporal_workflow_completed') !== undefined, 'the SDK’s runtime metrics');
    assert.ok(
      metrics.includes('geofailover_rto_seconds_bucket{') &&
        /geofailover_rto_seconds_bucket\{[^}]*le="0.5"\}/.test(metrics),
      'RTO buckets in seconds',
    );

    const lines = stderr.split('\n').filter((l) => l.trim());
    assert.ok(lines.length > 0, 'the worker logged');
    for (const line of lines) {
      const entry = JSON.parse(line) as { time: string; level: string; message: string };
      assert.ok(entry.time && entry.level && typeof entry.message === 'string', line);
    }
  });
});
