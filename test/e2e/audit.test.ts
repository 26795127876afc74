// `geofailover audit` as an auditor meets it: a real failoverRunbook (mocked activities, like
// runbook-workflow.test.ts) runs to completion on the shared dev server, then the audit command fetches its
// history, replays it and writes the evidence package, which is checked file by file.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Command } from 'commander';
import { formatMs } from '../../src/audit/report/format';
import type { EvidenceReport } from '../../src/audit/report/schema';
import { registerAudit } from '../../src/cli/commands/audit';
import { CliContext } from '../../src/cli/context';
import { statusQuery } from '../../src/contract/messages';
import { probeTaskQueue, STEP_NAMES } from '../../src/contract/names';
import { startFailover } from '../../src/starter';
import { runScenario, type ScenarioRun } from '../helpers/history-scenarios';
import { FakeGroup, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { getTestEnv, getWorkflowBundle, uniqueName, uniqueTaskQueue } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');
const PACKAGE = ['report.md', 'report.html', 'report.json', 'history.json', 'SHA256SUMS'];

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}
const show = (run: CliRun): string => `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;

let tempDir = '';

/** Temporal settings of a CLI run: the test server, never the user's profile. */
function temporalEnv(): Record<string, string | undefined> {
  return {
    TEMPORAL_ADDRESS: process.env.TEMPORAL_TEST_ADDRESS,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_CONFIG_FILE: path.join(tempDir, 'no-such-temporal.toml'),
    TEMPORAL_PROFILE: undefined,
    TEMPORAL_API_KEY: undefined,
    TEMPORAL_TLS: undefined,
  };
}

/** Runs `geofailover audit ...` in this process: the command as registered, without the bin. */
async function auditInProcess(args: string[]): Promise<CliRun> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(temporalEnv())) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let stdout = '';
  let stderr = '';
  let code = 0;
  const io = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s) };
  const ctx = new CliContext(io, { env: process.env, stderrIsTTY: false, stdoutIsTTY: false }, (c) => (code = c));
  const program = new Command('geofailover')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  registerAudit(program, ctx);
  try {
    await program.parseAsync(['audit', ...args], { from: 'user' });
  } catch {
    code = 2; // commander's own usage errors
  } finally {
    await ctx.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return { code, stdout, stderr };
}

/** Spawns the bin, as a user types it. */
function runBin(args: string[]): Promise<CliRun> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [k, v] of Object.entries(temporalEnv())) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, cwd: tempDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validateReport = ajv.compile(
  JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'evidence-report.schema.json'), 'utf8')) as object,
);
const validateOutput = ajv.compile(
  JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'cli-audit.schema.json'), 'utf8')) as object,
);

/** Everything an auditor checks in a package of the long-outage run. */
async function assertPackage(dir: string, run: ScenarioRun): Promise<EvidenceReport> {
  assert.deepEqual(readdirSync(dir).sort(), [...PACKAGE].sort(), 'the five files');
  const { stdout } = await promisify(execFile)('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir });
  assert.deepEqual(
    stdout.trim().split('\n').sort(),
    PACKAGE.filter((f) => f !== 'SHA256SUMS')
      .map((f) => `${f}: OK`)
      .sort(),
  );

  const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as EvidenceReport;
  assert.ok(validateReport(report), `report.json matches its schema: ${ajv.errorsText(validateReport.errors)}`);
  assert.equal(report.replay.verdict, 'verified');
  assert.equal(report.partial, false);
  assert.equal(report.workflow.workflowId, run.workflowId);
  assert.equal(report.outcome.rtoMs, run.result.rtoMs);

  const md = readFileSync(path.join(dir, 'report.md'), 'utf8');
  const input = run.fake.group;
  assert.match(md, /Replay VERIFIED/);
  assert.ok(md.includes('sre-lead'), 'names the requester');
  assert.ok(
    md.includes(`${run.fake.failedRegion} region outage (recorded scenario long-outage-unlink-rejoin)`),
    'the reason',
  );
  for (const step of STEP_NAMES)
    assert.ok(md.includes(`**${step.replace(/_/g, '\\_')}**`), `the timeline lists ${step}`);
  const gates = run.result.status.steps.flatMap((s) => s.gates ?? []);
  const votes = gates.flatMap((g) => g.votes);
  assert.equal(votes.length, 3, 'two unlink approvals and one rejoin approval');
  for (const vote of votes) {
    assert.ok(
      md.includes(`| ${vote.approver} | ${vote.decision} | ${vote.via} | ${vote.at} |`),
      `approval ${JSON.stringify(vote)}`,
    );
  }
  const refused = run.result.status.steps.flatMap((s) => s.refusedAttempts ?? []);
  assert.deepEqual(
    refused.map((r) => r.by).sort(),
    ['mallory', 'sre-lead'],
    'the self-approval (four-eyes) and the stranger',
  );
  for (const r of refused)
    assert.ok(md.includes(`| ${r.at} | approval-unlink | ${r.by} | ${r.action} | ${r.via} |`), `refused ${r.by}`);
  assert.match(md, /four-eyes/);
  assert.ok(md.includes(`Measured RTO | ${formatMs(run.result.rtoMs ?? -1)}`), 'the RTO');
  assert.ok(md.includes('mallory@geofailover-recorder'), 'the Temporal identity of each decision');
  assert.ok(md.includes(input.trafficManager.profileId), 'the config acted on');

  const html = readFileSync(path.join(dir, 'report.html'), 'utf8');
  assert.match(html, /^<!doctype html>/);
  assert.doesNotMatch(html, /\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?\/\//i, 'no external assets');
  assert.doesNotMatch(html, /<(?:script|link|img|iframe)\b/i, 'nothing loaded, nothing run');
  assert.match(html, /<style>/);
  const svg = /<svg[^>]*class="timeline"[^>]*>([\s\S]*?)<\/svg>/.exec(html);
  assert.ok(svg, 'the timeline is drawn as inline SVG');
  const bars = (svg[1] ?? '').match(/<rect [^>]*fill="#2e7d32"/g) ?? [];
  const drawn = report.steps.filter((s) => s.startedAt && s.status === 'succeeded').length;
  assert.ok(bars.length >= drawn, `a bar per step that ran (${bars.length} bars, ${drawn} steps)`);
  assert.match(svg[1] ?? '', /RTO /);
  return report;
}

describe('geofailover audit (end to end)', function () {
  this.timeout(90_000);
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;
  let run: ScenarioRun;

  before(async () => {
    tempDir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-audit-'));
    [env, bundle] = await Promise.all([getTestEnv(), getWorkflowBundle()]);
    run = await runScenario('long-outage-unlink-rejoin', {
      nativeConnection: env.nativeConnection,
      connection: env.connection,
      namespace: env.namespace ?? 'default',
      bundle,
      regions: testRegions(),
      groupName: uniqueName('leaderboard'),
    });
    assert.equal(run.result.outcome, 'completed', run.result.summary);
  });
  after(async () => {
    await env?.teardown();
    rmSync(tempDir, { recursive: true, force: true });
  });

  it('fetches, replays (verified) and writes a package an auditor can check', async () => {
    const out = path.join(tempDir, 'in-process');
    const result = await auditInProcess([run.workflowId, '--out', out]);
    assert.equal(result.code, 0, show(result));
    assert.match(result.stdout, /replay: VERIFIED/);
    assert.ok(result.stdout.includes(`evidence package: ${out}`), show(result));
    for (const file of PACKAGE) assert.match(result.stdout, new RegExp(`${file}\\s+\\d+(\\.\\d)? k?B`), file);
    const report = await assertPackage(out, run);
    const sizes = readdirSync(out).map((f) => `${f} ${readFileSync(path.join(out, f)).length} B`);
    process.stderr.write(`      evidence package (${report.workflow.historyEvents} events): ${sizes.join(', ')}\n`);
  });

  it('the spawned bin does the same (geofailover audit ID --out DIR), and --json matches its schema', async () => {
    const out = path.join(tempDir, 'bin');
    const text = await runBin(['audit', run.workflowId, '--out', out]);
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /replay: VERIFIED/);
    await assertPackage(out, run);

    const json = await runBin(['audit', run.workflowId, '--out', path.join(tempDir, 'bin-json'), '--json']);
    assert.equal(json.code, 0, show(json));
    const doc = JSON.parse(json.stdout) as { verdict: string; package: { files: unknown[] } };
    assert.ok(validateOutput(doc), ajv.errorsText(validateOutput.errors));
    assert.equal(doc.verdict, 'verified');
    assert.equal(doc.package.files.length, 5);
  });

  it('audits an exported history file the same way, storing it byte for byte', async () => {
    const file = path.join(tempDir, 'exported.json');
    const exported = readFileSync(path.join(tempDir, 'in-process', 'history.json'), 'utf8');
    writeFileSync(file, exported);
    const out = path.join(tempDir, 'from-file');
    const result = await auditInProcess(['--history', file, '--out', out, '--format', 'json,md']);
    assert.equal(result.code, 0, show(result));
    assert.deepEqual(readdirSync(out).sort(), ['SHA256SUMS', 'history.json', 'report.json', 'report.md']);
    assert.equal(readFileSync(path.join(out, 'history.json'), 'utf8'), exported);
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as EvidenceReport;
    assert.equal(report.source.kind, 'file');
    assert.equal(report.workflow.workflowId, run.workflowId, 'the workflow id comes from the history itself');
  });

  it('bad usage exits 2, a file that is no history exits 1, each saying what to do', async () => {
    const both = await auditInProcess([run.workflowId, '--history', 'x.json']);
    assert.equal(both.code, 2, show(both));
    assert.match(both.stderr, /not both/);
    const neither = await auditInProcess([]);
    assert.equal(neither.code, 2, show(neither));
    const format = await auditInProcess([run.workflowId, '--format', 'md,pdf']);
    assert.equal(format.code, 2, show(format));
    assert.match(format.stderr, /unknown: pdf/);
    const missing = await auditInProcess(['--history', path.join(tempDir, 'no-such.json')]);
    assert.equal(missing.code, 2, show(missing));
    const notHistory = path.join(tempDir, 'not-history.json');
    writeFileSync(notHistory, '{"hello": "world"}');
    const wrong = await auditInProcess(['--history', notHistory, '--json']);
    assert.equal(wrong.code, 1, show(wrong));
    assert.match(JSON.parse(wrong.stdout).error.message, /not a Temporal workflow history/);
    const unknown = await auditInProcess([`failover/${uniqueName('nothing')}`, '--out', path.join(tempDir, 'none')]);
    assert.equal(unknown.code, 1, show(unknown));
    assert.equal(existsSync(path.join(tempDir, 'none')), false, 'nothing written');
  });

  it('a runbook still waiting at a gate gets a partial report from its history so far, still verified', async () => {
    const regions = testRegions();
    const [failed, survivor] = regions;
    const fake = new FakeGroup(
      testGroup(regions, (g) => (g.durations.recoveryPollInterval = '1s')),
      failed,
    );
    fake.memoryPercent[survivor] = 95;
    const taskQueue = uniqueTaskQueue('audit-partial');
    const workers = [
      await Worker.create({
        connection: env.nativeConnection,
        namespace: env.namespace,
        taskQueue,
        activities: fake.activities(),
        workflowBundle: bundle,
      }),
      ...(await Promise.all(
        regions.map((r) =>
          Worker.create({
            connection: env.nativeConnection,
            namespace: env.namespace,
            taskQueue: probeTaskQueue(r),
            activities: fake.probeActivities(),
          }),
        ),
      )),
    ];
    let handle: WorkflowHandle | undefined;
    const body = async (): Promise<void> => {
      const started = await startFailover(env.client, testInput(fake.group, failed), { taskQueue });
      handle = env.client.workflow.getHandle(started.workflowId);
      const deadline = Date.now() + 20_000;
      while ((await handle.query(statusQuery)).openGate?.gate !== 'approval-unlink') {
        assert.ok(Date.now() < deadline, 'the unlink gate opens');
        await sleep(100);
      }
      const out = path.join(tempDir, 'partial');
      const result = await auditInProcess([started.workflowId, '--out', out]);
      assert.equal(result.code, 0, show(result));
      assert.match(result.stderr, /partial report: the workflow is still running/);
      const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as EvidenceReport;
      assert.ok(validateReport(report), ajv.errorsText(validateReport.errors));
      assert.equal(report.partial, true);
      assert.equal(report.workflow.execution, 'running');
      assert.equal(report.replay.verdict, 'verified');
      const status = Object.fromEntries(report.steps.map((s) => [s.step, s.status]));
      assert.equal(status['traffic-reroute'], 'succeeded');
      assert.equal(status['await-recovery'], 'running');
      assert.equal(status['approval-unlink'], 'waiting');
      assert.equal(status.complete, 'pending');
      assert.equal(report.outcome.rtoSource, 'history-events');
      assert.ok((report.outcome.rtoMs ?? 0) > 0);
      assert.match(readFileSync(path.join(out, 'report.md'), 'utf8'), /Partial report/);
    };
    try {
      const nest = (list: Worker[]): Promise<void> => {
        const [first, ...rest] = list;
        return first ? first.runUntil(() => nest(rest)) : body();
      };
      await nest(workers);
    } finally {
      await handle?.terminate('audit test ended').catch(() => undefined);
    }
  });
});
