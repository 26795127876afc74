// What a stopped run says it leaves of the group's membership: never unlinked, still force-unlinked, back in the
// group (force-linked, links still resynchronising), or rejoined — true also when a rejoin's verification failed.
import assert from 'node:assert/strict';
import type { StepName, StepStatus } from '../../src/contract/names';
import { membershipLeftState } from '../../src/workflows/runbook/left-state';
import type { Runbook } from '../../src/workflows/runbook/runbook';

function rb(unlinked: boolean, steps: Partial<Record<StepName, { status: StepStatus; evidence?: unknown }>>): Runbook {
  return {
    region: 'eastus',
    state: { unlinked },
    steps: { get: (name: StepName) => steps[name] ?? { status: 'pending' } },
  } as unknown as Runbook;
}

describe('membershipLeftState: what a stopped run leaves of the membership, in words', () => {
  it('nothing unlinked', () => {
    assert.equal(membershipLeftState(rb(false, {})), 'nothing was unlinked');
  });

  it('unlinked, rejoin not called (rejected, or stopped before it)', () => {
    assert.equal(
      membershipLeftState(rb(true, { 'force-unlink': { status: 'succeeded' } })),
      'eastus stays force-unlinked: rejoin it later with rejoinRunbook',
    );
  });

  it('force-linked, but its verification failed and the run was aborted at the intervention gate', () => {
    assert.equal(
      membershipLeftState(
        rb(true, {
          'force-unlink': { status: 'succeeded' },
          rejoin: { status: 'failed', evidence: { memberInGroup: true, failure: {} } },
        }),
      ),
      'eastus is back in the group (rejoined), but not every member listed every other as Linked yet',
    );
  });

  it('rejoined, then stopped later (at failback)', () => {
    assert.equal(
      membershipLeftState(rb(false, { 'force-unlink': { status: 'succeeded' }, rejoin: { status: 'succeeded' } })),
      'eastus was force-unlinked and has rejoined the group',
    );
  });
});
