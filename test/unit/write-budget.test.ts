// The worker's write budget (src/azure/write-budget.ts) and the ARM clients' pipeline around it: mutating requests
// wait for a token of their subscription's bucket before they are sent, reads never do, a wait is not a request
// timeout, a cancelled wait sends nothing, long waits heartbeat; and the SDK's own retry waits a 429's Retry-After.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { ApplicationFailure } from '@temporalio/common';
import { azureFailure } from '../../src/activities/azure-failure';
import { createArmClients } from '../../src/azure/clients';
import { classifyAzureError } from '../../src/azure/errors';
import {
  ARM_WRITE_BUCKET,
  DEFAULT_WRITE_BUDGET,
  mutationKind,
  processWriteBudget,
  TokenBucket,
  WriteBudget,
  WriteBudgetAbortError,
  type BudgetScope,
  type BudgetTimers,
} from '../../src/azure/write-budget';
import { FAILURE_TYPES } from '../../src/contract/failures';
import { RateLimiter } from '../../src/emulator/rate-limits';
import { ConfigError, parseConfig } from '../../src/config/load';
import { activityDependenciesFromConfig } from '../../src/worker';
import { FakeHttpClient } from '../helpers/azure-fake-http';
import { COMMANDERS, peopleConfig } from '../helpers/people';

const SUB_A = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const SUB_B = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const RG = 'rg-geofailover-demo';
const ENDPOINT = 'https://127.0.0.1:9';
const dbId = (sub: string): string =>
  `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-a/databases/default`;
const database = { id: dbId(SUB_A), name: 'default', properties: { port: 10000 } };
const keys = { primaryKey: 'k1', secondaryKey: 'k2' };
const quietLogger = new DefaultLogger('ERROR');
const examplePath = path.resolve(__dirname, '../../geofailover.config.example.json');

/** The shipped example (test people's keys), with `azure.writeBudget` set to `writeBudget` when given. */
function exampleConfig(writeBudget?: unknown): string {
  const c = JSON.parse(readFileSync(examplePath, 'utf8'));
  c.people ??= peopleConfig();
  for (const group of Object.values<Record<string, any>>(c.groups)) group.commanders ??= [...COMMANDERS];
  // Unlike the example, the test worker reads memory over the data plane (no Azure Monitor client).
  c.azure = { ...c.azure, caFile: undefined, memorySource: 'redis-info', ...(writeBudget ? { writeBudget } : {}) };
  return JSON.stringify(c);
}

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const scope = (over: Partial<BudgetScope> = {}): BudgetScope => ({
  endpoint: ENDPOINT,
  subscriptionId: SUB_A,
  kind: 'writes',
  ...over,
});

describe('write budget: token bucket (deterministic clock)', () => {
  it('hands out the burst at once, then one token per 1/perSecond', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ burst: 5, perSecond: 2 }, clock.now);
    assert.deepEqual(
      Array.from({ length: 6 }, () => bucket.take()),
      [true, true, true, true, true, false],
    );
    assert.equal(bucket.msUntilToken(), 500);
    clock.advance(499);
    assert.equal(bucket.take(), false);
    clock.advance(1);
    assert.equal(bucket.take(), true);
    assert.equal(bucket.msUntilToken(), 500);
  });

  it('refills up to the burst, never beyond', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ burst: 3, perSecond: 10 }, clock.now);
    bucket.take();
    bucket.take();
    assert.equal(bucket.available(), 1);
    clock.advance(60_000);
    assert.equal(bucket.available(), 3, 'capped at the burst');
    assert.equal(bucket.msUntilToken(), 0);
  });

  it('a clock that steps back does not mint tokens', () => {
    const clock = manualClock();
    const bucket = new TokenBucket({ burst: 1, perSecond: 1 }, clock.now);
    bucket.take();
    clock.advance(-5000);
    assert.equal(bucket.available(), 0);
    clock.advance(5000);
    assert.equal(bucket.available(), 0);
    clock.advance(1000);
    assert.equal(bucket.available(), 1);
  });
});

/** Timers the test fires by hand, against a manual clock. */
function manualTimers(clock: { now: () => number }): BudgetTimers & { fireDue(): number; pending(): number } {
  let timers: { fn: () => void; at: number }[] = [];
  return {
    set(fn, ms) {
      const t = { fn, at: clock.now() + ms };
      timers.push(t);
      return t;
    },
    clear(handle) {
      timers = timers.filter((t) => t !== handle);
    },
    fireDue() {
      const due = timers.filter((t) => t.at <= clock.now());
      timers = timers.filter((t) => t.at > clock.now());
      for (const t of due) t.fn();
      return due.length;
    },
    pending: () => timers.length,
  };
}

/** Lets settled promises run their callbacks. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('write budget: waiting requests (deterministic clock and timers)', () => {
  it('serves waiting requests in arrival order as tokens come back', async () => {
    const clock = manualClock();
    const timers = manualTimers(clock);
    const budget = new WriteBudget({ burst: 2, perSecond: 2 }, clock.now, timers);
    const order: number[] = [];
    const all = Array.from({ length: 5 }, (_, i) => budget.acquire(scope()).then((ms) => order.push(i) && ms));
    await settle();
    assert.deepEqual(order, [0, 1], 'the burst at once');
    assert.equal(budget.queued(scope()), 3);
    for (const expected of [
      [0, 1, 2],
      [0, 1, 2, 3],
      [0, 1, 2, 3, 4],
    ]) {
      clock.advance(500);
      timers.fireDue();
      await settle();
      assert.deepEqual(order, expected);
    }
    assert.deepEqual(await Promise.all(all), [0, 0, 500, 1000, 1500]);
    assert.equal(timers.pending(), 0, 'no timer left once nobody waits');
    assert.deepEqual(budget.stats(), { granted: 5, waited: 3, maxWaitMs: 1500, abandoned: 0 });
  });

  it('after a stall, no more than the burst leaves at once', async () => {
    const clock = manualClock();
    const timers = manualTimers(clock);
    const budget = new WriteBudget({ burst: 3, perSecond: 1 }, clock.now, timers);
    let sent = 0;
    for (let i = 0; i < 10; i++) void budget.acquire(scope()).then(() => sent++);
    await settle();
    assert.equal(sent, 3);
    // The event loop stalls for a minute: every waiting request is overdue, but ARM's bucket holds 3.
    clock.advance(60_000);
    timers.fireDue();
    await settle();
    assert.equal(sent, 6, 'three more, not seven');
    clock.advance(1000);
    timers.fireDue();
    await settle();
    assert.equal(sent, 7);
  });

  it('a request arriving while others wait queues behind them, even when a token is back', async () => {
    const clock = manualClock();
    const timers = manualTimers(clock);
    const budget = new WriteBudget({ burst: 1, perSecond: 1 }, clock.now, timers);
    const order: string[] = [];
    void budget.acquire(scope()).then(() => order.push('first'));
    void budget.acquire(scope()).then(() => order.push('second'));
    clock.advance(1000);
    void budget.acquire(scope()).then(() => order.push('third'));
    timers.fireDue();
    await settle();
    assert.deepEqual(order, ['first', 'second']);
    clock.advance(1000);
    timers.fireDue();
    await settle();
    assert.deepEqual(order, ['first', 'second', 'third']);
  });
});

describe('write budget: buckets and settings', () => {
  it("defaults to ARM's write bucket less a margin", () => {
    assert.deepEqual(ARM_WRITE_BUCKET, { burst: 200, perSecond: 10 });
    assert.ok(DEFAULT_WRITE_BUDGET.burst < ARM_WRITE_BUCKET.burst);
    assert.ok(DEFAULT_WRITE_BUDGET.perSecond < ARM_WRITE_BUCKET.perSecond);
    assert.deepEqual(new WriteBudget().size, DEFAULT_WRITE_BUDGET);
  });

  it('splits the bucket between the configured workers', () => {
    const budget = new WriteBudget({ burst: 150, perSecond: 8, workers: 4 });
    assert.deepEqual(budget.size, { burst: 37, perSecond: 2 });
    assert.equal(new WriteBudget({ burst: 2, perSecond: 1, workers: 5 }).size.burst, 1, 'at least one token');
    assert.throws(() => new WriteBudget({ burst: 10, perSecond: 1, workers: 0 }), RangeError);
    assert.throws(() => new WriteBudget({ burst: 0, perSecond: 1 }), RangeError);
    assert.throws(() => new WriteBudget({ burst: 10, perSecond: 0 }), RangeError);
  });

  it('keeps one bucket per ARM endpoint, subscription and kind', async () => {
    const clock = manualClock();
    const budget = new WriteBudget({ burst: 1, perSecond: 1 }, clock.now);
    await budget.acquire(scope());
    assert.equal(budget.available(scope()), 0);
    assert.equal(budget.available(scope({ subscriptionId: SUB_A.toUpperCase() })), 0, 'ids in any case');
    assert.equal(budget.available(scope({ subscriptionId: SUB_B })), 1);
    assert.equal(budget.available(scope({ kind: 'deletes' })), 1);
    assert.equal(budget.available(scope({ endpoint: 'https://management.azure.com' })), 1);
  });

  it('counts only mutating methods', () => {
    assert.equal(mutationKind('GET'), undefined);
    assert.equal(mutationKind('head'), undefined);
    assert.equal(mutationKind('PUT'), 'writes');
    assert.equal(mutationKind('PATCH'), 'writes');
    assert.equal(mutationKind('post'), 'writes');
    assert.equal(mutationKind('DELETE'), 'deletes');
  });

  it('one budget per process for the same settings', () => {
    assert.equal(processWriteBudget(), processWriteBudget({ ...DEFAULT_WRITE_BUDGET }));
    assert.notEqual(processWriteBudget(), processWriteBudget({ burst: 10, perSecond: 1 }));
  });

  it('a wait ended by its abort signal gives up its place and says so', async () => {
    const clock = manualClock();
    const timers = manualTimers(clock);
    const budget = new WriteBudget({ burst: 1, perSecond: 1 }, clock.now, timers);
    await budget.acquire(scope());
    const controller = new AbortController();
    const waiting = budget.acquire(scope(), { signal: controller.signal, what: 'PATCH endpoint' });
    assert.equal(budget.queued(scope()), 1);
    controller.abort();
    await assert.rejects(waiting, (e: unknown) => {
      assert.ok(e instanceof WriteBudgetAbortError);
      assert.match((e as Error).message, /PATCH endpoint: abandoned while waiting/);
      const c = classifyAzureError(e);
      assert.equal(c.retryable, true, 'nothing was sent: another attempt may send it');
      return true;
    });
    assert.equal(budget.queued(scope()), 0);
    assert.equal(timers.pending(), 0, 'its timer is cleared');
    assert.deepEqual(budget.stats(), { granted: 1, waited: 1, maxWaitMs: 0, abandoned: 1 });
    clock.advance(1000);
    assert.equal(await budget.acquire(scope()), 0, 'the token it waited for serves the next request');
    const aborted = new AbortController();
    aborted.abort();
    await assert.rejects(budget.acquire(scope(), { signal: aborted.signal }), WriteBudgetAbortError);
  });
});

describe('write budget in the ARM clients', function () {
  this.timeout(20_000);

  it('mutating requests wait for a token; reads (LRO polls among them) never do', async () => {
    const http = new FakeHttpClient((r) => ({ status: 200, body: r.method === 'POST' ? keys : database }));
    const writeBudget = new WriteBudget({ burst: 2, perSecond: 10 });
    const arm = createArmClients({ subscriptionId: SUB_A, endpoint: ENDPOINT, httpClient: http, writeBudget });
    assert.equal(arm.writeBudget, writeBudget);
    for (let i = 0; i < 5; i++) await arm.redis.databases.get(RG, 'redis-a', 'default');
    assert.equal(writeBudget.stats().granted, 0, 'reads take no write token');
    const started = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => arm.redis.databases.listKeys(RG, 'redis-a', 'default')));
    assert.equal(writeBudget.stats().granted, 4);
    assert.equal(writeBudget.stats().waited, 2, 'two beyond the burst of 2 waited');
    assert.ok(Date.now() - started >= 150, 'the 4th waited for the second token back (200 ms)');
    assert.equal(http.requests.filter((r) => r.method === 'POST').length, 4);
  });

  it("clients of another subscription draw from that subscription's bucket of the same budget", async () => {
    const http = new FakeHttpClient((r) => ({ status: 200, body: r.method === 'POST' ? keys : database }));
    const writeBudget = new WriteBudget({ burst: 1, perSecond: 0.01 });
    const arm = createArmClients({ subscriptionId: SUB_A, endpoint: ENDPOINT, httpClient: http, writeBudget });
    await arm.redis.databases.listKeys(RG, 'redis-a', 'default');
    assert.equal(arm.forSubscription(SUB_B).writeBudget, writeBudget, 'one budget for every subscription');
    await arm.forSubscription(SUB_B).redis.databases.listKeys(RG, 'redis-a', 'default');
    assert.deepEqual(writeBudget.stats(), { granted: 2, waited: 0, maxWaitMs: 0, abandoned: 0 });
  });

  it('every client built without one shares the process budget; `false` turns it off', () => {
    const a = createArmClients({ subscriptionId: SUB_A, endpoint: ENDPOINT, httpClient: new FakeHttpClient() });
    const b = createArmClients({ subscriptionId: SUB_B, endpoint: ENDPOINT, httpClient: new FakeHttpClient() });
    assert.equal(a.writeBudget, processWriteBudget());
    assert.equal(b.writeBudget, a.writeBudget);
    const none = createArmClients({ subscriptionId: SUB_A, endpoint: ENDPOINT, writeBudget: false });
    assert.equal(none.writeBudget, undefined);
  });

  it('waiting for a token does not count against the per-request timeout', async () => {
    const http = new FakeHttpClient(() => ({ status: 200, body: keys }));
    const writeBudget = new WriteBudget({ burst: 1, perSecond: 2.5 });
    const arm = createArmClients({
      subscriptionId: SUB_A,
      endpoint: ENDPOINT,
      httpClient: http,
      writeBudget,
      requestTimeoutMs: 150,
    });
    await arm.redis.databases.listKeys(RG, 'redis-a', 'default');
    // 400 ms for the next token, well beyond the 150 ms each request may take.
    const second = await arm.redis.databases.listKeys(RG, 'redis-a', 'default');
    assert.equal(second.primaryKey, 'k1');
    assert.equal(writeBudget.stats().waited, 1);
  });

  it("inside an activity, a cancelled activity's write stops waiting and is never sent", async () => {
    const http = new FakeHttpClient(() => ({ status: 200, body: keys }));
    const writeBudget = new WriteBudget({ burst: 1, perSecond: 0.01 });
    const arm = createArmClients({ subscriptionId: SUB_A, endpoint: ENDPOINT, httpClient: http, writeBudget });
    await arm.redis.databases.listKeys(RG, 'redis-a', 'default');
    const env = new MockActivityEnvironment({}, { logger: quietLogger });
    const call = env.run(() => arm.redis.databases.listKeys(RG, 'redis-a', 'default'));
    setTimeout(() => env.cancel(), 100);
    await assert.rejects(call);
    assert.equal(http.requests.length, 1, 'the second write was never sent');
    assert.equal(writeBudget.stats().abandoned, 1);
  });

  it('a long wait heartbeats what the server holds, every half heartbeat timeout; a short one sends nothing', async () => {
    const http = new FakeHttpClient(() => ({ status: 200, body: keys }));
    const writeBudget = new WriteBudget({ burst: 1, perSecond: 1 });
    const arm = createArmClients({ subscriptionId: SUB_A, endpoint: ENDPOINT, httpClient: http, writeBudget });
    const checkpoint = { operation: 'forceUnlink', pollerState: '{}' };
    const env = new MockActivityEnvironment(
      { heartbeatTimeoutMs: 1000, heartbeatDetails: checkpoint },
      { logger: quietLogger },
    );
    const beats: unknown[] = [];
    env.on('heartbeat', (d: unknown) => beats.push(d));
    await env.run(async () => {
      await arm.redis.databases.listKeys(RG, 'redis-a', 'default');
      // 1 s for the next token: one beat at 500 ms.
      await arm.redis.databases.listKeys(RG, 'redis-a', 'default');
    });
    assert.ok(beats.length >= 1, 'the wait heartbeated');
    for (const b of beats) assert.deepEqual(b, checkpoint, "the previous attempt's checkpoint, kept");

    const shortWait = new MockActivityEnvironment({ heartbeatTimeoutMs: 60_000 }, { logger: quietLogger });
    const none: unknown[] = [];
    shortWait.on('heartbeat', (d: unknown) => none.push(d));
    await shortWait.run(() => arm.redis.databases.listKeys(RG, 'redis-a', 'default'));
    assert.deepEqual(none, []);
  });
});

describe('429 and Retry-After', function () {
  this.timeout(20_000);

  it("the SDK's retry waits Retry-After with our retry options, beyond their own maximum delay", async () => {
    const http = new FakeHttpClient().enqueue(
      { status: 429, headers: { 'retry-after-ms': '400' }, body: { error: { code: 'TooManyRequests' } } },
      { status: 200, body: keys },
    );
    const arm = createArmClients({
      subscriptionId: SUB_A,
      endpoint: ENDPOINT,
      httpClient: http,
      writeBudget: new WriteBudget({ burst: 10, perSecond: 10 }),
      // The drill's compressed retries: exponential delays of at most 250 ms.
      retryOptions: { maxRetries: 3, retryDelayInMs: 50, maxRetryDelayInMs: 250 },
    });
    const started = Date.now();
    const got = await arm.redis.databases.listKeys(RG, 'redis-a', 'default');
    assert.equal(got.primaryKey, 'k1');
    assert.ok(Date.now() - started >= 390, 'waited the 400 ms ARM asked for');
    assert.equal(http.requests.length, 2);
  });

  it('a 429 left after the retries becomes a retryable AzureThrottled failure whose next retry is Retry-After', async () => {
    const http = new FakeHttpClient(() => ({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { error: { code: 'TooManyRequests', message: 'throttled' } },
    }));
    const arm = createArmClients({
      subscriptionId: SUB_A,
      endpoint: ENDPOINT,
      httpClient: http,
      writeBudget: false,
      retryOptions: { maxRetries: 0 },
    });
    const e = await arm.redis.databases.listKeys(RG, 'redis-a', 'default').then(
      () => assert.fail('expected a 429'),
      (x: unknown) => x,
    );
    const failure = azureFailure(e, 'reading the access key');
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.type, FAILURE_TYPES.azureThrottled);
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.nextRetryDelay, 7000);
    assert.match(failure.message, /HTTP 429/);
  });
});

describe('write budget from the configuration', () => {
  it("azure.writeBudget defaults to ARM's bucket less a margin, one budget per worker process", () => {
    const config = parseConfig(exampleConfig(), 'x.json');
    assert.deepEqual(config.azure.writeBudget, { enabled: true, burst: 150, perSecond: 8, workers: 1 });
    const a = activityDependenciesFromConfig(config);
    const b = activityDependenciesFromConfig(config);
    assert.ok(a.arm.writeBudget);
    assert.equal(a.arm.writeBudget, b.arm.writeBudget, 'the main and probe workers of a process share it');
    assert.deepEqual(a.arm.writeBudget.size, DEFAULT_WRITE_BUDGET);
  });

  it('is sized by the configuration, split between workers, or turned off', () => {
    const split = activityDependenciesFromConfig(
      parseConfig(exampleConfig({ burst: 100, perSecond: 6, workers: 3 }), 'x.json'),
    );
    assert.deepEqual(split.arm.writeBudget?.size, { burst: 33, perSecond: 2 });
    const off = activityDependenciesFromConfig(parseConfig(exampleConfig({ enabled: false }), 'x.json'));
    assert.equal(off.arm.writeBudget, undefined);
    assert.throws(() => parseConfig(exampleConfig({ perSecond: 0 }), 'x.json'), ConfigError);
    assert.throws(() => parseConfig(exampleConfig({ burst: 10, rate: 1 }), 'x.json'), /unknown key "rate"/);
  });
});

describe("the emulator's ARM buckets, which the budget is tested against", () => {
  const db = `/subscriptions/${SUB_A}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/c/databases/default`;
  const bearer = (oid: string): string =>
    `Bearer e30.${Buffer.from(JSON.stringify({ oid })).toString('base64url')}.sig`;

  it('keeps a bucket per subscription, principal and region, and small sizes are settable', () => {
    const limiter = new RateLimiter(undefined, () => 0);
    limiter.configure({ enabled: true, writes: { burst: 1, perSecond: 1 } });
    const post = (over: { path?: string; region?: string; authorization?: string } = {}) =>
      limiter.take({ method: 'POST', path: `${db}/listKeys`, region: 'eastus', authorization: bearer('a'), ...over });
    assert.equal(post()?.throttled, false);
    assert.equal(post()?.throttled, true);
    assert.equal(post({ region: 'westeurope' })?.throttled, false, 'another region');
    assert.equal(post({ authorization: bearer('b') })?.throttled, false, 'another principal');
    assert.equal(post({ path: db.replace(SUB_A, SUB_B) })?.throttled, false, 'another subscription');
  });

  it("leaves Azure Monitor's metrics batch out: Azure serves it outside ARM", () => {
    const limiter = new RateLimiter(undefined, () => 0);
    limiter.configure({ enabled: true, writes: { burst: 1, perSecond: 1 } });
    for (let i = 0; i < 3; i++) {
      assert.equal(limiter.take({ method: 'POST', path: `/subscriptions/${SUB_A}/metrics:getBatch` }), undefined);
    }
    assert.equal(limiter.take({ method: 'POST', path: `${db}/listKeys` })?.throttled, false, 'the bucket is full');
  });
});
