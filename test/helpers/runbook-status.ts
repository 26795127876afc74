// Reading a runbook's `status` query in tests and the history recorder: one record, the whole log, and
// waiting until the runbook reaches a state.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../src/contract/messages';
import type { StepName } from '../../src/contract/names';
import type { RunbookStatus, StepRecord } from '../../src/contract/types';

/** The step's record in a status. */
export function step(status: RunbookStatus, name: StepName): StepRecord {
  const record = status.steps.find((s) => s.step === name);
  assert.ok(record, `status lists ${name}`);
  return record;
}

/** Step name → status, for comparing the whole step log at once. */
export function stepStatuses(status: RunbookStatus): Record<string, string> {
  return Object.fromEntries(status.steps.map((s) => [s.step, s.status]));
}

/** The first wait between two status queries, and the longest (each wait is half as long again as the one before). */
const FIRST_POLL_MS = 100;
const LONGEST_POLL_MS = 400;

/**
 * Polls the `status` query until `predicate` holds; throws with the last status once `timeoutMs` has passed.
 * A query that fails (no worker for a moment, a workflow not started yet) is asked again until the deadline.
 * A query costs ~12 ms of CPU (client, worker and server): the polls start 100 ms apart and slow to 400 ms, so a
 * long wait does not spend a tenth of a core on them.
 */
export async function waitForStatus(
  handle: WorkflowHandle,
  predicate: (status: RunbookStatus) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<RunbookStatus> {
  const deadline = Date.now() + timeoutMs;
  let last: RunbookStatus | undefined;
  let error: unknown;
  let pause = FIRST_POLL_MS;
  while (Date.now() < deadline) {
    try {
      last = await handle.query(statusQuery);
      error = undefined;
      if (predicate(last)) return last;
    } catch (e) {
      error = e;
    }
    await sleep(pause);
    pause = Math.min(LONGEST_POLL_MS, pause * 1.5);
  }
  assert.fail(
    `timed out after ${timeoutMs} ms waiting for ${what}; last status: ${JSON.stringify(last, null, 1)}` +
      (error ? `\nlast query error: ${String(error)}` : ''),
  );
}
