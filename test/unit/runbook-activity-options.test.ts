import assert from 'node:assert/strict';
import { ActivityCancellationType } from '@temporalio/workflow';
import {
  destructiveActivityOptions,
  mutationActivityOptions,
  probeActivityOptions,
  readActivityOptions,
} from '../../src/workflows/runbook/activity-options';

describe('activity option presets (pure)', () => {
  it('reads keep their defaults', () => {
    assert.equal(readActivityOptions().scheduleToCloseTimeout, '2 minutes');
  });

  it('probes run on the region’s probe queue and fail by name when no probe worker picks them up', () => {
    const options = probeActivityOptions('westeurope', {
      probeTimeoutMs: 2000,
      tuning: { probeScheduleToStart: '3s' },
    });
    assert.equal(options.taskQueue, 'geofailover-probe-westeurope');
    assert.equal(options.scheduleToStartTimeout, '3s');
    assert.ok(typeof options.startToCloseTimeout === 'number' && options.startToCloseTimeout >= 4 * 2000);
    assert.equal(probeActivityOptions('x', { probeTimeoutMs: 1 }).scheduleToStartTimeout, '2 minutes');
  });

  it('mutations retry a bounded number of times, from tuning', () => {
    const options = mutationActivityOptions({ mutationMaximumAttempts: 2, mutationInitialRetryInterval: '100ms' });
    assert.equal(options.retry?.maximumAttempts, 2);
    assert.equal(options.retry?.initialInterval, '100ms');
    assert.ok(options.retry?.nonRetryableErrorTypes?.includes('AzureBadRequest'));
    assert.equal(mutationActivityOptions().retry?.maximumAttempts, 5);
  });

  it('destructive long-running operations heartbeat and wait for cancellation to complete', () => {
    const options = destructiveActivityOptions({ heartbeatTimeout: '5s' });
    assert.equal(options.heartbeatTimeout, '5s');
    assert.equal(options.cancellationType, ActivityCancellationType.WAIT_CANCELLATION_COMPLETED);
    assert.equal(destructiveActivityOptions().heartbeatTimeout, '60 seconds');
  });
});
