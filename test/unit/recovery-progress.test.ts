import assert from 'node:assert/strict';
import type { MemberSnapshot } from '../../src/contract/types';
import {
  armFailures,
  DEFAULT_RECOVERY_CONFIRMATIONS,
  describeProgress,
  MAX_REQUESTS_KEPT,
  newRecoveryProgress,
  recordCheck,
  requestVerification,
  requiredConfirmations,
  restoredProgress,
  takeRequests,
  verificationPending,
  type RecoveryCheck,
  type RecoveryProgress,
} from '../../src/workflows/runbook/recovery-progress';

const REGION = 'eastus';
// A function, so TypeScript does not narrow `confirmed` after an assertion.
const confirmedOf = (p: RecoveryProgress): RecoveryProgress['confirmed'] => p.confirmed;
const ID =
  '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/redis-eastus/databases/default';

const member = (change: Partial<MemberSnapshot> = {}): MemberSnapshot => ({
  region: REGION,
  databaseId: ID,
  reachable: true,
  resourceState: 'Running',
  ...change,
});

const passing = (at = '2026-01-01T00:00:00.000Z'): Omit<RecoveryCheck, 'poll' | 'passed' | 'askedBy'> => ({
  at,
  arm: 'answers',
  resourceState: 'Running',
  probes: 'passed',
  failures: [],
});

const probesFail = (): Omit<RecoveryCheck, 'poll' | 'passed' | 'askedBy'> => ({
  ...passing(),
  probes: 'failed',
  failures: ['probe: westeurope cannot reach eastus at 127.0.0.1:1: timeout at TLS (no answer within 1 s)'],
});

describe('recovery progress (pure): K consecutive checks', () => {
  it('needs K passing checks in a row; a failed check starts the count again', () => {
    const p = newRecoveryProgress();
    recordCheck(p, passing(), [], 3);
    recordCheck(p, passing(), [], 3);
    assert.equal(p.consecutivePasses, 2);
    assert.equal(p.confirmed, undefined);
    assert.match(describeProgress(p, 3, REGION), /^2\/3 consecutive checks passed/);

    const failed = recordCheck(p, probesFail(), [], 3);
    assert.equal(failed.passed, false);
    assert.equal(p.consecutivePasses, 0, 'a failed check resets the run');
    assert.match(
      describeProgress(p, 3, REGION),
      /^0\/3 consecutive checks passed; probe: westeurope cannot reach eastus/,
    );

    recordCheck(p, passing(), [], 3);
    recordCheck(p, passing(), [], 3);
    assert.equal(p.confirmed, undefined);
    recordCheck(p, passing('2026-01-01T00:00:05.000Z'), [], 3);
    assert.deepEqual(p.confirmed, { at: '2026-01-01T00:00:05.000Z', checks: 3 });
  });

  it('ARM must answer and the database must be Running', () => {
    assert.deepEqual(armFailures(REGION, member()), []);
    assert.match(
      armFailures(REGION, member({ reachable: false, error: { code: 'RegionUnavailable', message: 'HTTP 503' } }))[0]!,
      /ARM does not answer for eastus \(HTTP 503\)/,
    );
    assert.match(
      armFailures(REGION, member({ resourceState: 'Updating' }))[0]!,
      /resourceState is Updating, not Running/,
    );
    assert.match(armFailures(REGION, member({ resourceState: undefined }))[0]!, /not reported, not Running/);
    assert.equal(armFailures(REGION, undefined).length, 1);
  });

  it('regionRecovered asks for a check and is named by it; it does not confirm anything itself', () => {
    const p = newRecoveryProgress();
    assert.equal(verificationPending(p), false);
    requestVerification(p, { by: 'sre-lead', at: '2026-01-01T00:00:00.000Z', comment: 'Azure says healthy' });
    requestVerification(p, { by: 'sre-lead', at: '2026-01-01T00:00:01.000Z' });
    assert.equal(verificationPending(p), true);
    assert.equal(p.confirmed, undefined);
    const asked = takeRequests(p);
    assert.deepEqual(asked, ['sre-lead'], 'one name per person');
    assert.equal(verificationPending(p), false);
    const check = recordCheck(p, probesFail(), asked, 1);
    assert.deepEqual(check.askedBy, ['sre-lead']);
    assert.equal(p.confirmed, undefined, 'the checks decide, not the signal');
    assert.match(describeProgress(p, 1, REGION), /\(asked for by sre-lead\)/);
    recordCheck(p, passing(), [], 1);
    assert.deepEqual(confirmedOf(p)?.askedBy, ['sre-lead']);
    assert.equal(p.requestsTotal, 2);
  });

  it('stays bounded and plain JSON whatever is sent', () => {
    const p = newRecoveryProgress();
    for (let i = 0; i < 50; i++) {
      requestVerification(p, { by: `person-${i}-${'x'.repeat(200)}`, at: 'now', comment: 'c'.repeat(10_000) });
    }
    assert.equal(p.requests.length, MAX_REQUESTS_KEPT);
    assert.equal(p.requestsTotal, 50);
    assert.ok(p.pendingAskedBy.length <= MAX_REQUESTS_KEPT);
    assert.ok(p.requests.every((r) => (r.comment?.length ?? 0) < 500 && r.by.length < 100));
    const many = { ...passing(), failures: Array.from({ length: 40 }, () => 'f'.repeat(5000)) };
    const check = recordCheck(p, many, [], 3);
    assert.ok(check.failures.length <= 11);
    assert.ok(check.failures.every((f) => f.length < 400));
    assert.deepEqual(JSON.parse(JSON.stringify(p)), p, 'survives a round trip through JSON (continue-as-new)');
  });

  it('takes the group setting when it is a whole number from 1 to 100, else 3', () => {
    assert.equal(DEFAULT_RECOVERY_CONFIRMATIONS, 3);
    assert.equal(requiredConfirmations(undefined), 3);
    assert.equal(requiredConfirmations(1), 1);
    assert.equal(requiredConfirmations(5), 5);
    assert.equal(requiredConfirmations(0), 3);
    assert.equal(requiredConfirmations(2.5), 3);
    assert.equal(requiredConfirmations('5'), 3);
  });

  it('a continued run takes the progress over as saved, and anything malformed as empty, never throwing', () => {
    const p = newRecoveryProgress();
    requestVerification(p, { by: 'sre-lead', at: '2026-01-01T00:00:00.000Z', comment: 'back' });
    recordCheck(p, passing(), takeRequests(p), 3);
    recordCheck(p, passing(), [], 3);
    const saved = JSON.parse(JSON.stringify(p)) as unknown;
    assert.deepEqual(restoredProgress(saved), p, 'two passes in a row and who asked survive continue-as-new');
    for (const junk of [undefined, null, 42, 'x', [], { polls: -1, requests: 'no', samples: {}, confirmed: 3 }]) {
      const restored = restoredProgress(junk);
      assert.deepEqual({ ...restored, polls: 0 }, { ...newRecoveryProgress(), polls: 0 });
    }
    const huge = restoredProgress({
      requests: Array.from({ length: 100 }, () => ({ by: 'b'.repeat(1000), at: 'now' })),
    });
    assert.equal(huge.requests.length, MAX_REQUESTS_KEPT);
    assert.ok(huge.requests.every((r) => r.by.length < 100));
  });
});
