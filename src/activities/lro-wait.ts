import type { PollerLike, PollOperationState } from '@azure/core-lro';
import { Context, log } from '@temporalio/activity';
import { classifyAzureError } from '../azure/errors';
import { FAILURE_TYPES } from '../contract/failures';

/** How often a waiting activity heartbeats (the SDK throttles what it sends to the server). */
const HEARTBEAT_EVERY_MS = 1000;

/** Default delay between state re-reads while waiting for something another operation is doing. */
export const DEFAULT_REREAD_INTERVAL_MS = 2000;

/** How long one ARM call may stay throttled (429) before the activity gives up and fails AzureThrottled. */
export const DEFAULT_THROTTLE_WAIT_MS = 10 * 60_000;

/** The details this activity execution heartbeated last, so a wait can keep them (a checkpoint must survive). */
const lastDetails = new WeakMap<Context, { details: unknown }>();

/** Heartbeats `details` and remembers them for {@link keepAlive}. */
export function beat(details: unknown): void {
  const ctx = Context.current();
  lastDetails.set(ctx, { details });
  ctx.heartbeat(details);
}

/** Heartbeats again what was heartbeated last (by this attempt, else by the previous attempt). */
function keepAlive(): void {
  const ctx = Context.current();
  const last = lastDetails.get(ctx);
  ctx.heartbeat(last ? last.details : ctx.info.heartbeatDetails);
}

/**
 * This activity's attempt when it is not the first: an attempt that finds its change already made says so, since
 * the attempt before it may have made it and died before reporting.
 */
export function laterAttempt(): { foundAtAttempt: number } | Record<string, never> {
  const attempt = Context.current().info.attempt;
  return attempt > 1 ? { foundAtAttempt: attempt } : {};
}

/**
 * Runs `fn` heartbeating every second meanwhile: a slow ARM call keeps the attempt alive under a short heartbeat
 * timeout, and a worker that dies is still noticed at once. Only for activities that keep no checkpoint in their
 * heartbeat: the SDK throttles heartbeats, so these would hold a checkpoint back (a long-running operation's must reach
 * the server at once).
 */
export async function whileHeartbeating<T>(fn: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {
    try {
      keepAlive();
    } catch {
      // the activity has ended meanwhile
    }
  }, HEARTBEAT_EVERY_MS);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Runs one ARM call and waits out throttling: a 429 (after the SDK's own retries) is retried after the service's
 * Retry-After plus up to 20 % jitter (1 s when it gave none), heartbeating meanwhile, for at most `boundMs` in
 * all; then the AzureThrottled error is thrown, and the activity's retry policy takes over. A 429 means ARM did
 * not act on the request, so sending it again repeats nothing. Other errors are thrown at once.
 */
export async function waitOutThrottling<T>(
  call: () => Promise<T>,
  what: string,
  boundMs: number = DEFAULT_THROTTLE_WAIT_MS,
): Promise<T> {
  const ctx = Context.current();
  const deadline = Date.now() + boundMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      const c = classifyAzureError(e);
      if (c.type !== FAILURE_TYPES.azureThrottled || ctx.cancellationSignal.aborted) throw e;
      const base = c.retryAfterMs ?? 1000;
      const waitMs = Math.round(base + Math.random() * 0.2 * Math.max(base, 100));
      if (Date.now() + waitMs > deadline) throw e;
      log.warn(`${what}: throttled by ARM (429); waiting ${waitMs} ms before sending it again`, { attempt });
      const until = Date.now() + waitMs;
      while (Date.now() < until) {
        keepAlive();
        await ctx.sleep(Math.min(HEARTBEAT_EVERY_MS, until - Date.now()));
      }
    }
  }
}

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
  const beatCheckpoint = (): void => beat(checkpoint(poller.toString()));
  beatCheckpoint();
  const stopProgress = poller.onProgress(beatCheckpoint);
  const timer = setInterval(beatCheckpoint, HEARTBEAT_EVERY_MS);
  try {
    return await Promise.race([poller.pollUntilDone({ abortSignal: ctx.cancellationSignal }), ctx.cancelled]);
  } finally {
    stopProgress();
    clearInterval(timer);
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
    beat(details);
    if (await done()) return;
    await ctx.sleep(intervalMs);
  }
}
