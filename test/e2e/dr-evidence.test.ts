// `geofailover evidence` on the real stack (dev server, main worker, probe workers, the emulator through the
// official Azure SDK, its redis-servers): one group's quarter holds a drill, a rehearsal and an aborted incident;
// the DR evidence package lists all three with the right kind and outcome, the rehearsal's force-unlink and
// force-link with their times, the group as ARM
// shows it, each run's own package; it verifies (sums, the auditor's signature, each run, the summary rebuilt),
// and a tampered file fails it. One stack for every run; bad input is refused before anything is read.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { DrEvidence, EvidenceOutput, EvidenceVerifyOutput } from '../../src/audit/dr-evidence/schema';
import { buildFailoverInput } from '../../src/cli/resolve';
import type { RehearseResult } from '../../src/cli/commands/rehearse';
import { workflowIds } from '../../src/contract/names';
import type { FailoverRunbookInput, RunbookMode } from '../../src/contract/runbook';
import { generateKeyPair } from '../../src/signing/node-keys';
import { startRequest } from '../../src/signing/payloads';
import { startFailover } from '../../src/starter';
import { abortAs, personKey, recoveredAs } from '../helpers/people';
import {
  RealStack,
  REAL_STACK_TUNING,
  REQUESTER,
  showRun,
  step,
  waitForStatus,
  type RunbookHandle,
} from '../helpers/real-stack';
import { getTestEnv } from '../helpers/temporal';

const FAILED = 'eastus';
const ROOT = path.resolve(__dirname, '../..');

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const schema = (file: string) =>
  ajv.compile(JSON.parse(readFileSync(path.join(ROOT, 'schemas', file), 'utf8')) as object);
const validateSummary = schema('dr-evidence.schema.json');
const validateOutput = schema('cli-evidence.schema.json');
const validateVerify = schema('cli-evidence-verify.schema.json');

const day = (offsetDays: number): string => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('geofailover evidence on the real stack: a quarter with a drill, a rehearsal and an aborted incident', function () {
  this.timeout(600_000);
  let env: TestWorkflowEnvironment;
  let stack: RealStack;
  let dir: string;

  before(async () => {
    env = await getTestEnv();
    stack = await RealStack.start(env, {
      group: (g) => {
        g.durations = { ...g.durations, rtoTarget: '5 minutes' };
        // A staging group: its rehearsals exercise force-unlink and rejoin, behind their gates.
        g.rehearsal = { destructive: true };
      },
    });
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-dr-evidence-e2e-'));
  });
  after(async () => {
    await stack?.close();
    rmSync(dir, { recursive: true, force: true });
    await env?.teardown();
  });

  /** A signed start of `workflowId` for the failed (or rehearsed) member, as `geofailover start --key` signs it. */
  function input(workflowId: string, reason: string, mode?: RunbookMode): FailoverRunbookInput {
    const request = startRequest(personKey(REQUESTER), {
      actor: REQUESTER,
      workflowId,
      databaseId: stack.group.members[FAILED] ?? '',
      region: FAILED,
      reason,
      policyDigest: stack.policyDigest(),
    });
    return {
      ...buildFailoverInput({ group: stack.group, failedRegion: FAILED, reason, requestedBy: REQUESTER, request }),
      tuning: REAL_STACK_TUNING,
      ...(mode ? { mode } : {}),
    };
  }

  /** An outage of the region, the runbook watching it, then the region back: the incident completes. */
  async function outageThatHeals(handle: RunbookHandle): Promise<void> {
    await waitForStatus(handle, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery', 60_000);
    await Promise.all([
      recoveredAs(handle, REQUESTER, `${FAILED} healthy again`),
      stack.emulator.faults.restore(FAILED),
    ]);
  }

  it('lists every run with its kind and outcome, and the package verifies; a tampered file fails it', async () => {
    // 1. The drill: an incident runbook on an injected outage, started in mode drill.
    await stack.emulator.faults.outage(FAILED);
    const drillStart = await startFailover(
      stack.client,
      input(workflowIds.failover(stack.group.name), `${FAILED} outage (drill)`, 'drill'),
      { taskQueue: stack.taskQueue, requestedBy: REQUESTER },
    );
    const drill = stack.track(drillStart.workflowId, drillStart.firstExecutionRunId);
    await outageThatHeals(drill);
    assert.equal((await drill.result()).outcome, 'completed');

    // 2. The rehearsal: `geofailover rehearse` drains the healthy region, force-unlinks and rejoins it behind their
    // gates (the group allows it), holds briefly, then traffic comes back.
    const rehearse = await stack.cliAs(REQUESTER, [
      ...['rehearse', stack.group.name, '--region', FAILED, '--reason', 'Q4 DR rehearsal', '--hold', '1s'],
      ...['--json', '--task-queue', stack.taskQueue],
    ]);
    assert.equal(rehearse.code, 0, showRun(rehearse));
    const rehearsalStart = JSON.parse(rehearse.stdout) as RehearseResult;
    const rehearsalId = rehearsalStart.workflowId;
    const rehearsal = stack.track(rehearsalId, rehearsalStart.runId);
    for (const [gate, approver] of [
      ['approval-unlink', 'sre-manager'],
      ['approval-rejoin', 'data-owner'],
    ] as const) {
      await waitForStatus(rehearsal, (st) => st.openGate?.gate === gate, gate, 120_000);
      const approved = await stack.cliAs(approver, ['approve', rehearsalId, '--yes']);
      assert.equal(approved.code, 0, showRun(approved));
    }
    const rehearsed = await rehearsal.result();
    assert.equal(rehearsed.outcome, 'completed', rehearsed.summary);

    // 3. The aborted incident: the commander hands over to the manual runbook while the region is out.
    await stack.emulator.faults.outage(FAILED);
    const incident = await stack.startFailover(FAILED);
    await waitForStatus(incident, (s) => step(s, 'await-recovery').status === 'running', 'await-recovery', 60_000);
    await abortAs(incident, REQUESTER, 'handing over to the manual runbook');
    assert.equal((await incident.result()).outcome, 'aborted');
    await stack.emulator.faults.restore(FAILED);

    // The auditor's key, and the package of the period around today, for this group.
    const auditor = generateKeyPair('auditor@example');
    const keyFile = path.join(dir, 'auditor');
    writeFileSync(keyFile, auditor.privateKeyPem, { mode: 0o600 });
    const signers = path.join(dir, 'auditors.allowed_signers');
    writeFileSync(signers, `auditor ${auditor.publicKeyLine}\n`);
    const out = path.join(dir, 'dr');
    const period = ['--from', day(-1), '--to', day(1), '--group', stack.group.name];
    const written = await stack.cli(['evidence', ...period, '--out', out, '--sign-key', keyFile, '--json']);
    assert.equal(written.code, 0, showRun(written));
    const doc = JSON.parse(written.stdout) as EvidenceOutput;
    assert.ok(validateOutput(doc), JSON.stringify(validateOutput.errors));
    assert.deepEqual(
      doc.runs.map((r) => [r.kind, r.outcome, r.verdict]),
      [
        ['drill', 'completed', 'verified'],
        ['rehearsal', 'completed', 'verified'],
        ['incident', 'aborted', 'verified'],
      ],
    );
    assert.equal(doc.replayVerified, true);
    assert.ok(doc.signedBy, 'SHA256SUMS is signed');

    const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as DrEvidence;
    assert.ok(validateSummary(summary), JSON.stringify(validateSummary.errors));
    assert.deepEqual(
      summary.runs.map((r) => [r.workflowId, r.kind, r.group, r.region, r.outcome, r.environment]),
      [
        [workflowIds.failover(stack.group.name), 'drill', stack.group.name, FAILED, 'completed', 'drill'],
        [rehearsalId, 'rehearsal', stack.group.name, FAILED, 'completed', 'drill'],
        [workflowIds.failover(stack.group.name), 'incident', stack.group.name, FAILED, 'aborted', 'drill'],
      ],
    );
    for (const r of summary.runs) {
      assert.equal(r.rto.target, '5 minutes');
      assert.equal(r.rto.met, true, `${r.kind}: RTO ${r.rto.ms} ms against 5 minutes`);
      assert.equal(r.requestedBy, REQUESTER);
      assert.equal(r.requestSigned, true);
      assert.equal(r.destructive.exercised, r.kind === 'rehearsal', `${r.kind}: destructive steps`);
      assert.ok(r.package, 'each run has its own package');
    }
    assert.equal(summary.answer.tested, true);
    assert.equal(summary.answer.rtoMet, true);
    assert.match(summary.answer.headline, /DR was tested in the period/);
    // The rehearsal's force-unlink and force-link, each with its times from the history, approved and signed.
    const rehearsalRow = summary.runs[1];
    assert.deepEqual(rehearsalRow?.destructive, { exercised: true, forceUnlink: true, rejoin: true });
    assert.deepEqual(
      rehearsalRow?.approvals.map((a) => `${a.who} ${a.decision} ${a.gate} ${a.signed}`),
      ['sre-manager approve approval-unlink signed', 'data-owner approve approval-rejoin signed'],
    );
    assert.deepEqual(
      summary.destructiveCalls.map((c) => [c.workflowId, c.kind, c.databaseId, c.called, c.outcome]),
      [
        [rehearsalId, 'force-unlink', stack.group.members[FAILED], true, 'completed'],
        [rehearsalId, 'force-link', stack.group.members[FAILED], true, 'completed'],
      ],
    );
    for (const c of summary.destructiveCalls) assert.ok(c.startedAt && c.closedAt && c.startedAt <= c.closedAt);
    assert.equal(stack.count('forceUnlink'), 1);
    assert.equal(stack.count('forceLinkToReplicationGroup'), 1);

    // The group as ARM shows it now, through the workers' own SDK clients.
    assert.equal(summary.snapshot.status, 'read', summary.snapshot.reason);
    const members = summary.snapshot.groups[0]?.members ?? [];
    assert.deepEqual(members.map((m) => m.region).sort(), Object.keys(stack.group.members).sort());
    for (const m of members) {
      assert.equal(m.readable, true, m.error);
      assert.ok(m.groupNickname && m.sku && m.provisioningState && m.resourceState, JSON.stringify(m));
      assert.equal(m.linkedDatabases?.length, members.length, 'every member lists every other');
      assert.ok(m.evictionPolicy && m.clusteringPolicy && m.clientProtocol);
    }
    const md = readFileSync(path.join(out, 'summary.md'), 'utf8');
    assert.match(md.split('\n').slice(0, 4).join('\n'), /DR was tested in the period/);
    for (const r of summary.runs) assert.ok(md.includes(`(${r.package?.dir}/report.md)`), r.package?.dir);

    // Refused: writing over it; bad input before anything is read.
    const again = await stack.cli(['evidence', ...period, '--out', out]);
    assert.equal(again.code, 1, showRun(again));
    assert.match(again.stderr, /already holds files/);
    for (const [args, message] of [
      [['--from', '2026-02-30', '--to', day(1)], /--from "2026-02-30" is not a date/],
      [['--from', day(1), '--to', day(-1)], /is after --to/],
      [['--from', day(-1), '--to', day(1), '--group', 'no-such-group'], /no group "no-such-group"/],
    ] as const) {
      const bad = await stack.cli(['evidence', ...args, '--out', path.join(dir, 'never')]);
      assert.equal(bad.code, 2, showRun(bad));
      assert.match(bad.stderr, message);
    }

    // Verified against the auditors the verifier trusts; a tampered file fails it, named.
    const verified = await stack.cli(['evidence', '--verify', out, '--allowed-signers', signers, '--json']);
    assert.equal(verified.code, 0, showRun(verified));
    const v = JSON.parse(verified.stdout) as EvidenceVerifyOutput;
    assert.ok(validateVerify(v), JSON.stringify(validateVerify.errors));
    assert.equal(v.sumsSignature.status, 'verified');
    assert.equal(v.summary.status, 'matches');
    assert.equal(v.runs.length, 3);
    const report = path.join(out, summary.runs[2]?.package?.dir ?? '', 'report.md');
    writeFileSync(report, readFileSync(report, 'utf8').replace(/aborted/g, 'completed'));
    const tampered = await stack.cli(['evidence', '--verify', out, '--allowed-signers', signers]);
    assert.equal(tampered.code, 1, showRun(tampered));
    assert.match(tampered.stdout, /FAILED/);
    assert.match(tampered.stdout, /report\.md was changed after the package was written/);
  });
});
