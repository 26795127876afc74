// The drill on a Temporal server whose history limits are far below one drill's history (~260 events): the runbook
// continues as new whenever Temporal suggests it, completes verified over several runs, and the evidence package is
// one report for the whole chain — every run replayed, every signed decision verified — that `audit --verify` checks.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EvidenceReport } from '../../src/audit/report/schema';
import { show, spawnDrill, summaryOf } from '../helpers/drill-process';

const BIN = path.resolve(__dirname, '../../bin/geofailover.js');

describe('drill on a server with low history limits (continue-as-new)', function () {
  this.timeout(300_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-drill-can-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('completes verified over several runs; audit writes one report for the chain and it verifies', async () => {
    const out = path.join(dir, 'evidence');
    const run = await spawnDrill(
      [
        '--json',
        '--out',
        out,
        '--dynamic-config-value',
        'limit.historyCount.suggestContinueAsNew=60',
        '--dynamic-config-value',
        'limit.historyCount.error=200',
      ],
      { cwd: dir, server: 'own', timeoutMs: 240_000 },
    );
    assert.equal(run.code, 0, show(run));
    const summary = summaryOf(run);
    assert.equal(summary.ok, true, show(run));
    assert.equal(summary.verdict, 'verified');

    const runs = readdirSync(path.join(out, 'runs')).filter((f) => /^run-\d+\.json$/.test(f));
    assert.ok(runs.length >= 3, `the incident ran as ${runs.length} runs`);
    for (const file of runs) {
      const events = (JSON.parse(readFileSync(path.join(out, 'runs', file), 'utf8')) as { events: unknown[] }).events;
      assert.ok(events.length <= 200, `${file} holds ${events.length} events, within the server's limit`);
    }
    const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as EvidenceReport;
    assert.equal(report.outcome.outcome, 'completed');
    assert.equal(report.replay.verdict, 'verified');
    assert.equal(report.replay.runs?.length, runs.length);
    assert.ok(report.replay.runs?.every((r) => r.verdict === 'verified'));
    const approvals = report.decisions.filter(
      (d) => d.verdict === 'accepted' && d.signature?.verified && d.signature.action === 'approve',
    );
    assert.equal(approvals.length, 3, 'two unlink approvals and one rejoin approval, each verified for its run');
    assert.ok(existsSync(path.join(out, 'signatures', 'allowed_signers')));

    // An auditor checks the package later, with the drill's people as the trusted keys.
    const verified = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [BIN, 'audit', '--verify', out, '--allowed-signers', path.join(out, 'signatures', 'allowed_signers')],
        { cwd: dir, timeout: 120_000 },
        (error, stdout, stderr) =>
          resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(verified.code, 0, `${verified.stdout}\n${verified.stderr}`);
  });
});
