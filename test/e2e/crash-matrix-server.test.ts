// The crash matrix, second half (the first: crash-matrix.test.ts, on a stack of its own, so the two runs go on at
// once): one failover of eastus on the real stack, its main worker a `geofailover worker` process, on a private
// file-backed dev server that crashes (SIGKILL) and is restarted on the same port during await-recovery and during
// the approval-unlink wait. The run goes on and completes, and every destructive ARM call was made exactly once (the
// emulator's counters).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
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
import { REQUESTER, step, waitForStatus, type SpawnedWorker } from '../helpers/real-stack';

/** How long the Temporal server stays down when it crashes. */
const SERVER_DOWN_MS = 5_000;

describe('crash matrix: the Temporal server crashes during a failover', function () {
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

  it('the Temporal dev server crashed and restarted during await-recovery and during the approval-unlink wait: the run goes on and completes, each destructive call once', async () => {
    const { stack: s, server: dev } = crash as CrashStack;
    const { faults } = s.emulator;
    await faults.outage(FAILED);
    worker = await s.spawnWorker();
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
