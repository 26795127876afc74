// `geofailover drill --evacuate 10 --json` spawned as a newcomer runs it, on its own dev server: a regional outage
// over a generated estate of 10 groups (real worker, the emulator over HTTPS through the Azure SDK, redis-servers).
// One regionEvacuation; every group rerouted; unlinks approved in signed batches; one force-unlink failing until
// the drill clears the fault and signs a retry; every group rejoined and failed back, checked against ARM.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { actions, show, spawnDrill, summaryOf } from '../helpers/drill-process';

describe('geofailover drill --evacuate', function () {
  this.timeout(900_000);
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-drill-evacuate-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('evacuates a 10-group estate: every group rerouted, one intervention resolved, all rejoined and verified against ARM', async () => {
    const out = path.join(dir, 'evidence');
    const run = await spawnDrill(['--evacuate', '10', '--json', '--out', out], {
      server: 'own',
      cwd: dir,
      timeoutMs: 840_000,
    });
    assert.equal(run.code, 0, show(run));
    const summary = summaryOf(run);
    assert.equal(summary.ok, true, show(run));
    assert.equal(summary.path, 'evacuation');
    const ev = summary.evacuation;
    assert.ok(ev, 'the summary describes the evacuation');
    assert.equal(ev.workflowId, 'evacuate/eastus');
    assert.equal(ev.outcome, 'completed');

    // 10 groups, each with its RTO, all completed and verified against ARM.
    assert.equal(ev.groups.length, 10);
    for (const g of ev.groups) {
      assert.ok(g.rtoMs !== undefined && g.rtoMs > 0, `${g.group} has an RTO`);
      assert.equal(g.outcome, 'completed', g.group);
      assert.equal(g.verified, true, `${g.group} verified against ARM`);
    }
    assert.deepEqual(ev.byOutcome, { completed: 10 });
    assert.ok(ev.allReroutedMs !== undefined && ev.allReroutedMs > 0);

    // One intervention, on the failing group's force-unlink, resolved by a signed retry.
    assert.equal(ev.interventionsResolved, 1, JSON.stringify(ev.groups.map((g) => [g.group, g.interventions])));
    assert.equal(ev.groups.find((g) => g.group === ev.failingGroup)?.interventions, 1);
    const waited = actions(run, 'intervention');
    assert.equal(waited.length, 1);
    assert.equal(waited[0]?.group, ev.failingGroup);
    assert.equal(waited[0]?.gate, 'intervention:force-unlink');
    assert.equal(actions(run, 'fault-cleared').length, 1);
    assert.equal(actions(run, 'intervention-resolved').length, 1);

    // Unlinks approved in signed batches (the drill's configuration says batch), no 429 reached an activity.
    assert.equal(ev.unlinkApproval, 'batch');
    assert.ok(ev.batchApprovals >= 2, `${ev.batchApprovals} batch approval(s)`);
    assert.ok(actions(run, 'batch-approved').length >= 1);
    assert.equal(ev.throttledActivityFailures, 0);

    // The final state checks, each passed.
    const checks = Object.fromEntries(summary.checks.map((c) => [c.check, c.ok]));
    for (const check of ['outcome', 'links', 'endpoint', 'force-unlink', 'intervention', 'throttling', 'replay']) {
      assert.equal(checks[check], true, `${check}: ${JSON.stringify(summary.checks)}`);
    }
    assert.equal(summary.forceUnlinks, 10);

    // The evidence package links every group's report.
    assert.equal(summary.evidenceDir, out);
    const readme = readFileSync(path.join(out, 'README.md'), 'utf8');
    for (const g of ev.groups) {
      assert.ok(g.evidence, `${g.group} has a package`);
      assert.ok(existsSync(path.join(out, g.evidence, 'report.md')), `${g.group}'s report`);
      assert.ok(readme.includes(`${g.evidence}/report.md`), `README links ${g.group}'s report`);
    }
  });

  it('refuses --evacuate with --short-outage before anything starts (exit 2)', async () => {
    const run = await spawnDrill(['--evacuate', '3', '--short-outage', '--json'], { server: 'own', cwd: dir });
    assert.equal(run.code, 2, show(run));
    assert.match(run.stderr + run.stdout, /--evacuate/);
  });
});
