import assert from 'node:assert/strict';
import { createHttpHeaders, createPipelineRequest, RestError } from '@azure/core-rest-pipeline';
import { createArmClients } from '../../src/azure/clients';
import { classifyAzureError, parseRetryAfterMs } from '../../src/azure/errors';
import { FAILURE_TYPES } from '../../src/contract/failures';
import { FakeHttpClient } from '../helpers/azure-fake-http';

const SUB = '6d1f0a2e-3b4c-4d5e-9f60-718293a4b5c6';
const RG = 'rg-geofailover-demo';
const NOW = Date.parse('2026-11-26T10:00:00Z');

function restError(
  statusCode: number | undefined,
  code: string | undefined,
  headers: Record<string, string> = {},
): RestError {
  const request = createPipelineRequest({ url: 'https://127.0.0.1:1/x' });
  return new RestError(`message for ${statusCode ?? 'no status'}`, {
    ...(statusCode !== undefined ? { statusCode } : {}),
    ...(code !== undefined ? { code } : {}),
    request,
    ...(statusCode !== undefined
      ? { response: { request, status: statusCode, headers: createHttpHeaders(headers) } }
      : {}),
  });
}

describe('azure error classification', () => {
  describe('HTTP status codes', () => {
    const cases: [number, string, boolean][] = [
      [400, FAILURE_TYPES.azureBadRequest, false],
      [401, FAILURE_TYPES.azureUnauthorized, false],
      [403, FAILURE_TYPES.azureUnauthorized, false],
      [404, FAILURE_TYPES.azureNotFound, false],
      [405, FAILURE_TYPES.azureBadRequest, false],
      [408, FAILURE_TYPES.azureTransient, true],
      [409, FAILURE_TYPES.azureConflict, true],
      [412, FAILURE_TYPES.azureConflict, true],
      [422, FAILURE_TYPES.azureBadRequest, false],
      [429, FAILURE_TYPES.azureThrottled, true],
      [500, FAILURE_TYPES.azureTransient, true],
      [501, FAILURE_TYPES.azureBadRequest, false],
      [502, FAILURE_TYPES.azureTransient, true],
      [503, FAILURE_TYPES.azureTransient, true],
      [504, FAILURE_TYPES.azureTransient, true],
    ];
    for (const [status, type, retryable] of cases) {
      it(`${status} → ${type}, ${retryable ? 'retryable' : 'not retryable'}`, () => {
        const c = classifyAzureError(restError(status, 'SomeCode'), { now: NOW });
        assert.equal(c.type, type);
        assert.equal(c.retryable, retryable);
        assert.equal(c.statusCode, status);
        assert.equal(c.code, 'SomeCode');
        assert.equal(c.message, `message for ${status}`);
        assert.equal(c.retryAfterMs, undefined);
      });
    }
  });

  describe('Retry-After', () => {
    it('reads seconds, an HTTP date, retry-after-ms and x-ms-retry-after-ms', () => {
      assert.equal(classifyAzureError(restError(429, 'TooManyRequests', { 'Retry-After': '7' })).retryAfterMs, 7000);
      const date = new Date(NOW + 12_000).toUTCString();
      assert.equal(
        classifyAzureError(restError(503, 'ServiceUnavailable', { 'retry-after': date }), { now: NOW }).retryAfterMs,
        12_000,
      );
      assert.equal(classifyAzureError(restError(429, 'X', { 'retry-after-ms': '250' })).retryAfterMs, 250);
      assert.equal(classifyAzureError(restError(429, 'X', { 'x-ms-retry-after-ms': '1500' })).retryAfterMs, 1500);
    });

    it('prefers the millisecond headers, like the SDK retry policy', () => {
      assert.equal(parseRetryAfterMs({ 'Retry-After': '10', 'retry-after-ms': '5' }), 5);
      assert.equal(parseRetryAfterMs({ 'Retry-After': '10', 'x-ms-retry-after-ms': '6' }), 6);
    });

    it('ignores garbage and clamps dates in the past to 0', () => {
      assert.equal(parseRetryAfterMs({ 'Retry-After': 'soon' }), undefined);
      assert.equal(parseRetryAfterMs({ 'retry-after-ms': '-3' }), undefined);
      assert.equal(parseRetryAfterMs({}), undefined);
      assert.equal(parseRetryAfterMs({ 'Retry-After': new Date(NOW - 5000).toUTCString() }, NOW), 0);
    });
  });

  describe('without a response', () => {
    it('network errors are retryable transients', () => {
      for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', RestError.REQUEST_SEND_ERROR]) {
        const c = classifyAzureError(restError(undefined, code));
        assert.equal(c.type, FAILURE_TYPES.azureTransient, code);
        assert.equal(c.retryable, true, code);
        assert.equal(c.code, code);
        assert.equal(c.statusCode, undefined);
      }
      const plain = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
      assert.equal(classifyAzureError(plain).retryable, true);
    });

    it('timeouts (AbortError) are retryable transients', () => {
      const abort = new Error('The operation was aborted.');
      abort.name = 'AbortError';
      const c = classifyAzureError(abort);
      assert.equal(c.type, FAILURE_TYPES.azureTransient);
      assert.equal(c.retryable, true);
    });

    it('TLS verification failures are configuration errors, not retried', () => {
      const c = classifyAzureError(restError(undefined, 'SELF_SIGNED_CERT_IN_CHAIN'));
      assert.equal(c.type, FAILURE_TYPES.invalidInput);
      assert.equal(c.retryable, false);
      assert.match(c.message, /TLS verification failed/);
    });
  });

  describe('long-running operations', () => {
    it('a Failed operation is not retryable and carries the ARM code and message', () => {
      const e = new Error('The long-running operation has failed. LinkFailed. Database cache2 is not reachable.');
      const c = classifyAzureError(e);
      assert.deepEqual(c, {
        type: FAILURE_TYPES.azureOperationFailed,
        retryable: false,
        code: 'LinkFailed',
        message: 'Database cache2 is not reachable.',
      });
    });

    it('handles codes with dots and failures without an error body', () => {
      const dotted = classifyAzureError(new Error('The long-running operation has failed. Invalid.Group. Bad group.'));
      assert.equal(dotted.code, 'Invalid.Group');
      assert.equal(dotted.message, 'Bad group.');
      const bare = classifyAzureError(new Error('The long-running operation has failed'));
      assert.equal(bare.type, FAILURE_TYPES.azureOperationFailed);
      assert.equal(bare.code, undefined);
      assert.equal(bare.retryable, false);
    });

    it('a Canceled operation is not retryable', () => {
      const e = new Error('Operation was canceled');
      e.name = 'PollerCancelledError';
      const c = classifyAzureError(e);
      assert.equal(c.type, FAILURE_TYPES.azureOperationFailed);
      assert.equal(c.code, 'Canceled');
      assert.equal(c.retryable, false);
    });
  });

  describe('credentials', () => {
    it('a missing identity is not retryable; an identity-provider outage is', () => {
      const missing = new Error('DefaultAzureCredential failed to retrieve a token');
      missing.name = 'CredentialUnavailableError';
      assert.deepEqual(
        [classifyAzureError(missing).type, classifyAzureError(missing).retryable],
        [FAILURE_TYPES.azureUnauthorized, false],
      );
      const outage = Object.assign(new Error('AADSTS: service unavailable'), {
        name: 'AuthenticationError',
        statusCode: 503,
      });
      assert.equal(classifyAzureError(outage).retryable, true);
      const refused = Object.assign(new Error('AADSTS7000215: Invalid client secret'), {
        name: 'AuthenticationError',
        statusCode: 401,
      });
      assert.equal(classifyAzureError(refused).type, FAILURE_TYPES.azureUnauthorized);
    });
  });

  it('never throws on odd input', () => {
    for (const thing of [undefined, null, 'text', 42, {}, { message: 'm' }]) {
      const c = classifyAzureError(thing);
      assert.equal(typeof c.message, 'string');
    }
  });

  describe('errors produced by the SDK pipeline', () => {
    function clients(http: FakeHttpClient): ReturnType<typeof createArmClients> {
      return createArmClients({
        subscriptionId: SUB,
        endpoint: 'https://127.0.0.1:9',
        httpClient: http,
        retryOptions: { maxRetries: 0 },
      });
    }

    it('a 404 CloudError body becomes AzureNotFound with the ARM code and message', async () => {
      const message = `The Resource 'Microsoft.Cache/redisEnterprise/nope/databases/default' under resource group '${RG}' was not found.`;
      const http = new FakeHttpClient().enqueue({
        status: 404,
        headers: { 'x-ms-request-id': 'r1' },
        body: { error: { code: 'ResourceNotFound', message } },
      });
      const error = await clients(http)
        .redis.databases.get(RG, 'nope', 'default')
        .then(
          () => assert.fail('expected a 404'),
          (e: unknown) => e,
        );
      assert.deepEqual(classifyAzureError(error), {
        type: FAILURE_TYPES.azureNotFound,
        retryable: false,
        statusCode: 404,
        code: 'ResourceNotFound',
        message,
      });
    });

    it('a 429 beyond the retry budget becomes AzureThrottled with retryAfterMs', async () => {
      const http = new FakeHttpClient().enqueue({
        status: 429,
        headers: { 'Retry-After': '3' },
        body: { error: { code: 'TooManyRequests', message: 'Slow down.' } },
      });
      const error = await clients(http)
        .trafficManager.profiles.get(RG, 'tm-leaderboard')
        .then(
          () => assert.fail('expected a 429'),
          (e: unknown) => e,
        );
      const c = classifyAzureError(error);
      assert.equal(c.type, FAILURE_TYPES.azureThrottled);
      assert.equal(c.retryable, true);
      assert.equal(c.retryAfterMs, 3000);
      assert.equal(c.code, 'TooManyRequests');
    });

    it('a 409 becomes a retryable AzureConflict', async () => {
      const http = new FakeHttpClient().enqueue({
        status: 409,
        body: { error: { code: 'AnotherOperationInProgress', message: 'Busy.' } },
      });
      const error = await clients(http)
        .redis.databases.beginForceUnlink(RG, 'c', 'default', { ids: ['x'] })
        .then(
          () => assert.fail('expected a 409'),
          (e: unknown) => e,
        );
      const c = classifyAzureError(error);
      assert.equal(c.type, FAILURE_TYPES.azureConflict);
      assert.equal(c.code, 'AnotherOperationInProgress');
      assert.equal(c.retryable, true);
    });
  });
});
