/**
 * The worker's write budget: ARM's throttling, respected before a request is sent.
 *
 * ARM gives each principal token buckets per subscription and per region (the region whose Resource Manager serves
 * the request): writes (PUT, PATCH, POST) 200 burst and 10 per second, deletes the same, reads 250 and 25. A
 * request with no token left is answered 429 with Retry-After. Evacuating a region fires hundreds of writes at
 * once (an endpoint PATCH per group, then force-unlinks), so without a budget most of them would be answered 429
 * and wait out Retry-After in lock-step, retrying into the same empty bucket.
 *
 * Design: a token bucket in the worker process, applied as a pipeline policy of the ARM clients every activity
 * uses, rather than a rate-limited task queue for the mutating activities (`maxTaskQueueActivitiesPerSecond`).
 * - It counts what ARM counts — HTTP requests — not activities: one activity may send none (its check-before-act
 *   found the change made), one, or several (listKeys, a long-running operation's start), and LRO polls are reads.
 * - It is keyed by subscription, as ARM's buckets are, whatever subscription a group's resources live in; a task
 *   queue would have to be chosen per subscription by the workflow (a workflow and contract change).
 * - It waits before the request is sent: nothing reaches ARM early, so a wait never repeats an operation, and the
 *   destructive steps' check-before-act is untouched.
 * The cost: the budget is per process. Every worker process acting as the same principal (main workers and probe
 * workers: probes read access keys with listKeys, a POST) has its own, so `workers` splits ARM's bucket between
 * them; Temporal's task-queue rate limit would be server-wide instead.
 *
 * One worker reaches ARM through one region, so the budget keeps one bucket per ARM endpoint, subscription and kind
 * (writes, deletes). The emulator's model keys buckets by the resource's region as well, which only gives more room.
 */

/** What a mutating request draws from: ARM counts PUT/PATCH/POST as writes and DELETE apart. */
export type MutationKind = 'writes' | 'deletes';

export interface BucketSize {
  /** tokens when full: how many requests may go at once */
  burst: number;
  /** tokens added per second */
  perSecond: number;
}

/** ARM's published subscription bucket for writes (deletes have the same). */
export const ARM_WRITE_BUCKET: Readonly<BucketSize> = { burst: 200, perSecond: 10 };

/**
 * The default budget: three quarters of ARM's burst and four fifths of its refill. The margin covers what the
 * worker cannot see: a worker restarted mid-evacuation starts full while ARM's bucket is not, and other tools
 * acting as the same principal.
 */
export const DEFAULT_WRITE_BUDGET: Readonly<BucketSize> = { burst: 150, perSecond: 8 };

/** The kind of a mutating method; `undefined` for reads (GET, HEAD, OPTIONS), which the budget leaves alone. */
export function mutationKind(method: string): MutationKind | undefined {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD' || m === 'OPTIONS') return undefined;
  return m === 'DELETE' ? 'deletes' : 'writes';
}

/**
 * A token bucket that hands out reservations: a caller takes a token now even when none is left (the count goes
 * below zero) and is told how long to wait for it, so waiting callers are served in arrival order and nobody polls.
 */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly size: Readonly<BucketSize>,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = size.burst;
    this.at = clock();
  }

  private refill(): void {
    const now = this.clock();
    if (now > this.at) {
      this.tokens = Math.min(this.size.burst, this.tokens + ((now - this.at) / 1000) * this.size.perSecond);
    }
    this.at = Math.max(this.at, now);
  }

  /** Takes one token; returns how many milliseconds to wait before using it (0: now). */
  reserve(): number {
    this.refill();
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.size.perSecond) * 1000);
  }

  /** Gives back a reservation that was not used (its wait was aborted). */
  release(): void {
    this.refill();
    this.tokens = Math.min(this.size.burst, this.tokens + 1);
  }

  /** Tokens left now; negative while reservations wait. */
  available(): number {
    this.refill();
    return this.tokens;
  }
}

export interface WriteBudgetSettings extends BucketSize {
  /**
   * How many worker processes act as this principal on the same subscriptions; each takes 1/workers of the burst
   * and of the refill (at least one token of burst). Default 1.
   */
  workers?: number;
}

/** What a budget did, for logs, metrics and tests. */
export interface WriteBudgetStats {
  /** tokens handed out */
  granted: number;
  /** requests that had to wait for their token */
  waited: number;
  /** the longest wait, in milliseconds */
  maxWaitMs: number;
  /** waits given up (the request's abort signal: the activity was cancelled or reached its deadline) */
  abandoned: number;
}

/** Where a mutating request draws from. */
export interface BudgetScope {
  /** the ARM endpoint's origin */
  endpoint: string;
  subscriptionId: string;
  kind: MutationKind;
}

export class WriteBudgetAbortError extends Error {
  override readonly name = 'AbortError';
  readonly code = 'Aborted';
  constructor(what: string) {
    super(`${what}: abandoned while waiting for a write token (the activity was cancelled or reached its deadline)`);
  }
}

/** Sleeps `ms`, ending early (rejecting) when `signal` aborts. */
function sleep(ms: number, signal: AbortSignalLike | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Error('aborted'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new Error('aborted'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The part of an AbortSignal the wait uses (core-rest-pipeline's `AbortSignalLike`). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface AcquireOptions {
  /** ends the wait: the token is given back and {@link WriteBudgetAbortError} thrown */
  signal?: AbortSignalLike;
  /** what is waiting, for the error */
  what?: string;
  /** called while a long wait goes on (the wait so far, in ms): activities heartbeat from here */
  onWaiting?: (waitedMs: number) => void;
  /** how often `onWaiting` is called; default 1 s */
  waitingEveryMs?: number;
}

/** The buckets of one worker process, one per ARM endpoint, subscription and kind. */
export class WriteBudget {
  /** this process's share of ARM's bucket */
  readonly size: Readonly<BucketSize>;
  readonly workers: number;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly counts: WriteBudgetStats = { granted: 0, waited: 0, maxWaitMs: 0, abandoned: 0 };

  /** @throws RangeError for a burst below 1, a refill not above 0, or a worker count below 1 */
  constructor(
    settings: WriteBudgetSettings = DEFAULT_WRITE_BUDGET,
    private readonly clock: () => number = Date.now,
  ) {
    const workers = settings.workers ?? 1;
    if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be 1 or more, got ${workers}`);
    if (!(settings.burst >= 1)) throw new RangeError(`burst must be 1 or more, got ${settings.burst}`);
    if (!(settings.perSecond > 0)) throw new RangeError(`perSecond must be above 0, got ${settings.perSecond}`);
    this.workers = workers;
    this.size = {
      burst: Math.max(1, Math.floor(settings.burst / workers)),
      perSecond: settings.perSecond / workers,
    };
  }

  private bucket(scope: BudgetScope): TokenBucket {
    const key = [scope.endpoint.toLowerCase(), scope.subscriptionId.toLowerCase(), scope.kind].join('\u0000');
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.size, this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Tokens left in a scope's bucket now (negative while requests wait). */
  available(scope: BudgetScope): number {
    return this.bucket(scope).available();
  }

  stats(): WriteBudgetStats {
    return { ...this.counts };
  }

  /**
   * Waits until the request may be sent: at once while the bucket has tokens, else until its reserved token is
   * due. Resolves with the wait in milliseconds.
   * @throws WriteBudgetAbortError when `signal` aborts first (the token is given back; nothing was sent)
   */
  async acquire(scope: BudgetScope, options: AcquireOptions = {}): Promise<number> {
    const bucket = this.bucket(scope);
    const waitMs = bucket.reserve();
    this.counts.granted += 1;
    if (waitMs <= 0) return 0;
    this.counts.waited += 1;
    this.counts.maxWaitMs = Math.max(this.counts.maxWaitMs, waitMs);
    const every = Math.max(1, options.waitingEveryMs ?? 1000);
    try {
      for (let waited = 0; waited < waitMs;) {
        const step = Math.min(every, waitMs - waited);
        await sleep(step, options.signal);
        waited += step;
        if (waited < waitMs) options.onWaiting?.(waited);
      }
    } catch {
      bucket.release();
      this.counts.granted -= 1;
      this.counts.abandoned += 1;
      throw new WriteBudgetAbortError(options.what ?? 'an ARM write');
    }
    return waitMs;
  }
}

/** The process-wide budgets, one per setting: every ARM client built with the same settings shares one. */
const processBudgets = new Map<string, WriteBudget>();

/**
 * This process's write budget for `settings` (default {@link DEFAULT_WRITE_BUDGET}): the same object for the same
 * settings, so every client and activity of a worker draws from one budget.
 */
export function processWriteBudget(settings: WriteBudgetSettings = DEFAULT_WRITE_BUDGET): WriteBudget {
  const key = `${settings.burst}/${settings.perSecond}/${settings.workers ?? 1}`;
  let budget = processBudgets.get(key);
  if (!budget) {
    budget = new WriteBudget(settings);
    processBudgets.set(key, budget);
  }
  return budget;
}
