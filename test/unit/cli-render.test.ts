import assert from 'node:assert/strict';
import { renderStatus } from '../../src/cli/render';
import type { RunbookView } from '../../src/starter';

describe('status as the CLI prints it', () => {
  it('says which run of a continued incident it shows, and since when the incident runs', () => {
    const view: RunbookView = {
      workflowId: 'failover/leaderboard',
      runId: 'run-3',
      workflowType: 'failoverRunbook',
      taskQueue: 'geofailover',
      execution: 'running',
      startedAt: '2026-12-02T03:00:00.000Z',
      source: 'query',
      status: {
        group: 'leaderboard',
        failedRegion: 'eastus',
        runId: 'run-3',
        phase: 'awaiting-recovery',
        currentStep: 'await-recovery',
        steps: [],
        continued: { run: 3, firstRunId: 'run-1', incidentStartedAt: '2026-12-01T09:00:00.000Z' },
      },
    };
    const text = renderStatus(view).join('\n');
    assert.match(
      text,
      /run 3 of this incident \(continued as new; incident started 2026-12-01T09:00:00\.000Z, first run run-1\)/,
    );
  });
});
