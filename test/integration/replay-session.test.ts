// The audit's replay session: one replay worker, started before any history is there, replays every history given
// to it in order (verified or diverged, each its own verdict), names the workflow bundle file by its sha256, and
// closes cleanly whether or not it replayed anything.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { readHistoryFile } from '../../src/audit/history';
import { startReplaySession } from '../../src/audit/replay';
import { workflowBundleFile } from '../../src/workflow-bundle';
import { installTestRuntime } from '../helpers/temporal';

const HISTORIES = path.join(__dirname, '..', 'replay', 'histories');

describe('replay session (the audit’s replay worker)', function () {
  this.timeout(300_000);
  before(() => installTestRuntime());

  it('replays several histories in one worker, in order, against the current bundle named by its sha256', async () => {
    const files = ['short-outage.json', 'rejoin-runbook.json', 'aborted.json'];
    const session = startReplaySession();
    try {
      for (const file of files) {
        const loaded = readHistoryFile(path.join(HISTORIES, file));
        const verdict = await session.replay(loaded.history, loaded.workflowId);
        assert.equal(verdict.verdict, 'verified', `${file}: ${verdict.mismatch?.message ?? ''}`);
        const { codePath } = await workflowBundleFile();
        assert.equal(
          verdict.code?.bundleSha256,
          createHash('sha256').update(readFileSync(codePath)).digest('hex'),
          'the sha256 of the bundle file a worker runs',
        );
      }
    } finally {
      await session.close();
    }
  });

  it('gives each history its own verdict: a diverged one does not spoil the next', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: require.resolve('../replay/fixtures/changed-workflows'),
      logger: new DefaultLogger('WARN'),
    });
    const session = startReplaySession({ bundle: changed, against: 'a changed failoverRunbook' });
    try {
      const failover = readHistoryFile(path.join(HISTORIES, 'short-outage.json'));
      const rejoin = readHistoryFile(path.join(HISTORIES, 'rejoin-runbook.json'));
      const diverged = await session.replay(failover.history, failover.workflowId);
      assert.equal(diverged.verdict, 'diverged');
      assert.equal(diverged.mismatch?.eventId, 5);
      assert.equal(diverged.against, 'a changed failoverRunbook');
      // rejoinRunbook's change is behind patched(): still verified, in the same worker, after the divergence.
      const verified = await session.replay(rejoin.history, rejoin.workflowId);
      assert.equal(verified.verdict, 'verified', verified.mismatch?.message);
    } finally {
      await session.close();
    }
  });

  it('closes without having replayed anything, and refuses a replay after close', async () => {
    const session = startReplaySession();
    await session.close();
    await session.close(); // twice is fine
    const loaded = readHistoryFile(path.join(HISTORIES, 'short-outage.json'));
    await assert.rejects(session.replay(loaded.history, loaded.workflowId), /closed/);
  });
});
