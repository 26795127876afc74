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
 * ARM's token bucket, on this side: `burst` tokens when full, `perSecond` back, never more than `burst` — so however
 * long requests were held up (a stalled event loop, a paused process), no more than `burst` leave at once.
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

  /** Takes a token if there is one. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there (0: now). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.size.perSecond) * 1000);
  }

  /** Tokens there now (fractions included). */
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

/** The part of an AbortSignal the wait uses (core-rest-pipeline's `AbortSignalLike`). */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export interface AcquireOptions {
  /** ends the wait: the request gives up its place and {@link WriteBudgetAbortError} is thrown */
  signal?: AbortSignalLike;
  /** what is waiting, for the error */
  what?: string;
  /** called while a long wait goes on (the wait so far, in ms): activities heartbeat from here */
  onWaiting?: (waitedMs: number) => void;
  /** how often `onWaiting` is called; default 1 s */
  waitingEveryMs?: number;
}

/** How the budget sets timers (tests drive them by hand). */
export interface BudgetTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: BudgetTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** One bucket and the requests waiting for it, first come first served. */
interface Lane {
  bucket: TokenBucket;
  waiting: { grant(): void }[];
  /** set while a timer will hand out the next token */
  timer?: unknown;
}

/**
 * The buckets of one worker process, one per ARM endpoint, subscription and kind. A request takes a token at once
 * when one is there and nobody waits before it; otherwise it queues, and one timer per bucket hands tokens out in
 * arrival order as they come back.
 */
export class WriteBudget {
  /** this process's share of ARM's bucket */
  readonly size: Readonly<BucketSize>;
  readonly workers: number;
  private readonly lanes = new Map<string, Lane>();
  private readonly counts: WriteBudgetStats = { granted: 0, waited: 0, maxWaitMs: 0, abandoned: 0 };

  /** @throws RangeError for a burst below 1, a refill not above 0, or a worker count below 1 */
  constructor(
    settings: WriteBudgetSettings = DEFAULT_WRITE_BUDGET,
    private readonly clock: () => number = Date.now,
    private readonly timers: BudgetTimers = REAL_TIMERS,
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

  private lane(scope: BudgetScope): Lane {
    const key = [scope.endpoint.toLowerCase(), scope.subscriptionId.toLowerCase(), scope.kind].join('\u0000');
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { bucket: new TokenBucket(this.size, this.clock), waiting: [] };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** Tokens there now in a scope's bucket. */
  available(scope: BudgetScope): number {
    return this.lane(scope).bucket.available();
  }

  /** Requests waiting now for a scope's bucket. */
  queued(scope: BudgetScope): number {
    return this.lane(scope).waiting.length;
  }

  stats(): WriteBudgetStats {
    return { ...this.counts };
  }

  private schedule(lane: Lane): void {
    if (lane.timer !== undefined || lane.waiting.length === 0) return;
    lane.timer = this.timers.set(() => {
      lane.timer = undefined;
      while (lane.waiting.length > 0 && lane.bucket.take()) lane.waiting.shift()?.grant();
      this.schedule(lane);
    }, lane.bucket.msUntilToken());
  }

  /**
   * Waits until the request may be sent: at once while the bucket has a token and nobody waits, else in turn.
   * Resolves with the wait in milliseconds.
   * @throws WriteBudgetAbortError when `signal` aborts first (its place is given up; nothing was sent)
   */
  acquire(scope: BudgetScope, options: AcquireOptions = {}): Promise<number> {
    const lane = this.lane(scope);
    const what = options.what ?? 'an ARM write';
    if (lane.waiting.length === 0 && lane.bucket.take()) {
      this.counts.granted += 1;
      return Promise.resolve(0);
    }
    const { signal, onWaiting } = options;
    if (signal?.aborted) {
      this.counts.abandoned += 1;
      return Promise.reject(new WriteBudgetAbortError(what));
    }
    this.counts.waited += 1;
    const started = this.clock();
    return new Promise<number>((resolve, reject) => {
      const ticker = onWaiting
        ? setInterval(() => onWaiting(this.clock() - started), Math.max(1, options.waitingEveryMs ?? 1000))
        : undefined;
      const done = (): void => {
        if (ticker) clearInterval(ticker);
        signal?.removeEventListener('abort', onAbort);
      };
      const waiter = {
        grant: (): void => {
          done();
          const waitedMs = Math.max(0, this.clock() - started);
          this.counts.granted += 1;
          this.counts.maxWaitMs = Math.max(this.counts.maxWaitMs, waitedMs);
          resolve(waitedMs);
        },
      };
      const onAbort = (): void => {
        done();
        const i = lane.waiting.indexOf(waiter);
        if (i >= 0) lane.waiting.splice(i, 1);
        if (lane.waiting.length === 0 && lane.timer !== undefined) {
          this.timers.clear(lane.timer);
          lane.timer = undefined;
        }
        this.counts.abandoned += 1;
        reject(new WriteBudgetAbortError(what));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      lane.waiting.push(waiter);
      this.schedule(lane);
    });
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
