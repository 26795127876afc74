import type { PollerLike, PollOperationState } from '@azure/core-lro';
import { Context } from '@temporalio/activity';

/** How often a waiting activity heartbeats (the SDK throttles what it sends to the server). */
const HEARTBEAT_EVERY_MS = 1000;

/** Default delay between state re-reads while waiting for something another operation is doing. */
export const DEFAULT_REREAD_INTERVAL_MS = 2000;

/**
 * What a long-running Azure operation leaves in the activity's heartbeat, so that a retry after a worker crash
 * resumes polling the same operation (`resumeFrom`) instead of starting it again. URLs only: no keys or tokens.
 */
export interface LroCheckpoint {
  operation: 'forceUnlink' | 'forceLinkToReplicationGroup';
  /** the database the operation was called on */
  calledOn: string;
  /** what it acts on: the failed member (force-unlink) or the rejoining database (force-link) */
  subject: string;
  /** the operation's id (last segment of its status URL) */
  operationId?: string;
  /** `poller.toString()` */
  pollerState: string;
}

/** The checkpoint an earlier attempt of this activity left for `operation` on `subject`, if any. */
export function checkpointFor(
  details: unknown,
  operation: LroCheckpoint['operation'],
  subject: string,
): LroCheckpoint | undefined {
  const c = details as Partial<LroCheckpoint> | undefined;
  if (
    c &&
    c.operation === operation &&
    typeof c.pollerState === 'string' &&
    typeof c.calledOn === 'string' &&
    typeof c.subject === 'string' &&
    c.subject.toLowerCase() === subject.toLowerCase()
  ) {
    return c as LroCheckpoint;
  }
  return undefined;
}

/** The operation id out of a serialized poller: the last segment of its polling (status) URL. */
export function operationIdOf(pollerState: string): string | undefined {
  try {
    // core-lro 2.x keeps the status URL as `operationLocation` (legacy LroEngine) or `pollingUrl` (createHttpPoller).
    const config = (
      JSON.parse(pollerState) as { state?: { config?: { operationLocation?: string; pollingUrl?: string } } }
    ).state?.config;
    const url = config?.operationLocation ?? config?.pollingUrl;
    if (!url) return undefined;
    return new URL(url).pathname.split('/').filter(Boolean).pop();
  } catch {
    return undefined;
  }
}

/**
 * Waits for a long-running operation, heartbeating `checkpoint(pollerState)` right away, after every poll and
 * every second in between; stops at once when the activity is cancelled.
 * @throws what the poller throws (a failed or canceled operation, a refused poll); CancelledFailure on cancellation.
 */
export async function waitForPoller<T>(
  poller: PollerLike<PollOperationState<T>, T>,
  checkpoint: (pollerState: string) => unknown,
): Promise<T> {
  const ctx = Context.current();
  const beat = (): void => ctx.heartbeat(checkpoint(poller.toString()));
  beat();
  const stopProgress = poller.onProgress(beat);
  const keepAlive = setInterval(beat, HEARTBEAT_EVERY_MS);
  try {
    return await Promise.race([poller.pollUntilDone({ abortSignal: ctx.cancellationSignal }), ctx.cancelled]);
  } finally {
    stopProgress();
    clearInterval(keepAlive);
    if (!poller.isDone()) poller.stopPolling();
  }
}

/**
 * Re-reads state until `done()` says so, sleeping `intervalMs` between reads and heartbeating `details` (never a
 * checkpoint: nothing of ours to resume). Bounded by the activity's own timeouts and cancellation.
 */
export async function pollUntil(done: () => Promise<boolean>, intervalMs: number, details: unknown): Promise<void> {
  const ctx = Context.current();
  for (;;) {
    ctx.heartbeat(details);
    if (await done()) return;
    await ctx.sleep(intervalMs);
  }
}
