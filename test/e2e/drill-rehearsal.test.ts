// `geofailover drill --rehearsal` spawned as a newcomer runs it (`--json`, shared test server): a rehearsal of a
// healthy region started as `rehearse` starts it, its hold ended with a signed endRehearsal, traffic back, the
// canary replication check passed, nothing destructive called, and the evidence package verified.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { actions, show, spawnDrill, stepEnded, summaryOf } from '../helpers/drill-process';
import { uniqueTaskQueue } from '../helpers/temporal';

describe('geofailover drill --rehearsal', function () {
  this.timeout(240_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-drill-rehearsal-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('drains the healthy region, ends the hold with a signed end-rehearsal, fails back, proves replication', async () => {
    const out = path.join(dir, 'evidence');
    const run = await spawnDrill(['--json', '--rehearsal', '--out', out, '--task-queue', uniqueTaskQueue('drill')], {
      cwd: dir,
      timeoutMs: 200_000,
    });
    process.stderr.write(`      rehearsal drill on the shared server: ${(run.wallMs / 1000).toFixed(1)} s wall\n`);
    assert.equal(run.code, 0, show(run));
    assert.equal(run.stdout.trim().split('\n').length, run.events.length, 'stdout is NDJSON only');

    assert.deepEqual(actions(run, 'outage-injected'), [], 'no outage: the region is healthy');
    const started = actions(run, 'runbook-started')[0];
    assert.match(String(started?.workflowId), /^rehearsal\//, 'started as `rehearse` starts it: rehearsal/<group>');
    assert.equal(started?.mode, 'rehearsal');
    assert.equal(actions(run, 'traffic-moved').length, 1, 'traffic drained');
    assert.equal(actions(run, 'holding').length, 1);
    assert.equal(actions(run, 'hold-ended')[0]?.by, 'sre-lead', 'the commander signed endRehearsal');
    assert.equal(actions(run, 'failback').length, 1, 'traffic came back');
    assert.equal(stepEnded(run, 'hold')?.status, 'succeeded');
    assert.equal(stepEnded(run, 'traffic-failback')?.status, 'succeeded');
    assert.equal(stepEnded(run, 'replication-check')?.status, 'succeeded');

    const summary = summaryOf(run);
    assert.equal(summary.ok, true);
    assert.equal(summary.path, 'rehearsal');
    assert.equal(summary.mode, 'rehearsal');
    assert.equal(summary.outcome, 'completed');
    assert.equal(summary.forceUnlinks, 0, 'nothing destructive: the emulator counted no force-unlink');
    assert.equal(summary.verdict, 'verified');
    assert.deepEqual(
      summary.checks.map((c) => [c.check, c.ok]),
      [
        ['outcome', true],
        ['links', true],
        ['endpoint', true],
        ['force-unlink', true],
        ['access-keys', true],
        ['replication-check', true],
        ['replay', true],
      ],
    );
    assert.match(summary.checks.find((c) => c.check === 'endpoint')?.detail ?? '', /is Enabled$/, 'traffic back');
    assert.equal(summary.evidenceDir, out);
    for (const file of ['report.md', 'report.html', 'report.json', 'history.json', 'SHA256SUMS']) {
      assert.ok(existsSync(path.join(out, file)), `${file} in the evidence package`);
    }
  });

  it('refuses --rehearsal with --short-outage before anything starts', async () => {
    const run = await spawnDrill(['--json', '--rehearsal', '--short-outage'], { cwd: dir });
    assert.equal(run.code, 2, show(run));
    assert.match(run.stderr, /--rehearsal drains a healthy region/);
    assert.deepEqual(run.events, [], 'nothing started');
  });
});
