// The CLI in-process through main() against the shared dev server, with a worker of mocked activities where a run
// is needed: `start --dry-run` names each task queue no worker polls (and passes them once workers run); `approve`
// shows the open gate with its evidence before answering, asks on a terminal, and with --yes sends without asking.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CliEnvironment } from '../../src/cli/context';
import { main } from '../../src/cli/main';
import { loadCliConfig, resolveGroup } from '../../src/cli/resolve';
import { probeTaskQueue, workflowIds } from '../../src/contract/names';
import { assertCliSchema } from '../helpers/cli-schema';
import { useRunbookTestEnv, withFakeWorkers } from '../helpers/fake-workers';
import { peopleConfig, writeKeyFiles } from '../helpers/people';
import { FakeGroup, testRegions } from '../helpers/runbook-fakes';
import { waitForStatus } from '../helpers/runbook-status';
import { uniqueName, uniqueTaskQueue } from '../helpers/temporal';

const EXAMPLE = path.resolve(__dirname, '../../geofailover.config.example.json');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir = '';
let keys: Record<string, string> = {};

async function cli(argv: string[], environment: Partial<CliEnvironment> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(
    argv,
    { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s) },
    {
      env: {
        TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS,
        TEMPORAL_NAMESPACE: 'default',
        TEMPORAL_CONFIG_FILE: path.join(dir, 'no-such-temporal.toml'),
        USER: 'incident-cmdr',
      },
      stderrIsTTY: false,
      stdoutIsTTY: false,
      ...environment,
    },
    [],
  );
  return { code, stdout, stderr };
}

function show(run: Run): string {
  return `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/** The example configuration for one test: its own group name and regions (so its own probe task queues). */
function writeConfig(group: string, regions: readonly string[]): string {
  const config = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
  delete config.$schema;
  // No emulator here: ARM does not answer, which the dry run reports too.
  delete config.azure.caFile;
  config.azure.endpoint = 'https://127.0.0.1:1';
  config.people = peopleConfig();
  const g = config.groups.leaderboard;
  const byRegion = <T>(f: (r: string, i: number) => T): Record<string, T> =>
    Object.fromEntries(regions.map((r, i) => [r, f(r, i)]));
  const prefix = String(g.members.eastus).replace(/redis-leaderboard-eastus\/databases\/default$/, '');
  g.members = byRegion((r) => `${prefix}redis-${r}/databases/default`);
  g.trafficManager.endpoints = byRegion((r) => ({ type: 'ExternalEndpoints', name: r }));
  g.applicationRegions = byRegion((_, i) => byRegion((__, j) => `127.0.0.1:${16000 + 10 * i + j}`));
  g.durations = {
    approvalTimeout: '60s',
    escalationTimeout: '60s',
    recoveryPollInterval: '250ms',
    maxOutageBeforeUnlink: '1h',
    resyncTimeout: '5s',
    probeTimeout: '1s',
  };
  config.groups = { [group]: g };
  const file = path.join(dir, `${group}.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

interface Check {
  check: string;
  ok: boolean;
  detail: string;
  next?: string;
}

describe('CLI against a dev server (in-process)', function () {
  this.timeout(120_000);
  const t = useRunbookTestEnv();

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-cli-live-'));
    keys = writeKeyFiles(path.join(dir, 'keys'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('start --dry-run with the server but no workers names every task queue nobody polls; with workers they pass', async () => {
    const regions = testRegions();
    const group = uniqueName('dry');
    const config = writeConfig(group, regions);
    const taskQueue = uniqueTaskQueue('cli-dry');
    const args = ['start', group, '--config', config, '--task-queue', taskQueue];
    const dry = [...args, '--failed-region', regions[0], '--reason', 'r', '--dry-run', '--by', 'sre-lead'];

    const text = await cli(dry);
    assert.equal(text.code, 1, show(text));
    assert.match(text.stdout, /ok {3}Temporal answers at /);
    assert.match(
      text.stdout,
      new RegExp(`FAIL no worker polls task queue ${taskQueue}\\n\\s+next: start the main worker: geofailover worker`),
    );
    for (const region of regions) {
      assert.match(
        text.stdout,
        new RegExp(
          `FAIL no worker polls task queue ${probeTaskQueue(region)}\\n\\s+next: start a probe worker in application ` +
            `region ${region}: geofailover worker --probe-region ${region}`,
        ),
      );
    }
    assert.match(
      text.stdout,
      /FAIL no answer from ARM at https:\/\/127\.0\.0\.1:1: ECONNREFUSED\n\s+next: check the azure section/,
    );

    // With the workers running, every worker check passes (pollers show up once each worker has polled).
    const fake = new FakeGroup(resolveGroup(loadCliConfig(config), group), regions[0]);
    await withFakeWorkers(t.env, t.bundle, fake, async (running) => {
      const runningDry = [...dry];
      runningDry[runningDry.indexOf(taskQueue)] = running;
      let checks: Check[] = [];
      for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
        const json = await cli([...runningDry, '--json']);
        checks = (JSON.parse(json.stdout) as { checks: Check[] }).checks;
        if (checks.filter((c) => c.check.startsWith('worker ')).every((c) => c.ok)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const workers = checks.filter((c) => c.check.startsWith('worker '));
      assert.deepEqual(
        workers.map((c) => c.check),
        [`worker ${running}`, ...[...regions].sort().map((r) => `worker ${probeTaskQueue(r)}`)],
      );
      assert.ok(
        workers.every((c) => c.ok),
        JSON.stringify(checks, null, 1),
      );
    });
  });

  it('approve shows the open gate and its evidence, asks on a terminal (no → nothing sent), and --yes sends at once', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const group = uniqueName('approve');
    const config = writeConfig(group, regions);
    const fake = new FakeGroup(resolveGroup(loadCliConfig(config), group), failed);
    const workflowId = workflowIds.failover(group);
    await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const globals = ['--config', config, '--task-queue', taskQueue];
      const started = await cli([
        'start',
        group,
        ...globals,
        '--failed-region',
        failed,
        '--reason',
        'region down',
        '--key',
        keys['sre-lead']!,
      ]);
      assert.equal(started.code, 0, show(started));
      const handle = t.track(t.env.client.workflow.getHandle(workflowId));
      await waitForStatus(handle, (s) => s.currentStep === 'await-recovery', 'await-recovery');
      const unlink = await cli([
        'unlink-now',
        group,
        ...globals,
        '--key',
        keys['sre-lead']!,
        '--reason',
        'down for days',
      ]);
      assert.equal(unlink.code, 0, show(unlink));
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');

      // A person at a terminal is asked, after seeing the gate; "no" sends nothing.
      let asked = '';
      const terminal: Partial<CliEnvironment> = { stdinIsTTY: true, stderrIsTTY: true };
      const declined = await cli(['approve', group, ...globals, '--key', keys['sre-manager']!], {
        ...terminal,
        confirm: (question) => {
          asked = question;
          return Promise.resolve(false);
        },
      });
      assert.equal(declined.code, 1, show(declined));
      assert.match(
        declined.stderr,
        new RegExp(`you are about to APPROVE gate approval-unlink of ${workflowId} \\(run `),
      );
      assert.match(declined.stderr, /0 of 1 approval\(s\) so far/);
      assert.match(declined.stderr, /blast radius: .*leaves the group; must rejoin later, discarding its data/);
      assert.match(declined.stderr, /survivors' memory/);
      assert.match(declined.stderr, /error: not confirmed: nothing was sent/);
      assert.match(asked, new RegExp(`approve gate approval-unlink of ${workflowId} as sre-manager\\?`));
      const still = await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'gate still open');
      assert.deepEqual(still.openGate?.approvals, [], 'nothing was sent');

      // --yes: no question; under --json the gate the approver saw is in the result.
      const approved = await cli(['approve', group, ...globals, '--key', keys['sre-manager']!, '--yes', '--json'], {
        ...terminal,
        confirm: () => Promise.reject(new Error('--yes must not ask')),
      });
      assert.equal(approved.code, 0, show(approved));
      const result = JSON.parse(approved.stdout);
      assertCliSchema('decide', result);
      assert.equal(result.accepted, true);
      assert.equal(result.openGate.gate, 'approval-unlink');
      assert.ok(result.openGate.request.blastRadius, 'the evidence the approver saw');
      assert.equal(approved.stderr, '', 'under --json the gate is in the result, not on stderr');
    });
  });

  it('a script (no terminal) is never asked, and still sees the gate on stderr', async () => {
    const regions = testRegions();
    const [failed] = regions;
    const group = uniqueName('script');
    const config = writeConfig(group, regions);
    const fake = new FakeGroup(resolveGroup(loadCliConfig(config), group), failed);
    await withFakeWorkers(t.env, t.bundle, fake, async (taskQueue) => {
      const globals = ['--config', config, '--task-queue', taskQueue];
      const started = await cli([
        'start',
        '--group',
        group,
        ...globals,
        '--failed-region',
        failed,
        '--reason',
        'r',
        '--key',
        keys['sre-lead']!,
      ]);
      assert.equal(started.code, 0, show(started));
      const handle = t.track(t.env.client.workflow.getHandle(workflowIds.failover(group)));
      await waitForStatus(handle, (s) => s.currentStep === 'await-recovery', 'await-recovery');
      await cli(['unlink-now', group, ...globals, '--key', keys['sre-lead']!, '--reason', 'down for days']);
      await waitForStatus(handle, (s) => s.openGate?.gate === 'approval-unlink', 'unlink gate');
      const rejected = await cli(['reject', group, ...globals, '--key', keys['data-owner']!, '--comment', 'not yet'], {
        confirm: () => Promise.reject(new Error('a script must not be asked')),
      });
      assert.equal(rejected.code, 0, show(rejected));
      assert.match(rejected.stderr, /you are about to REJECT gate approval-unlink/);
      assert.match(rejected.stdout, /accepted: reject by data-owner/);
    });
  });
});
