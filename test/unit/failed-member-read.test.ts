import assert from 'node:assert/strict';
import { durationMs } from '../../src/workflows/runbook/durations';
import {
  DEFAULT_FAILED_MEMBER_READ,
  failedMemberReadActivityOptions,
  readActivityOptions,
} from '../../src/workflows/runbook/activity-options';
import { inputProblems } from '../../src/workflows/runbook/validate-input';

describe("the failed member's read budget (tuning.failedMemberRead)", () => {
  it('defaults to a few seconds in all, attempts included; survivors keep the read budget', () => {
    const options = failedMemberReadActivityOptions();
    assert.equal(options.scheduleToCloseTimeout, DEFAULT_FAILED_MEMBER_READ);
    assert.equal(options.startToCloseTimeout, DEFAULT_FAILED_MEMBER_READ);
    assert.ok(durationMs(DEFAULT_FAILED_MEMBER_READ) <= 10_000);
    assert.ok(durationMs(readActivityOptions().scheduleToCloseTimeout as string) > 10_000);
  });

  it('follows the tuning', () => {
    const options = failedMemberReadActivityOptions({
      failedMemberRead: '2s',
      reads: { initialRetryInterval: '100ms' },
    });
    assert.equal(options.scheduleToCloseTimeout, '2s');
    assert.equal(options.retry?.initialInterval, '100ms');
  });

  it('is a tuning field the input accepts, and a bad duration is refused', () => {
    const base = {
      group: 'leaderboard',
      failedRegion: 'eastus',
      reason: 'r',
      request: { statement: 's', signature: 'x' },
    };
    assert.ok(
      !inputProblems('failover', { ...base, tuning: { failedMemberRead: '3s' } }).some((p) => p.includes('tuning')),
    );
    assert.ok(
      inputProblems('failover', { ...base, tuning: { failedMemberRead: 'soon' } }).some((p) =>
        p.includes('tuning.failedMemberRead'),
      ),
    );
  });
});
