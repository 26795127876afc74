import assert from 'node:assert/strict';
import { alreadyDone } from '../../src/workflows/runbook/attempts';

describe('a change found already made (step summaries)', () => {
  it('says "already" on a first attempt, and names the interrupted attempt on a later one', () => {
    assert.equal(alreadyDone('disabled', undefined), 'was already disabled');
    assert.equal(
      alreadyDone('disabled', 2),
      'was disabled when attempt 2 checked (the interrupted attempt 1 had likely made the change)',
    );
  });
});
