import assert from 'node:assert/strict';
import { createPipelineRequest, type HttpClient, type PipelineRequest } from '@azure/core-rest-pipeline';
import { armClientsFor, createArmClients, subscriptionGuardPolicy, subscriptionOfUrl } from '../../src/azure/clients';
import { ArmRequestTimeoutError, ArmSubscriptionMismatchError, classifyAzureError } from '../../src/azure/errors';
import { FAILURE_TYPES } from '../../src/contract/failures';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { FakeHttpClient } from '../helpers/azure-fake-http';

const SUB_A = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const SUB_B = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const RG = 'rg-geofailover-demo';
const dbId = (sub: string): string =>
  `/subscriptions/${sub}/resourceGroups/${RG}/providers/Microsoft.Cache/redisEnterprise/redis-a/databases/default`;

const database = { id: dbId(SUB_A), name: 'default', properties: { port: 10000 } };

describe('ARM clients keyed by subscription', () => {
  it('forSubscription: ours is the same object, another is built once with the same options', async () => {
    const http = new FakeHttpClient(() => ({ status: 200, body: database }));
    const arm = createArmClients({ subscriptionId: SUB_A, endpoint: 'https://127.0.0.1:9', httpClient: http });
    assert.equal(arm.forSubscription(SUB_A.toUpperCase()), arm);
    const b = arm.forSubscription(SUB_B);
    assert.notEqual(b, arm);
    assert.equal(b.subscriptionId, SUB_B);
    assert.equal(arm.forSubscription(SUB_B), b, 'kept, not rebuilt');
    assert.equal(b.forSubscription(SUB_A), arm, 'one registry');
    assert.equal(b.redisApiVersion, arm.redisApiVersion);
    assert.equal(armClientsFor(arm, dbId(SUB_B)), b);
    assert.equal(armClientsFor(arm, dbId(SUB_A)), arm);
    assert.throws(() => armClientsFor(arm, '/resourceGroups/x'), TypeError);

    await armClientsFor(arm, dbId(SUB_B)).redis.databases.get(RG, 'redis-a', 'default');
    assert.equal(subscriptionOfUrl(http.requests[0]?.url ?? ''), SUB_B);
  });

  it('refuses, before sending, a request that names another subscription than the client', async () => {
    const policy = subscriptionGuardPolicy(SUB_A);
    const next = async (request: PipelineRequest) => ({ request, status: 200, headers: undefined as never });
    await assert.rejects(
      async () => policy.sendRequest(createPipelineRequest({ url: `https://127.0.0.1:9${dbId(SUB_B)}` }), next),
      (e: unknown) => {
        assert.ok(e instanceof ArmSubscriptionMismatchError);
        const c = classifyAzureError(e);
        assert.equal(c.type, FAILURE_TYPES.invalidInput);
        assert.equal(c.retryable, false);
        return true;
      },
    );
    // same subscription, any casing, and paths without a subscription pass
    await policy.sendRequest(createPipelineRequest({ url: `https://127.0.0.1:9${dbId(SUB_A.toUpperCase())}` }), next);
    await policy.sendRequest(createPipelineRequest({ url: 'https://127.0.0.1:9/providers/Microsoft.Cache' }), next);
  });

  it('bounds each request by requestTimeoutMs: a hung answer is a transient RequestTimeout, not a wait', async () => {
    let sent = 0;
    const hanging: HttpClient = {
      sendRequest: (request) =>
        new Promise((_, reject) => {
          sent++;
          request.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })),
          );
        }),
    };
    const arm = createArmClients({
      subscriptionId: SUB_A,
      endpoint: 'https://127.0.0.1:9',
      httpClient: hanging,
      requestTimeoutMs: 150,
      retryOptions: { maxRetries: 3, retryDelayInMs: 10 },
    });
    const started = Date.now();
    const error = await arm.redis.databases.get(RG, 'redis-a', 'default').then(
      () => assert.fail('expected a timeout'),
      (e: unknown) => e,
    );
    const elapsed = Date.now() - started;
    assert.ok(error instanceof ArmRequestTimeoutError, String(error));
    assert.ok(elapsed >= 140 && elapsed < 2000, `took ${elapsed} ms`);
    assert.equal(sent, 1);
    const c = classifyAzureError(error);
    assert.deepEqual([c.type, c.retryable, c.code], [FAILURE_TYPES.azureTransient, true, 'RequestTimeout']);
  });

  it("a caller's own abort stays an abort", async () => {
    const hanging: HttpClient = {
      sendRequest: (request) =>
        new Promise((_, reject) => {
          request.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('aborted by caller'), { name: 'AbortError' })),
          );
        }),
    };
    const arm = createArmClients({ subscriptionId: SUB_A, endpoint: 'https://127.0.0.1:9', httpClient: hanging });
    const error = await arm.redis.databases
      .get(RG, 'redis-a', 'default', { abortSignal: AbortSignal.timeout(50) })
      .then(
        () => assert.fail('expected an abort'),
        (e: unknown) => e,
      );
    assert.equal((error as Error).name, 'AbortError');
  });

  it("inside an activity, a request ends at the activity's own deadline and on its cancellation", async () => {
    const hanging: HttpClient = {
      sendRequest: (request) =>
        new Promise((_, reject) => {
          request.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' })),
          );
        }),
    };
    const arm = createArmClients({ subscriptionId: SUB_A, endpoint: 'https://127.0.0.1:9', httpClient: hanging });
    const now = Date.now();
    const quiet = { logger: new DefaultLogger('ERROR') };
    const deadlineEnv = new MockActivityEnvironment(
      {
        scheduledTimestampMs: now,
        currentAttemptScheduledTimestampMs: now,
        scheduleToCloseTimeoutMs: 400,
        startToCloseTimeoutMs: 400,
      },
      quiet,
    );
    const started = Date.now();
    const error = await deadlineEnv
      .run(() => arm.redis.databases.get(RG, 'redis-a', 'default'))
      .then(
        () => assert.fail('expected an abort'),
        (e: unknown) => e,
      );
    const elapsed = Date.now() - started;
    assert.equal((error as Error).name, 'AbortError');
    assert.ok(elapsed >= 300 && elapsed < 2000, `ended at the deadline less its margin: ${elapsed} ms`);

    const cancelEnv = new MockActivityEnvironment(undefined, quiet);
    const pending = cancelEnv.run(() => arm.redis.databases.get(RG, 'redis-a', 'default'));
    pending.catch(() => undefined);
    setTimeout(() => cancelEnv.cancel(), 50);
    await assert.rejects(pending, (e: unknown) => (e as Error).name === 'AbortError');
  });

  it('refuses a non-positive requestTimeoutMs', () => {
    assert.throws(
      () => createArmClients({ subscriptionId: SUB_A, endpoint: 'https://127.0.0.1:9', requestTimeoutMs: 0 }),
      TypeError,
    );
  });
});
