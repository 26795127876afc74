import assert from 'node:assert/strict';
import { principalOf, RateLimiter, rateLimitKind } from '../../src/emulator/rate-limits';

const PATH = '/subscriptions/SUB-1/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/c/databases/default';

function jwt(claims: Record<string, unknown>): string {
  const part = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.signature`;
}

describe('emulator: ARM token buckets', () => {
  it("is off by default; Azure's sizes when turned on without sizes", () => {
    const limiter = new RateLimiter();
    assert.equal(limiter.take({ method: 'GET', path: PATH }), undefined);
    const state = limiter.configure({ enabled: true });
    assert.deepEqual(
      [state.reads, state.writes, state.deletes],
      [
        { burst: 250, perSecond: 25 },
        { burst: 200, perSecond: 10 },
        { burst: 200, perSecond: 10 },
      ],
    );
    assert.equal(limiter.take({ method: 'GET', path: PATH })?.remaining, 249);
    assert.equal(limiter.take({ method: 'POST', path: PATH })?.header, 'x-ms-ratelimit-remaining-subscription-writes');
    assert.equal(limiter.take({ method: 'DELETE', path: PATH })?.remaining, 199);
  });

  it('refills at perSecond; an empty bucket answers throttled with the seconds until a token is back', () => {
    let now = 0;
    const limiter = new RateLimiter(undefined, () => now);
    limiter.configure({ enabled: true, writes: { burst: 2, perSecond: 0.25 } });
    const write = () => limiter.take({ method: 'PUT', path: PATH, region: 'East US', authorization: 'Bearer a' });
    assert.equal(write()?.throttled, false);
    assert.equal(write()?.throttled, false);
    const refused = write();
    assert.equal(refused?.throttled, true);
    assert.equal(refused?.retryAfterSeconds, 4);
    now = 2000; // half a token back: still throttled, a new (shorter) Retry-After, nothing taken
    assert.equal(write()?.retryAfterSeconds, 2);
    now = 4000;
    assert.equal(write()?.throttled, false);
    assert.deepEqual(limiter.state().throttled, { reads: 0, writes: 2, deletes: 0 });
  });

  it('keeps one bucket per subscription, principal, region and kind', () => {
    const limiter = new RateLimiter({
      enabled: true,
      reads: { burst: 1, perSecond: 0 },
      writes: { burst: 1, perSecond: 0 },
      deletes: { burst: 1, perSecond: 0 },
    });
    const take = (over: Partial<{ method: string; path: string; region: string; authorization: string }>) =>
      limiter.take({ method: 'GET', path: PATH, region: 'eastus', authorization: 'Bearer a', ...over });
    assert.equal(take({})?.throttled, false);
    assert.equal(take({})?.throttled, true);
    assert.equal(take({})?.retryAfterSeconds, 3600, 'no refill: the longest wait');
    assert.equal(take({ region: 'EastUS' })?.throttled, true, 'region names compare without case or spaces');
    assert.equal(take({ region: 'westeurope' })?.throttled, false);
    assert.equal(take({ authorization: 'Bearer b' })?.throttled, false);
    assert.equal(take({ path: PATH.replace('SUB-1', 'SUB-2') })?.throttled, false);
    assert.equal(take({ path: PATH.replace('SUB-1', 'sub-1') })?.throttled, true, 'subscription ids without case');
    assert.equal(take({ method: 'PATCH' })?.throttled, false);
    assert.equal(take({ method: 'DELETE' })?.throttled, false);
    limiter.reset();
    assert.equal(take({})?.throttled, false, 'reset: full buckets');
  });

  it("names the principal by the token's oid (never the token), and the kind by the method", () => {
    assert.equal(principalOf(`Bearer ${jwt({ oid: 'object-1', appid: 'app' })}`), 'object-1');
    assert.equal(principalOf(`Bearer ${jwt({ appid: 'app' })}`), 'app');
    const opaque = principalOf('Bearer not-a-jwt');
    assert.match(opaque, /^token:[0-9a-f]{16}$/);
    assert.ok(!opaque.includes('not-a-jwt'));
    assert.deepEqual(['GET', 'head', 'PUT', 'PATCH', 'POST', 'DELETE'].map(rateLimitKind), [
      'reads',
      'reads',
      'writes',
      'writes',
      'writes',
      'deletes',
    ]);
  });
});
