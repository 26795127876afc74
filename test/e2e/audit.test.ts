// `geofailover audit` as an auditor meets it: a real failoverRunbook (mocked activities, like
// runbook-workflow.test.ts, every action signed) runs to completion on the shared dev server, then the audit
// command fetches its history, replays it and writes the evidence package, which is checked file by file:
// ssh-keygen accepts every decision, and `audit --verify` passes it untouched and fails it edited.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
import type { AuditVerifyOutput, EvidenceReport } from '../../src/audit/report/schema';
import { registerAudit } from '../../src/cli/commands/audit';
import { main } from '../../src/cli/main';
import { allowedSigners } from '../../src/signing/allowed-signers';
import { generateKeyPair, readPrivateKey } from '../../src/signing/node-keys';
import { CliContext } from '../../src/cli/context';
import { statusQuery } from '../../src/contract/messages';
import { probeTaskQueue, STEP_NAMES } from '../../src/contract/names';
import { startFailover } from '../../src/starter';
import { runScenario, type ScenarioRun } from '../helpers/history-scenarios';
import { APPROVERS, peopleConfig } from '../helpers/people';
import { FakeGroup, testGroup, testInput, testRegions } from '../helpers/runbook-fakes';
import { getTestEnv, getWorkflowBundle, uniqueName, uniqueTaskQueue } from '../helpers/temporal';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'geofailover.js');
const PACKAGE = ['report.md', 'report.html', 'report.json', 'history.json', 'SHA256SUMS'];
const EXAMPLE = path.join(ROOT, 'geofailover.config.example.json');

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
    GEOFAILOVER_CONFIG: undefined,
    GEOFAILOVER_EVIDENCE_KEY: undefined,
  };
}

/** Runs `body` with the CLI's Temporal settings in process.env (the audit reads them there), then restores them. */
async function withTemporalEnv<T>(body: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(temporalEnv())) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Runs `geofailover audit ...` in this process: the command as registered, without the bin. */
function auditInProcess(args: string[]): Promise<CliRun> {
  return withTemporalEnv(async () => {
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
    }
    return { code, stdout, stderr };
  });
}

/**
 * `geofailover ARGS` in this process: main() of src/cli/main.ts, what the bin runs (without its start-up), with the
 * environment runBin gives the bin; the spawned bin itself is tested above and in test/e2e/cli.test.ts.
 */
function cli(args: string[]): Promise<CliRun> {
  return withTemporalEnv(async () => {
    let stdout = '';
    let stderr = '';
    const io = { stdout: (s: string) => void (stdout += s), stderr: (s: string) => void (stderr += s) };
    const code = await main(args, io, { env: process.env, stderrIsTTY: false, stdoutIsTTY: false });
    return { code, stdout, stderr };
  });
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
const validateVerifyOutput = ajv.compile(
  JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'cli-audit-verify.schema.json'), 'utf8')) as object,
);

/** The decisions in a package's signatures/ folder: NN-<action>-<signer>. */
function decisionFiles(dir: string): string[] {
  return readdirSync(path.join(dir, 'signatures'))
    .filter((f) => f.endsWith('.statement'))
    .map((f) => f.slice(0, -'.statement'.length))
    .sort();
}

/** `ssh-keygen -Y verify` of one decision, run inside signatures/ exactly as VERIFY.md says. */
function sshKeygenVerify(dir: string, file: string, signer: string): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ssh-keygen',
      ['-Y', 'verify', '-f', 'allowed_signers', '-I', signer, '-n', 'geofailover', '-s', `${file}.sig`],
      { cwd: path.join(dir, 'signatures'), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(readFileSync(path.join(dir, 'signatures', `${file}.statement`)));
  });
}

/** Everything an auditor checks in a package of the long-outage run. */
async function assertPackage(dir: string, run: ScenarioRun): Promise<EvidenceReport> {
  assert.deepEqual(readdirSync(dir).sort(), [...PACKAGE, 'signatures'].sort(), 'the five files and signatures/');
  const decisions = decisionFiles(dir);
  assert.deepEqual(
    decisions,
    ['01-start-sre-lead', '02-approve-sre-manager', '03-approve-data-owner', '04-approve-sre-manager'],
    'the start and the three accepted approvals; not the refused self-approval, not the outsider',
  );
  const { stdout } = await promisify(execFile)('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir });
  assert.deepEqual(
    stdout.trim().split('\n').sort(),
    [
      ...PACKAGE.filter((f) => f !== 'SHA256SUMS'),
      'signatures/allowed_signers',
      'signatures/VERIFY.md',
      ...decisions.flatMap((f) => [`signatures/${f}.statement`, `signatures/${f}.sig`]),
    ]
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
  assert.match(md, /\| Replay \| \*\*VERIFIED\*\*: replays against geofailover \d+\.\d+\.\d+/);
  assert.match(report.replay.code?.bundleSha256 ?? '', /^[0-9a-f]{64}$/, 'names the workflow bundle it replayed');
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
      md.includes(
        `| ${vote.approver} | ${vote.decision} | ${vote.via} | ${vote.at} | ${vote.fingerprint} | **verified** |`,
      ),
      `approval ${JSON.stringify({ ...vote, proof: undefined })}`,
    );
  }
  const refused = run.result.status.steps.flatMap((s) => s.refusedAttempts ?? []);
  assert.deepEqual(
    refused.map((r) => r.by.replace(' (unverified)', '')).sort(),
    ['mallory', 'sre-lead'],
    'the self-approval (four-eyes) and the stranger',
  );
  const mallory = report.decisions.find((d) => d.actor === 'mallory');
  assert.deepEqual([mallory?.verdict, mallory?.signature.verified], ['refused', false], 'the outsider is refused');
  assert.ok(
    report.decisions.filter((d) => d.verdict === 'accepted').every((d) => d.signature.verified),
    "every accepted decision verified by the auditor's own check",
  );
  for (const r of refused)
    assert.ok(md.includes(`| ${r.at} | approval-unlink | ${r.by} | ${r.action} | ${r.via} |`), `refused ${r.by}`);
  assert.match(md, /four-eyes/);
  assert.ok(md.includes(`Measured RTO | ${formatMs(run.result.rtoMs ?? -1)}`), 'the RTO');
  assert.ok(md.includes('mallory@geofailover-recorder'), 'the Temporal identity of each decision');
  assert.match(md, /Temporal identity \(self-declared\)/, 'shown as what it is: self-declared');
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
  this.timeout(240_000); // several spawned CLIs per test: generous on a loaded machine
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
    // The fake activities record no ARM endpoint with the policy: the audit does not guess drill or production.
    assert.match(result.stdout, /^environment unknown: the history does not record which ARM endpoint/m);
    assert.match(
      result.stdout,
      /^ {2}replayed against geofailover \d+\.\d+\.\d+.*, workflow bundle sha256 [0-9a-f]{16}…$/m,
    );
    assert.ok(result.stdout.includes(`evidence package: ${out}`), show(result));
    assert.match(result.stdout, /signatures: 4 signed decision\(s\)/);
    assert.match(result.stdout, /SHA256SUMS\.sig: not written, the package is unsigned/);
    for (const file of PACKAGE) assert.match(result.stdout, new RegExp(`${file}\\s+\\d+(\\.\\d)? k?B`), file);
    const report = await assertPackage(out, run);
    const sizes = readdirSync(out, { recursive: true, withFileTypes: true })
      .filter((f) => f.isFile())
      .map((f) => {
        const file = path.relative(out, path.join(f.parentPath, f.name));
        return `${file} ${readFileSync(path.join(out, file)).length} B`;
      });
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
    const doc = JSON.parse(json.stdout) as { verdict: string; package: { files: unknown[]; signatures: number } };
    assert.ok(validateOutput(doc), ajv.errorsText(validateOutput.errors));
    assert.equal(doc.verdict, 'verified');
    assert.equal(doc.package.signatures, 4);
    assert.equal(
      doc.package.files.length,
      5 + 2 + 2 * 4,
      'reports, history, SUMS, allowed_signers, VERIFY.md, 4 pairs',
    );
  });

  it('ssh-keygen -Y verify accepts every decision of the package, with the commands VERIFY.md gives', async () => {
    const dir = path.join(tempDir, 'in-process');
    const verifyMd = readFileSync(path.join(dir, 'signatures', 'VERIFY.md'), 'utf8');
    const allowed = readFileSync(path.join(dir, 'signatures', 'allowed_signers'), 'utf8');
    const report = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as EvidenceReport;
    assert.equal(allowed, allowedSigners(report.policy?.people ?? {}), "the recorded policy's people");
    for (const file of decisionFiles(dir)) {
      const signer = file.replace(/^\d+-[A-Za-z]+-/, '');
      const command = `ssh-keygen -Y verify -f allowed_signers -I ${signer} -n geofailover -s ${file}.sig < ${file}.statement`;
      assert.ok(verifyMd.includes(command), `VERIFY.md: ${command}`);
      const result = await sshKeygenVerify(dir, file, signer);
      assert.equal(result.code, 0, `${file}\n${show(result)}`);
      assert.match(result.stdout, new RegExp(`Good "geofailover" signature for ${signer} with ED25519 key SHA256:`));
    }
  });

  it('a signed package: audit --verify passes it untouched, and fails it after an edit, naming the file', async () => {
    // The auditor's key, and a configuration whose people are the run's people plus the auditor.
    const pair = generateKeyPair('auditor@geofailover-tests');
    const keyFile = path.join(tempDir, 'auditor.key');
    writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
    const config = JSON.parse(readFileSync(EXAMPLE, 'utf8'));
    delete config.$schema;
    config.people = { ...peopleConfig(APPROVERS), auditor: { keys: [pair.publicKeyLine] } };
    const configFile = path.join(tempDir, 'auditor-config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    const fingerprint = (await promisify(execFile)('ssh-keygen', ['-l', '-f', keyFile])).stdout.split(' ')[1];

    const dir = path.join(tempDir, 'signed');
    const audit = await cli(['audit', run.workflowId, '--out', dir, '--sign-key', keyFile]);
    assert.equal(audit.code, 0, show(audit));
    assert.ok(audit.stdout.includes(`SHA256SUMS.sig: signed with key ${fingerprint}`), show(audit));
    assert.equal(readPrivateKey(pair.privateKeyPem).publicKeyLine.split(' ')[1], pair.publicKeyLine.split(' ')[1]);

    // The auditor's allowed_signers, exported from the configuration.
    const allowed = path.join(tempDir, 'trusted_signers');
    const exported = await cli(['keys', 'allowed-signers', '--config', configFile, '--out', allowed]);
    assert.equal(exported.code, 0, show(exported));
    assert.match(readFileSync(allowed, 'utf8'), /^auditor namespaces="geofailover" ssh-ed25519 AAAA/m);
    const sumsSig = await promisify(execFile)(
      'sh',
      ['-c', `ssh-keygen -Y verify -f ${allowed} -I auditor -n geofailover -s SHA256SUMS.sig < SHA256SUMS`],
      { cwd: dir },
    );
    assert.match(sumsSig.stdout, /Good "geofailover" signature for auditor/);

    const byConfig = await cli(['audit', '--verify', dir, '--config', configFile, '--json']);
    assert.equal(byConfig.code, 0, show(byConfig));
    const doc = JSON.parse(byConfig.stdout) as AuditVerifyOutput;
    assert.ok(validateVerifyOutput(doc), ajv.errorsText(validateVerifyOutput.errors));
    assert.equal(doc.verified, true);
    assert.equal(doc.sumsSignature.status, 'verified');
    assert.equal(doc.sumsSignature.status === 'verified' && doc.sumsSignature.signer, 'auditor');
    assert.equal(doc.report.status, 'matches');
    assert.deepEqual(
      doc.decisions.map((d) => [d.ok, d.trusted]),
      [
        [true, true],
        [true, true],
        [true, true],
        [true, true],
      ],
    );
    const text = await cli(['audit', '--verify', dir, '--allowed-signers', allowed]);
    assert.equal(text.code, 0, show(text));
    assert.match(text.stdout, /package: VERIFIED/);
    assert.match(text.stdout, /SHA256SUMS\.sig: signed by auditor/);

    const untrusted = await cli(['audit', '--verify', dir]);
    assert.equal(untrusted.code, 1, show(untrusted));
    assert.match(untrusted.stdout, /no trusted signers/);

    const edits: [string, string, (t: string) => string][] = [
      ['history.json', 'history.json', (t) => t.replace('mallory@geofailover-recorder', 'alice@geofailover-recorder')],
      ['report.json', 'report.json', (t) => t.replace('"verdict": "refused"', '"verdict": "accepted"')],
      [
        'a statement',
        'signatures/03-approve-data-owner.statement',
        (t) => t.replace('"comment":"agreed"', '"comment":"agreed, reluctantly"'),
      ],
    ];
    for (const [what, file, edit] of edits) {
      const copy = path.join(tempDir, `edited-${what.replace(/\W/g, '-')}`);
      cpSync(dir, copy, { recursive: true });
      const target = path.join(copy, file);
      const before = readFileSync(target, 'utf8');
      const after = edit(before);
      assert.notEqual(after, before, `${what}: the edit applies`);
      writeFileSync(target, after);
      const checked = await cli(['audit', '--verify', copy, '--config', configFile, '--json']);
      assert.equal(checked.code, 1, `${what}\n${show(checked)}`);
      const failed = JSON.parse(checked.stdout) as AuditVerifyOutput;
      assert.ok(validateVerifyOutput(failed), ajv.errorsText(validateVerifyOutput.errors));
      assert.equal(failed.verified, false);
      assert.ok(
        failed.failures.some((f) => f.file === file && f.message.includes(file)),
        `${what}: a failure naming ${file}\n${JSON.stringify(failed.failures, null, 1)}`,
      );
    }
  });

  it('keys generate writes a key pair ssh-keygen reads, and prints its people entry', async () => {
    const out = path.join(tempDir, 'keys', 'alice.key');
    const made = await cli(['keys', 'generate', '--name', 'alice', '--out', out, '--json']);
    assert.equal(made.code, 0, show(made));
    const doc = JSON.parse(made.stdout);
    assert.deepEqual(Object.keys(doc.people), ['alice']);
    const listed = await promisify(execFile)('ssh-keygen', ['-l', '-f', out]);
    assert.ok(listed.stdout.includes(doc.fingerprint), listed.stdout);
    const again = await cli(['keys', 'generate', '--name', 'alice', '--out', out]);
    assert.equal(again.code, 1, show(again));
    assert.match(again.stderr, /already exist/);
  });

  it('never writes over a package: one folder per run by default, a folder holding files refused without --force', async () => {
    const first = await runBin(['audit', run.workflowId, '--json']);
    assert.equal(first.code, 0, show(first));
    const doc = JSON.parse(first.stdout) as { runId: string; package: { dir: string } };
    assert.equal(
      doc.package.dir,
      path.join(tempDir, 'evidence', `${run.workflowId.replace(/\//g, '_')}_${doc.runId}`),
      'evidence/<workflow>_<run id>',
    );
    const again = await auditInProcess([run.workflowId, '--out', doc.package.dir]);
    assert.equal(again.code, 1, show(again));
    assert.match(again.stderr, /already holds files; nothing was written/);
    assert.match(again.stderr, /--force/);
    const before = readFileSync(path.join(doc.package.dir, 'report.json'), 'utf8');
    const forced = await auditInProcess([run.workflowId, '--out', doc.package.dir, '--force', '--json']);
    assert.equal(forced.code, 0, show(forced));
    assert.notEqual(readFileSync(path.join(doc.package.dir, 'report.json'), 'utf8'), before, 'rewritten when forced');
    const verify = await auditInProcess(['--verify', doc.package.dir]);
    assert.equal(verify.code, 0, show(verify));
  });

  it('audits an exported history file the same way, storing it byte for byte', async () => {
    const file = path.join(tempDir, 'exported.json');
    const exported = readFileSync(path.join(tempDir, 'in-process', 'history.json'), 'utf8');
    writeFileSync(file, exported);
    const out = path.join(tempDir, 'from-file');
    const result = await auditInProcess(['--history', file, '--out', out, '--format', 'json,md']);
    assert.equal(result.code, 0, show(result));
    assert.deepEqual(readdirSync(out).sort(), ['SHA256SUMS', 'history.json', 'report.json', 'report.md', 'signatures']);
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
