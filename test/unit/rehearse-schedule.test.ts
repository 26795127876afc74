// The rehearsal schedule's spec and the standing order's end, as `rehearse --schedule` reads them: named specs,
// five-field cron specs checked field by field, intervals; anything else is bad usage with a reason.
import assert from 'node:assert/strict';
import { orderValidity, parseRehearsalSpec } from '../../src/cli/commands/rehearse-schedule';
import { UsageError } from '../../src/cli/errors';
import { MAX_STANDING_ORDER_VALIDITY_MS } from '../../src/contract/policy';

const problem = (value: string): string => {
  const parsed = parseRehearsalSpec(value);
  assert.ok('problem' in parsed, `${value} should be refused`);
  return parsed.problem;
};

describe('rehearse --schedule: specs', () => {
  it('names quarterly, monthly and weekly as calendars (first Tuesday, 10:00 UTC)', () => {
    for (const name of ['quarterly', 'Monthly', 'weekly']) {
      const parsed = parseRehearsalSpec(name);
      assert.ok('spec' in parsed);
      assert.equal(parsed.text, name.toLowerCase());
      assert.equal(parsed.spec.calendars?.[0]?.hour, 10);
      assert.equal(parsed.spec.calendars?.[0]?.dayOfWeek, 'TUESDAY');
    }
    const q = parseRehearsalSpec('quarterly');
    assert.ok('spec' in q);
    assert.deepEqual(q.spec.calendars?.[0]?.month, ['JANUARY', 'APRIL', 'JULY', 'OCTOBER']);
  });

  it('takes a five-field cron spec with ranges, lists, steps and names', () => {
    for (const cron of ['0 10 1-7 1,4,7,10 TUE', '*/15 * * * *', '30 9 * jan-mar mon-fri', '0 0 1 */3 0']) {
      const parsed = parseRehearsalSpec(cron);
      assert.ok('spec' in parsed, cron);
      assert.deepEqual(parsed.spec.cronExpressions, [cron]);
    }
  });

  it('takes an interval', () => {
    const parsed = parseRehearsalSpec('90d');
    assert.ok('spec' in parsed);
    assert.equal(parsed.text, 'every 90d');
    assert.equal(parsed.spec.intervals?.[0]?.every, 90 * 86_400_000);
  });

  it('refuses anything else, saying which field is wrong', () => {
    assert.match(problem('0 25 * * *'), /hour "25" is outside 0-23/);
    assert.match(problem('60 * * * *'), /minute "60" is outside 0-59/);
    assert.match(problem('0 10 0 * *'), /day of month "0" is outside 1-31/);
    assert.match(problem('0 10 * 13 *'), /month "13"/);
    assert.match(problem('0 10 * * FUNDAY'), /day of week "FUNDAY"/);
    assert.match(problem('0 10 * * */0'), /step 0/);
    assert.match(problem('0 10 * *'), /expected quarterly, monthly, weekly, a cron spec/);
    assert.match(problem('yearly'), /expected quarterly/);
    assert.match(problem('0.5s'), /expected quarterly/);
    assert.match(problem(''), /expected quarterly/);
  });
});

describe('rehearse --schedule: the standing order ends', () => {
  const now = Date.parse('2026-12-02T07:00:00.000Z');
  it('a year by default; --until a day or a time within 366 days', () => {
    assert.equal(orderValidity(undefined, now), 365 * 86_400_000);
    assert.equal(orderValidity('2027-12-01', now), Date.parse('2027-12-01T00:00:00Z') - now);
    assert.equal(orderValidity('2027-01-01T12:00:00Z', now), Date.parse('2027-01-01T12:00:00Z') - now);
  });
  it('refuses a past end, an end past 366 days, and what is not a date (bad usage)', () => {
    assert.throws(
      () => orderValidity('2026-12-01', now),
      (e) => e instanceof UsageError && /not in the future/.test(e.message),
    );
    assert.throws(
      () => orderValidity(new Date(now + MAX_STANDING_ORDER_VALIDITY_MS + 86_400_000).toISOString(), now),
      (e) => e instanceof UsageError && /at most 366 days/.test(e.message),
    );
    assert.throws(() => orderValidity('next year', now), UsageError);
  });
});
