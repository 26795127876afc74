// `geofailover drill` as a newcomer runs it, spawned as a process: the long outage (trigger, gates with quorum and
// four-eyes, force-unlink, rejoin, failback), the short outage (nothing destructive) on the drill's own dev server
// (one drill checked by two tests), bad usage, and Ctrl-C in the middle (nothing it started survives it).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { actions, show, spawnDrill, stepEnded, summaryOf, type DrillRun } from '../helpers/drill-process';
import { getTestEnv, uniqueTaskQueue } from '../helpers/temporal';
const PACKAGE_FILES = ['report.md', 'report.html', 'report.json', 'history.json', 'SHA256SUMS'];

/** Whether a process exists and is not a zombie (a zombie has exited; only its parent has not reaped it yet). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Every descendant of `root` (pid → command), from /proc. */
function descendants(root: number): Map<number, string> {
  const children = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const found = new Map<number, string>();
  const queue = [root];
  while (queue.length) {
    for (const child of children.get(queue.shift() as number) ?? []) {
      found.set(child, names.get(child) ?? '?');
      queue.push(child);
    }
  }
  return found;
}

interface OwnServerDrill {
  run: DrillRun;
  /** the drill's working directory (its default evidence folder is under it) */
  cwd: string;
  uiUrl: string | undefined;
  uiAnswer: Promise<number | string> | undefined;
}

describe('geofailover drill', function () {
  this.timeout(120_000);
  let dir: string;
  let env: TestWorkflowEnvironment | undefined;
  let ownServerDrill: Promise<OwnServerDrill> | undefined;
  const ownServerDir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-drill-own-'));

  /**
   * One short-outage drill of westeurope on its own dev server (no TEMPORAL_ADDRESS, default --out), run once for the
   * two tests that check it: what a short outage does, and what the drill's own server does.
   */
  function shortOutageOnItsOwnServer(): Promise<OwnServerDrill> {
    ownServerDrill ??= (async () => {
      let uiUrl: string | undefined;
      let uiAnswer: Promise<number | string> | undefined;
      const run = await spawnDrill(['--json', '--short-outage', '--fail-region', 'westeurope'], {
        cwd: ownServerDir,
        server: 'own',
        onEvent: (event) => {
          if (event.type === 'temporal') uiUrl = event.uiUrl as string | undefined;
          // Everything is up once `started` is out: the Web UI must answer while the drill runs.
          if (event.type === 'started' && uiUrl) {
            uiAnswer = fetch(uiUrl).then(
              (r) => r.status,
              (e: Error) => e.message,
            );
          }
        },
      });
      process.stderr.write(
        `      short-outage drill with its own dev server: ${(run.wallMs / 1000).toFixed(1)} s wall\n`,
      );
      return { run, cwd: ownServerDir, uiUrl, uiAnswer };
    })();
    return ownServerDrill;
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-drill-test-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  after(async () => {
    await env?.teardown();
    rmSync(ownServerDir, { recursive: true, force: true });
  });

  it('long outage: trigger, four-eyes and quorum at the unlink gate, force-unlink, rejoin, failback, verified evidence', async () => {
    const out = path.join(dir, 'evidence');
    const run = await spawnDrill(['--json', '--out', out, '--task-queue', uniqueTaskQueue('drill')], { cwd: dir });
    process.stderr.write(`      long-outage drill on the shared server: ${(run.wallMs / 1000).toFixed(1)} s wall\n`);
    assert.equal(run.code, 0, show(run));
    assert.equal(run.stdout.trim().split('\n').length, run.events.length, 'stdout is NDJSON only');

    const temporal = run.events.find((e) => e.type === 'temporal');
    assert.equal(temporal?.ownServer, false, 'TEMPORAL_ADDRESS set: no server of its own');
    assert.equal(temporal?.address, process.env.TEMPORAL_TEST_ADDRESS);

    assert.equal(actions(run, 'outage-injected')[0]?.region, 'eastus', 'the first region fails by default');
    assert.ok(actions(run, 'traffic-moved').length === 1, 'traffic moved');
    assert.equal(actions(run, 'unlink-trigger').length, 1, 'the build-up reached the unlink trigger');
    assert.ok(actions(run, 'memory').length >= 1, 'the survivors’ memory was shown rising');

    const refused = actions(run, 'approval-refused');
    const selfApproval = refused.find((e) => e.rule === 'four-eyes');
    assert.equal(selfApproval?.approver, 'sre-lead', 'the requester tried to approve');
    assert.match(String(selfApproval?.reason), /four-eyes/);
    assert.ok(refused.some((e) => e.rule === 'distinct approvers' && /already voted/.test(String(e.reason))));
    const accepted = actions(run, 'approval-accepted').filter((e) => e.gate === 'approval-unlink');
    assert.deepEqual(
      accepted.map((e) => e.approver),
      ['sre-manager', 'data-owner'],
      'two distinct approvers reached the quorum of 2',
    );
    assert.match(String(accepted[0]?.text), /force-unlink calls: 0/, 'one approval of two changes nothing');

    assert.equal(stepEnded(run, 'force-unlink')?.status, 'succeeded');
    assert.equal(actions(run, 'force-unlinked').length, 1);
    assert.equal(stepEnded(run, 'traffic-failback')?.status, 'succeeded');
    assert.equal(actions(run, 'failback').length, 1);
    for (const step of ['membership', 'traffic-reroute', 'await-recovery', 'rejoin']) {
      const ended = stepEnded(run, step);
      assert.equal(ended?.status, 'succeeded', `${step} ended`);
      assert.equal(typeof ended?.durationMs, 'number', `${step} has a duration`);
    }

    const summary = summaryOf(run);
    assert.equal(summary.ok, true);
    assert.equal(summary.exitCode, 0);
    assert.equal(summary.path, 'long-outage');
    assert.equal(summary.outcome, 'completed');
    assert.ok((summary.rtoMs ?? 0) > 0, `RTO measured: ${summary.rtoMs}`);
    // The workers' /metrics after the drill: the runbook's own metrics beside the SDK's.
    const metrics = (summary.metrics?.runbook ?? []).join('\n');
    assert.match(summary.metrics?.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    for (const name of ['geofailover_rto_seconds', 'geofailover_gate_wait_seconds', 'geofailover_destructive_calls']) {
      assert.match(metrics, new RegExp(`^${name}`, 'm'), `${name} after the drill:\n${metrics}`);
    }
    assert.equal(summary.verdict, 'verified');
    assert.equal(summary.forceUnlinks, 1);
    assert.deepEqual(
      summary.checks.map((c) => [c.check, c.ok]),
      [
        ['outcome', true],
        ['links', true],
        ['endpoint', true],
        ['force-unlink', true],
        ['access-keys', true],
        ['replay', true],
      ],
    );
    // The default scenario's access keys are Disabled: probes and canaries used Entra ID, never listKeys.
    assert.match(
      summary.checks.find((c) => c.check === 'access-keys')?.detail ?? '',
      /^0 listKeys call\(s\) on the [1-9]\d* member\(s\) whose access keys are Disabled/,
    );
    assert.equal(summary.evidenceDir, out);
    for (const file of PACKAGE_FILES) assert.ok(existsSync(path.join(out, file)), `${file} in the evidence package`);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as {
      replay: { verdict: string };
      workflow: { workflowId: string };
    };
    assert.equal(report.replay.verdict, 'verified');
    assert.equal(report.workflow.workflowId, 'failover/leaderboard');
    process.stderr.write(
      `      RTO ${summary.rtoMs} ms; evidence package ${summary.evidenceBytes} bytes; ` +
        `drill's own wall time ${(summary.wallMs / 1000).toFixed(1)} s\n`,
    );
  });

  it('short outage: the region returns before the trigger, nothing destructive happens', async () => {
    const { run } = await shortOutageOnItsOwnServer();
    assert.equal(run.code, 0, show(run));
    assert.equal(actions(run, 'outage-injected')[0]?.region, 'westeurope');
    for (const step of ['approval-unlink', 'force-unlink', 'approval-rejoin']) {
      assert.equal(stepEnded(run, step)?.status, 'skipped', `${step} skipped`);
    }
    assert.deepEqual(actions(run, 'approval-accepted'), [], 'no gate needed anyone');
    assert.equal(actions(run, 'force-unlinked').length, 0);
    const summary = summaryOf(run);
    assert.equal(summary.ok, true);
    assert.equal(summary.path, 'short-outage');
    assert.equal(summary.forceUnlinks, 0, 'no force-unlink call reached ARM');
    assert.equal(summary.checks.find((c) => c.check === 'force-unlink')?.ok, true);
    assert.equal(summary.verdict, 'verified');
    assert.ok((summary.rtoMs ?? 0) > 0);
  });

  it('without TEMPORAL_ADDRESS: starts its own dev server with the Web UI, stops it at the end', async () => {
    const { run, cwd, uiUrl, uiAnswer } = await shortOutageOnItsOwnServer();
    assert.equal(run.code, 0, show(run));
    const temporal = run.events.find((e) => e.type === 'temporal');
    assert.equal(temporal?.ownServer, true);
    assert.match(String(temporal?.address), /^127\.0\.0\.1:\d+$/);
    assert.match(String(uiUrl), /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(await uiAnswer, 200, 'the Temporal Web UI answered while the drill ran');
    const started = run.events.find((e) => e.type === 'action' && e.action === 'runbook-started');
    assert.equal(
      started?.webUi,
      `${uiUrl}/namespaces/default/workflows/failover%2Fleaderboard/${String(started?.runId)}/history`,
      'the run’s Web UI link',
    );
    assert.equal(alive(temporal?.pid as number), false, 'its dev server is gone');
    assert.equal(summaryOf(run).ok, true);
    // Default --out: evidence/<workflow id>_<run id> under the current directory (one folder per run).
    for (const file of PACKAGE_FILES) {
      assert.ok(
        existsSync(path.join(cwd, 'evidence', `failover_leaderboard_${String(started?.runId)}`, file)),
        `${file} under ./evidence`,
      );
    }
  });

  it('bad usage: an unknown --fail-region is refused with exit 2 before anything starts', async () => {
    const run = await spawnDrill(['--fail-region', 'mars', '--json'], { cwd: dir });
    assert.equal(run.code, 2, show(run));
    assert.match(run.stderr, /--fail-region mars: no geo-replication group of the scenario has a member there/);
    assert.match(run.stderr, /eastus, westeurope, southeastasia/);
    assert.deepEqual(run.events, [], 'no drill event: nothing started');
    const error = JSON.parse(run.stdout) as { error: { code: string; exitCode: number } };
    assert.deepEqual([error.error.code, error.error.exitCode], ['usage', 2]);
  });

  it('Ctrl-C mid-drill: exit 130, the runbook terminated, no redis-server or other child left', async () => {
    const seen = new Map<number, string>();
    let interrupted = false;
    const run = await spawnDrill(
      ['--json', '--out', path.join(dir, 'evidence'), '--task-queue', uniqueTaskQueue('drill')],
      {
        cwd: dir,
        onEvent: (event, pid) => {
          if (interrupted || event.type !== 'action' || event.action !== 'traffic-moved') return;
          interrupted = true;
          for (const [child, name] of descendants(pid)) seen.set(child, name);
          process.kill(pid, 'SIGINT');
        },
      },
    );
    assert.ok(interrupted, `the drill got as far as moving traffic\n${show(run)}`);
    assert.equal(run.code, 130, show(run));
    const summary = summaryOf(run);
    assert.equal(summary.interrupted, 'SIGINT');
    assert.equal(summary.ok, false);
    assert.ok(
      [...seen.values()].filter((name) => name === 'redis-server').length >= 2,
      `redis-servers were running: ${[...seen.values()].join(', ')}`,
    );
    await sleep(200);
    const left = [...seen].filter(([pid]) => alive(pid));
    assert.deepEqual(left, [], 'nothing the drill started outlives it');

    env ??= await getTestEnv();
    try {
      const d = await env.client.workflow.getHandle('failover/leaderboard').describe();
      assert.notEqual(d.status.name, 'RUNNING', 'the interrupted runbook was terminated');
    } catch (e) {
      if (!(e instanceof WorkflowNotFoundError)) throw e;
    }
  });
});
