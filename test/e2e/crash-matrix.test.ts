// The crash matrix: one failover of eastus (outage, reroute, unlink with approval, rejoin with approval,
// failback) on the real stack, its main worker a `geofailover worker` process. The run passes through every
// kill point of the table in turn: at each one the worker is SIGKILLed and a new one started, and the run goes
// on. Kill points are found from what the run shows (its `status` steps and open gate, its pending activities)
// and what the emulator sees (an operation in progress, an endpoint PATCH applied), never from sleeps. At the
// end the run has completed and every destructive ARM call was made exactly once (the emulator's counters).
// crash-matrix-server.test.ts crashes the Temporal dev server itself during another run, on a stack of its own, so
// that the two runs go on at once.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunbookStatus } from '../../src/contract/types';
import {
  CRASH_TUNING,
  destructiveCounts,
  EXACTLY_ONCE,
  FAILED,
  POINT_TIMEOUT_MS,
  startCrashStack,
  succeeded,
  type CrashStack,
} from '../helpers/crash-stack';
import { decideAs, unlinkNowAs } from '../helpers/people';
import {
  type RealStack,
  REQUESTER,
  step,
  stepStatuses,
  waitForStatus,
  waitUntil,
  type SpawnedWorker,
} from '../helpers/real-stack';

/** How long the Azure operations of the destructive steps take: long enough to find one in progress and kill. */
const DESTRUCTIVE_LRO_MS = 6_000;
/** How long the emulator holds a force-unlink or force-link call before handling it. */
const DESTRUCTIVE_CALL_LATENCY_MS = 5_000;
/**
 * Traffic Manager profile reads are slowed around the endpoint switches: the PATCH comes well after the step
 * begins, and the activity that sent it is still reading the profile back when the emulator has applied it.
 */
const PROFILE_READ_LATENCY_MS = 2_000;
/** pendingActivities[].state: temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED */
const ACTIVITY_STARTED = 2;

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

describe('crash matrix: the main worker crashes at every point of a failover', function () {
  this.timeout(20 * 60_000);
  let crash: CrashStack | undefined;
  let worker: SpawnedWorker | undefined;

  before(async () => {
    crash = await startCrashStack();
  });
  after(async () => {
    await worker?.kill('SIGKILL');
    await crash?.close();
  });

  it('SIGKILL of the worker at every kill point, a new worker each time: the run completes, each destructive call once', async () => {
    const s = (crash as CrashStack).stack;
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
});
