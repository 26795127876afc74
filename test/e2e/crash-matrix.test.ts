// The crash matrix: one failover of eastus (outage, reroute, unlink with approval, rejoin with approval,
// failback) on the real stack, its main worker a `geofailover worker` process. The run passes through every
// kill point of the table in turn: at each one the worker is SIGKILLed and a new one started, and the run goes
// on. Kill points are found from what the run shows (its `status` steps and open gate, its pending activities)
// and what the emulator sees (an operation in progress, an endpoint PATCH applied), never from sleeps. At the
// end the run has completed and every destructive ARM call was made exactly once (the emulator's counters). A
// second run on the same stack crashes the Temporal dev server itself (file-backed, restarted on the same port)
// during await-recovery and during an approval wait.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { workflowIds } from '../../src/contract/names';
import type { RunbookTuning } from '../../src/contract/runbook';
import type { RunbookStatus } from '../../src/contract/types';
import { decideAs, unlinkNowAs } from '../helpers/people';
import {
  REAL_STACK_TUNING,
  RealStack,
  REQUESTER,
  step,
  stepStatuses,
  waitForStatus,
  waitUntil,
  type SpawnedWorker,
} from '../helpers/real-stack';
import { startRestartableDevServer, type RestartableDevServer } from '../helpers/restartable-dev-server';
import { installTestRuntime } from '../helpers/temporal';

const FAILED = 'eastus';
/** Every kill point may cost an activity's timeout (a killed attempt is retried only once it has timed out). */
const POINT_TIMEOUT_MS = 150_000;
/** How long the Azure operations of the destructive steps take: long enough to find one in progress and kill. */
const DESTRUCTIVE_LRO_MS = 6_000;
/** How long the emulator holds a force-unlink or force-link call before handling it. */
const DESTRUCTIVE_CALL_LATENCY_MS = 5_000;
/**
 * Traffic Manager profile reads are slowed around the endpoint switches: the PATCH comes well after the step
 * begins, and the activity that sent it is still reading the profile back when the emulator has applied it.
 */
const PROFILE_READ_LATENCY_MS = 2_000;
/**
 * The drill's tuning, made for a run whose worker is killed over and over: a killed attempt counts as a failed one,
 * so reads may take longer in all (a lost attempt is noticed at its start-to-close) and mutations get more attempts
 * than the drill's 3; the heartbeat timeout (how soon a killed destructive attempt is retried) allows for a worker
 * starved of CPU by its own start-up.
 */
const CRASH_TUNING: RunbookTuning = {
  ...REAL_STACK_TUNING,
  reads: { ...REAL_STACK_TUNING.reads, scheduleToClose: '3m' },
  mutationMaximumAttempts: 10,
  heartbeatTimeout: '10s',
};
/**
 * Replication metadata builds up slowly (64 MiB would take hours): the unlink trigger never fires on its own, so
 * await-recovery stays a watch until the commander asks for the unlink.
 */
const SLOW_METADATA_BUILDUP = 4 * 1024;
/** How long the Temporal server stays down when it crashes. */
const SERVER_DOWN_MS = 5_000;
/** pendingActivities[].state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED */
const ACTIVITY_STARTED = 2;

/** The ARM calls that change the group or its traffic: each must be accepted exactly once per incident. */
const DESTRUCTIVE = ['forceUnlink', 'forceLinkToReplicationGroup', 'updateEndpoint'] as const;

interface Ctx {
  stack: RealStack;
  /** the run's latest execution (follows continue-as-new) */
  handle: WorkflowHandle;
  worker: SpawnedWorker;
}

interface KillPoint {
  /** the row's name: where the worker is killed */
  at: string;
  /** what people or the region do first, with a worker running, so that the run can get there */
  before?: (ctx: Ctx) => Promise<void>;
  /** resolves once the run is at this point */
  reached: (ctx: Ctx) => Promise<unknown>;
  /** with no worker running: what must have happened before a new worker starts */
  whileDown?: (ctx: Ctx) => Promise<void>;
}

function status(ctx: Ctx, predicate: (s: RunbookStatus) => boolean, what: string): Promise<RunbookStatus> {
  return waitForStatus(ctx.handle, predicate, what, POINT_TIMEOUT_MS);
}

const succeeded =
  (...names: Parameters<typeof step>[1][]) =>
  (s: RunbookStatus) =>
    names.every((n) => step(s, n).status === 'succeeded');

/**
 * The destructive activity is running on the current worker (its pending activity STARTED by this worker's
 * identity; retried activities show ActivityTaskStarted in history only once they close) while the emulator runs
 * the Azure operation it started.
 */
async function insideOperation(ctx: Ctx, activityType: string, operation: string): Promise<void> {
  const deadline = Date.now() + POINT_TIMEOUT_MS;
  for (;;) {
    const { raw } = await ctx.handle.describe();
    const running = (raw.pendingActivities ?? []).some(
      (a) =>
        a.activityType?.name === activityType &&
        a.state === ACTIVITY_STARTED &&
        (a.lastWorkerIdentity ?? '').startsWith(`${ctx.worker.pid}@`),
    );
    if (running && ctx.stack.operationInProgress(operation)) return;
    if (Date.now() > deadline) {
      assert.fail(
        `timed out waiting for ${activityType} on worker ${ctx.worker.pid} with ${operation} in progress; ` +
          `pending: ${JSON.stringify(raw.pendingActivities?.map((a) => [a.activityType?.name, a.state, a.lastWorkerIdentity]))}`,
      );
    }
    await sleep(100);
  }
}

/**
 * The emulator has applied the `n`th PATCH of the failed region's endpoint; the activity that sent it is still
 * reading the profile back (profile reads are slowed), so the workflow has not seen its result.
 */
function patched(stack: RealStack, n: number): Promise<void> {
  return waitUntil(() => stack.count('updateEndpoint', `/${FAILED}`) >= n, `endpoint PATCH ${n}`, POINT_TIMEOUT_MS);
}

/** The table: every step boundary of the failover and the inside of every destructive activity, in run order. */
const KILL_POINTS: KillPoint[] = [
  {
    at: 'after validate-input and membership',
    reached: (ctx) => status(ctx, succeeded('validate-input', 'membership'), 'membership'),
  },
  {
    at: 'after memory ∥ firewall',
    reached: (ctx) => status(ctx, succeeded('memory', 'firewall'), 'memory and firewall'),
  },
  {
    at: 'inside traffic-reroute: the endpoint PATCHed Disabled, the activity reading the profile back',
    reached: ({ stack }) => patched(stack, 1),
    whileDown: async ({ stack }) => {
      stack.emulator.faults.latency({ operation: 'getProfile', ms: 0 });
    },
  },
  {
    at: 'after traffic-reroute',
    reached: (ctx) => status(ctx, succeeded('traffic-reroute'), 'traffic-reroute'),
  },
  {
    at: 'after verify',
    reached: (ctx) => status(ctx, succeeded('verify'), 'verify'),
  },
  {
    at: 'during await-recovery (after a poll)',
    reached: (ctx) =>
      status(
        ctx,
        (s) =>
          step(s, 'await-recovery').status === 'running' &&
          !s.openGate &&
          Number((step(s, 'await-recovery').evidence as { polls?: number } | undefined)?.polls ?? 0) >= 1,
        'an await-recovery poll',
      ),
  },
  {
    at: 'during the approval-unlink wait',
    before: (ctx) => unlinkNowAs(ctx.handle, REQUESTER, 'down for 12 h'),
    reached: (ctx) => status(ctx, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate'),
  },
  {
    at: 'after approval-unlink',
    before: async (ctx) => {
      await status(ctx, (s) => s.openGate?.gate === 'approval-unlink', 'the unlink gate again');
      const ok = await decideAs(ctx.handle, 'sre-manager');
      assert.equal(ok.accepted, true, ok.reason);
    },
    reached: (ctx) => status(ctx, succeeded('approval-unlink'), 'approval-unlink'),
  },
  {
    at: 'inside force-unlink: the operation in progress',
    reached: (ctx) => insideOperation(ctx, 'forceUnlink', 'forceUnlink'),
  },
  {
    at: 'after force-unlink (the region still down)',
    reached: (ctx) => status(ctx, succeeded('force-unlink'), 'force-unlink'),
  },
  {
    at: 'during the approval-rejoin wait',
    before: ({ stack }) => stack.emulator.faults.restore(FAILED).then(() => undefined),
    reached: (ctx) => status(ctx, (s) => s.openGate?.gate === 'approval-rejoin', 'the rejoin gate'),
  },
  {
    at: 'after approval-rejoin',
    before: async (ctx) => {
      await status(ctx, (s) => s.openGate?.gate === 'approval-rejoin', 'the rejoin gate again');
      const ok = await decideAs(ctx.handle, 'data-owner');
      assert.equal(ok.accepted, true, ok.reason);
    },
    reached: (ctx) => status(ctx, succeeded('approval-rejoin'), 'approval-rejoin'),
  },
  {
    at: 'inside rejoin: the force-link operation in progress',
    reached: (ctx) => insideOperation(ctx, 'rejoinMember', 'forceLinkToReplicationGroup'),
    // failback's profile read is slowed again, so that the next point comes before its PATCH
    whileDown: async ({ stack }) => {
      stack.emulator.faults.latency({ operation: 'getProfile', ms: PROFILE_READ_LATENCY_MS });
    },
  },
  {
    at: 'after rejoin (traffic-failback probing the region)',
    reached: (ctx) => status(ctx, succeeded('rejoin'), 'rejoin'),
  },
  {
    at: 'inside traffic-failback: the endpoint PATCHed Enabled, the activity reading the profile back',
    reached: ({ stack }) => patched(stack, 2),
    whileDown: async ({ stack }) => {
      stack.emulator.faults.latency({ operation: 'getProfile', ms: 0 });
    },
  },
  {
    at: 'after traffic-failback',
    reached: (ctx) => status(ctx, succeeded('traffic-failback'), 'traffic-failback'),
  },
];

/** The destructive ARM calls the emulator accepted, per operation (all resources). */
function destructiveCounts(stack: RealStack): Record<string, number> {
  return Object.fromEntries(DESTRUCTIVE.map((op) => [op, stack.count(op)]));
}

/** One incident's destructive calls: one unlink, one link, the endpoint disabled once and enabled once. */
const EXACTLY_ONCE = { forceUnlink: 1, forceLinkToReplicationGroup: 1, updateEndpoint: 2 };

describe('crash matrix: the main worker and the Temporal server crash at every point of a failover', function () {
  this.timeout(20 * 60_000);
  let server: RestartableDevServer | undefined;
  let env: TestWorkflowEnvironment | undefined;
  let stack: RealStack | undefined;
  let worker: SpawnedWorker | undefined;

  before(async () => {
    server = await startRestartableDevServer();
    installTestRuntime();
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address, namespace: 'default' });
    stack = await RealStack.start(env, {
      mainWorker: false,
      temporalAddress: server.address,
      metadataBytesPerSecond: SLOW_METADATA_BUILDUP,
    });
  });
  after(async () => {
    await worker?.kill('SIGKILL');
    await stack?.close();
    await env?.teardown();
    await server?.close();
  });

  it('SIGKILL of the worker at every kill point, a new worker each time: the run completes, each destructive call once', async () => {
    const s = stack as RealStack;
    const { faults } = s.emulator;
    await faults.outage(FAILED);
    faults.lro({ operation: 'forceUnlink', durationMs: DESTRUCTIVE_LRO_MS });
    faults.lro({ operation: 'forceLinkToReplicationGroup', durationMs: DESTRUCTIVE_LRO_MS });
    faults.latency({ operation: 'getProfile', ms: PROFILE_READ_LATENCY_MS });
    // The destructive calls are held before the emulator handles them: a worker killed meanwhile drops the
    // connection, so the call is never made and "after approval" comes before the operation starts.
    faults.latency({ operation: 'forceUnlink', ms: DESTRUCTIVE_CALL_LATENCY_MS });
    faults.latency({ operation: 'forceLinkToReplicationGroup', ms: DESTRUCTIVE_CALL_LATENCY_MS });
    worker = await s.spawnWorker();
    const started = await s.startFailover(FAILED, REQUESTER, CRASH_TUNING);
    const ctx: Ctx = {
      stack: s,
      handle: s.client.workflow.getHandle(started.workflowId),
      worker,
    };

    for (const point of KILL_POINTS) {
      const t0 = Date.now();
      await point.before?.(ctx);
      const reached = await point.reached(ctx);
      await ctx.worker.kill('SIGKILL');
      const killedAfterMs = Date.now() - t0;
      await point.whileDown?.(ctx);
      const t1 = Date.now();
      ctx.worker = worker = await s.spawnWorker();
      // The server may take a moment to route queries to the new poller.
      await status(ctx, () => true, 'the new worker answering `status`');
      // One line per row: where the run was (status, when the point was found from it) and what ARM has seen.
      const shown = (reached as RunbookStatus | undefined)?.steps
        ? Object.entries(stepStatuses(reached as RunbookStatus))
            .filter(([, st]) => st !== 'pending')
            .map(([n, st]) => `${n}:${st}`)
            .join(' ')
        : '(found from the emulator)';
      process.stderr.write(
        `      SIGKILL ${point.at} (after ${killedAfterMs} ms; new worker in ${Date.now() - t1} ms)\n` +
          `        steps: ${shown}\n        destructive calls: ${JSON.stringify(destructiveCounts(s))}\n`,
      );
    }

    const result = await started.result();
    // What the destructive steps say they did, after every crash (the path each retry took).
    for (const name of ['traffic-reroute', 'force-unlink', 'rejoin', 'traffic-failback'] as const) {
      process.stderr.write(`      ${name}: ${step(result.status, name).summary}\n`);
    }
    assert.equal(result.outcome, 'completed', result.summary);
    assert.deepEqual(destructiveCounts(s), EXACTLY_ONCE, 'each destructive ARM call exactly once');
    assert.equal(s.count('updateEndpoint', `/${FAILED}`), 2, 'only the failed region endpoint was switched');
    for (const op of ['create', 'delete', 'update', 'flush', 'regenerateKey', 'createOrUpdateEndpoint'] as const) {
      assert.equal(s.count(op), 0, `no ${op}`);
    }
    assert.deepEqual(s.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    s.assertFullyLinked();
    assert.equal(step(result.status, 'force-unlink').status, 'succeeded');
    assert.equal(step(result.status, 'rejoin').status, 'succeeded');
  });

  it('the Temporal dev server crashed and restarted during await-recovery and during the approval-unlink wait: the run goes on and completes, each destructive call once', async () => {
    const s = stack as RealStack;
    const dev = server as RestartableDevServer;
    const { faults } = s.emulator;
    // On its own, whatever the first run left: no open run, no fault, counters from zero.
    const previous = s.client.workflow.getHandle(workflowIds.failover(s.group.name));
    await previous.terminate('the crash matrix run did not complete').catch(() => undefined);
    await faults.reset();
    s.emulator.resetCounters();
    await faults.outage(FAILED);
    worker ??= await s.spawnWorker();
    const started = await s.startFailover(FAILED, REQUESTER, CRASH_TUNING);
    const handle = s.client.workflow.getHandle(started.workflowId);
    const polls = (st: RunbookStatus): number =>
      Number((step(st, 'await-recovery').evidence as { polls?: number } | undefined)?.polls ?? 0);
    /** Crashes the server and starts it again; a worker that did not survive it is started again (and counted). */
    const workerRestarts: string[] = [];
    async function crashServer(during: string): Promise<void> {
      await dev.crash();
      // Down for a while, as a real restart is: pollers, heartbeats and the client's calls fail and are retried.
      await sleep(SERVER_DOWN_MS);
      await dev.start();
      if ((worker as SpawnedWorker).hasExited()) {
        workerRestarts.push(
          `${during}: ${(worker as SpawnedWorker).stderr().trim().split('\n').slice(-3).join(' | ')}`,
        );
        worker = await s.spawnWorker();
      }
    }

    const watching = await waitForStatus(
      handle,
      (st) => step(st, 'await-recovery').status === 'running' && polls(st) >= 1,
      'an await-recovery poll',
      POINT_TIMEOUT_MS,
    );
    await crashServer('await-recovery');
    // The watch goes on after the restart: it polls again.
    await waitForStatus(handle, (st) => polls(st) > polls(watching), 'a poll after the restart', POINT_TIMEOUT_MS);

    await unlinkNowAs(handle, REQUESTER, 'down for 12 h');
    const opened = await waitForStatus(
      handle,
      (st) => st.openGate?.gate === 'approval-unlink',
      'the unlink gate',
      POINT_TIMEOUT_MS,
    );
    await crashServer('the approval-unlink wait');
    const gate = await waitForStatus(
      handle,
      (st) => st.openGate?.gate === 'approval-unlink',
      'the unlink gate after the restart',
      POINT_TIMEOUT_MS,
    );
    assert.equal(gate.openGate?.instance, opened.openGate?.instance, 'the same gate is still open');
    assert.deepEqual(gate.openGate?.approvals, [], 'and still waiting');
    const unlink = await decideAs(handle, 'sre-manager');
    assert.equal(unlink.accepted, true, unlink.reason);
    await waitForStatus(handle, succeeded('force-unlink'), 'force-unlink', POINT_TIMEOUT_MS);

    await faults.restore(FAILED);
    await waitForStatus(handle, (st) => st.openGate?.gate === 'approval-rejoin', 'the rejoin gate', POINT_TIMEOUT_MS);
    const rejoin = await decideAs(handle, 'data-owner');
    assert.equal(rejoin.accepted, true, rejoin.reason);
    const result = await started.result();
    if (workerRestarts.length > 0) process.stderr.write(`      worker restarted after: ${workerRestarts.join('; ')}\n`);
    assert.equal(dev.starts, 3, 'the server was started once and restarted twice');
    assert.equal(result.outcome, 'completed', result.summary);
    assert.deepEqual(destructiveCounts(s), EXACTLY_ONCE, 'each destructive ARM call exactly once');
    assert.deepEqual(s.endpointStatuses(), { eastus: 'Enabled', westeurope: 'Enabled', southeastasia: 'Enabled' });
    s.assertFullyLinked();
  });
});
