// A failed region that hangs instead of answering 503: its ARM front end accepts every request and never
// answers (the emulator's `hang` fault). On the real stack, the runbook must still move traffic within a bound
// — the failed member's read is off the RTO path and every ARM request has a timeout — and leave no activity
// of the membership step running afterwards.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { MemberSnapshot } from '../../src/contract/types';
import { RealStack, step, waitForStatus } from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
/** What a per-request timeout the test gives the workers (production default: 10 s). */
const REQUEST_TIMEOUT_MS = 2000;
/** The drill tuning's failedMemberRead (3 s), plus slack for the server and a loaded machine. */
const FAILED_READ_BOUND_MS = 3000 + 4000;

describe('failoverRunbook on the real stack: a hung failed region', function () {
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

  it('reroutes traffic within a bound; the hung member is a finding, and no membership read stays running', async () => {
    stack = await RealStack.start(env, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
    stack.emulator.faults.hang({ region: FAILED });
    const started = Date.now();
    const handle = await stack.startFailover(FAILED);

    const rerouted = await waitForStatus(
      handle,
      (s) => step(s, 'traffic-reroute').status === 'succeeded',
      'traffic-reroute',
      30_000,
    );
    const wallMs = Date.now() - started;
    const reroute = step(rerouted, 'traffic-reroute');
    const rtoMs = (reroute.evidence as { rtoMs: number }).rtoMs;
    process.stderr.write(`      hung failed region: RTO ${rtoMs} ms (start → reroute seen ${wallMs} ms)\n`);
    assert.ok(rtoMs < 5000, `traffic moved within 5 s of the start (RTO ${rtoMs} ms), not after the hang`);
    assert.equal(stack.endpointStatuses()[FAILED], 'Disabled', 'traffic moved away from the hung region');

    const before = (step(rerouted, 'membership').evidence as { before: MemberSnapshot[] }).before;
    const failed = before.find((m) => m.region === FAILED);
    assert.equal(failed?.reachable, false, 'the hung member is recorded as not answering');
    assert.ok(
      before.filter((m) => m.region !== FAILED).every((m) => m.reachable),
      'every survivor answered',
    );
    const reroutedAt = Date.parse(reroute.endedAt ?? new Date().toISOString());

    // Within the failed member's read budget, nothing scheduled before traffic moved is still pending: the
    // membership step's read of the hung member ended by itself (its requests aborted at its deadline).
    let stale: string[] = [];
    const deadline = Date.now() + FAILED_READ_BOUND_MS;
    for (;;) {
      const described = await handle.describe();
      stale = (described.raw.pendingActivities ?? [])
        .filter((a) => {
          const scheduled = a.scheduledTime?.seconds;
          return scheduled !== undefined && scheduled !== null && Number(scheduled) * 1000 < reroutedAt - 1000;
        })
        .map((a) => `${a.activityType?.name ?? '?'} (attempt ${a.attempt ?? '?'}, ${a.state})`);
      if (stale.length === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.deepEqual(stale, [], 'no activity from before the reroute is still pending');

    // The watch goes on: await-recovery's reads of the hung member end one by one at the per-request timeout,
    // so the emulator holds at most the one in flight.
    const watching = await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'watching');
    assert.equal(watching.phase, 'awaiting-recovery');
    await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS + 500));
    assert.ok(
      stack.emulator.faults.list().requestsHeld <= 2,
      `held requests stay bounded: ${stack.emulator.faults.list().requestsHeld}`,
    );
  });
});
