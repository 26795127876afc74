// A failed region that hangs instead of answering 503: its ARM front end accepts every request and never
// answers (the emulator's `hang` fault). On the real stack, the runbook must still move traffic within a bound
// — the failed member's read is off the RTO path and every ARM request has a timeout — and leave no activity
// of the membership step running afterwards.
import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { MemberSnapshot } from '../../src/contract/types';
import {
  REAL_STACK_TUNING,
  RealStack,
  REQUESTER,
  step,
  waitForStatus,
  type RunbookHandle,
} from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
/** What a per-request timeout the test gives the workers (production default: 10 s). */
const REQUEST_TIMEOUT_MS = 2000;
/**
 * The hung member's read budget (tuning.failedMemberRead; the drill's is 3 s): longer than the survivors' reads take
 * even on a loaded machine, so that whether traffic moved before that read ended shows whether it waited for it.
 */
const FAILED_READ_BUDGET_MS = 15_000;
/** The failed member's read budget, plus slack for the server and a loaded machine. */
const FAILED_READ_BOUND_MS = FAILED_READ_BUDGET_MS + 4000;

type HistoryEvent = NonNullable<Awaited<ReturnType<RunbookHandle['fetchHistory']>>['events']>[number];

/** The first ActivityTaskScheduled event of `activityType` whose first argument `matches`, and its closing event. */
function activityEvents(
  events: HistoryEvent[],
  activityType: string,
  matches: (input: Record<string, unknown>) => boolean,
): { scheduledId: number; closedId: number | undefined } | undefined {
  const scheduled = events.find((e) => {
    const a = e.activityTaskScheduledEventAttributes;
    const data = a?.input?.payloads?.[0]?.data;
    if (a?.activityType?.name !== activityType || !data) return false;
    return matches(JSON.parse(Buffer.from(data).toString('utf8')) as Record<string, unknown>);
  });
  if (!scheduled) return undefined;
  const id = Number(scheduled.eventId);
  const closed = events.find((e) =>
    [e.activityTaskCompletedEventAttributes, e.activityTaskFailedEventAttributes, e.activityTaskTimedOutEventAttributes]
      .filter((a) => a)
      .some((a) => Number(a?.scheduledEventId) === id),
  );
  return { scheduledId: id, closedId: closed ? Number(closed.eventId) : undefined };
}

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
    const handle = await stack.startFailover(FAILED, REQUESTER, {
      ...REAL_STACK_TUNING,
      failedMemberRead: `${FAILED_READ_BUDGET_MS / 1000}s`,
    });

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
    // Traffic moved before the hung member's read ended (it runs out its 15 s budget): read from the history, not
    // timed, so that a starved machine's slow survivors do not count as waiting for the hang.
    const events = (await handle.fetchHistory()).events ?? [];
    const hungRead = activityEvents(events, 'describeMember', (m) => m.region === FAILED);
    const disable = activityEvents(events, 'setEndpointStatus', () => true);
    assert.ok(hungRead && disable, 'the history holds the hung member’s read and the endpoint switch');
    assert.ok(
      disable.scheduledId < (hungRead.closedId ?? Infinity),
      `traffic moved before the hung member's read ended (RTO ${rtoMs} ms), not after the hang`,
    );
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
