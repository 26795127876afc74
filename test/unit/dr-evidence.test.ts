// The DR evidence package from stored histories (no server, no replay: the verdict is given): the period and its
// bad input, the visibility query, each run's row (kind from the input's mode, outcome, RTO against the target,
// destructive steps, approvals, replay), every destructive ARM call with its times, the answer at the top, the
// rendering, summary.json against its published schema, and the package on disk verified — and a tampered file
// failing it.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { historyWorkflowId, parseHistoryJson, type History } from '../../src/audit/history';
import { PACKAGE_FILES, writeEvidencePackage } from '../../src/audit/package';
import type { ReplayVerdict } from '../../src/audit/replay';
import { buildEvidenceReport } from '../../src/audit/report/model';
import type { EvidenceReport } from '../../src/audit/report/schema';
import { periodQuery, verifyDrEvidence, writeSummary } from '../../src/audit/dr-evidence/package';
import { parsePeriod, periodFolderName, PeriodError } from '../../src/audit/dr-evidence/period';
import { renderSummaryHtml, renderSummaryMarkdown } from '../../src/audit/dr-evidence/render';
import type { DrEvidence, DrRun } from '../../src/audit/dr-evidence/schema';
import { unavailableSnapshot } from '../../src/audit/dr-evidence/snapshot';
import { answerOf, runKind, summarise, type PeriodRun } from '../../src/audit/dr-evidence/summary';
import { generateKeyPair, readPrivateKey } from '../../src/signing/node-keys';
import { createHash } from 'node:crypto';

const ROOT = path.resolve(__dirname, '../..');
const HISTORIES = path.join(ROOT, 'test', 'replay', 'histories');

const VERIFIED: ReplayVerdict = {
  verdict: 'verified',
  workflowType: 'failoverRunbook',
  checkedAt: '2026-12-02T06:00:00.000Z',
  durationMs: 12,
  against: 'the current workflow code (src/workflows)',
};

/** A stored history with its input's mode set (or left as recorded). */
function history(name: string, mode?: string): History {
  const raw = JSON.parse(readFileSync(path.join(HISTORIES, `${name}.json`), 'utf8'));
  if (mode !== undefined) {
    const payload = raw.events[0].workflowExecutionStartedEventAttributes.input.payloads[0];
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
    payload.data = Buffer.from(JSON.stringify({ ...input, mode }), 'utf8').toString('base64');
  }
  return parseHistoryJson(JSON.stringify(raw), name);
}

function report(h: History): EvidenceReport {
  return buildEvidenceReport(h, {
    replay: VERIFIED,
    workflowId: historyWorkflowId(h) ?? 'failover/leaderboard',
    source: { kind: 'file', file: 'x.json' },
    generatedAt: '2026-12-02T06:00:00.000Z',
  });
}

const run = (name: string, mode?: string): PeriodRun => {
  const h = history(name, mode);
  return { history: h, report: report(h) };
};

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validateSummary = ajv.compile(
  JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'dr-evidence.schema.json'), 'utf8')) as object,
);

describe('DR evidence: the period', () => {
  it('takes days (the whole day, UTC, both ends included) and instants with their offset', () => {
    assert.deepEqual(parsePeriod('2026-10-01', '2026-12-31'), {
      from: '2026-10-01T00:00:00.000Z',
      to: '2026-12-31T23:59:59.999Z',
      label: '2026-10-01 … 2026-12-31',
    });
    const p = parsePeriod('2026-10-01T08:00:00+02:00', '2026-10-01T08:00:00Z');
    assert.equal(p.from, '2026-10-01T06:00:00.000Z');
    assert.equal(p.to, '2026-10-01T08:00:00.000Z');
  });

  it('refuses what does not parse, and a period that ends before it starts, saying which', () => {
    for (const [from, to, what] of [
      ['2026-02-30', '2026-03-01', /--from "2026-02-30" is not a date/],
      ['last quarter', '2026-12-31', /--from "last quarter" is not a date/],
      ['2026-10-01', '2026-13-01', /--to "2026-13-01" is not a date/],
      ['2026-10-01', '2026-10-01T10:00:00', /--to .* is not a date/], // an instant needs its offset
      ['2026-12-31', '2026-10-01', /--from 2026-12-31 is after --to 2026-10-01/],
    ] as const) {
      assert.throws(
        () => parsePeriod(from, to),
        (e: unknown) => e instanceof PeriodError && what.test(e.message),
      );
    }
  });

  it('names the default folder after the period and the group', () => {
    assert.equal(periodFolderName('2026-10-01', '2026-12-31'), 'dr_2026-10-01_2026-12-31');
    assert.equal(
      periodFolderName('2026-10-01T00:00:00Z', '2026-12-31', 'leader/board'),
      'dr_2026-10-01T000000Z_2026-12-31_leader_board',
    );
  });

  it('finds the runbooks started in the period through the search attributes only', () => {
    const p = parsePeriod('2026-10-01', '2026-12-31');
    assert.equal(
      periodQuery(p),
      "(WorkflowType = 'failoverRunbook' OR WorkflowType = 'rejoinRunbook') AND StartTime >= " +
        "'2026-10-01T00:00:00.000Z' AND StartTime <= '2026-12-31T23:59:59.999Z'",
    );
    assert.match(periodQuery(p, "o'brien"), / AND FailoverGroup = 'o\\'brien'$/);
  });
});

describe('DR evidence: the summary from recorded histories', () => {
  it("takes each run's kind from its input's mode; absent or unknown is an incident, never a test", () => {
    assert.equal(runKind({ mode: 'rehearsal' }), 'rehearsal');
    assert.equal(runKind({ mode: 'drill' }), 'drill');
    assert.equal(runKind({ group: 'x' }), 'incident');
    assert.equal(runKind({ mode: 'practice' }), 'incident');
    assert.equal(runKind(undefined), 'incident');
  });

  it('lists every run with its kind, outcome, RTO, destructive steps, approvals and replay verdict, oldest first', () => {
    const s = summarise(
      [
        run('long-outage-unlink-rejoin', 'rehearsal'),
        run('aborted'),
        run('short-outage', 'drill'),
        run('recreate'),
        run('rejoin-runbook'),
      ],
      ['leaderboard'],
    );
    const rows = s.runs.map((r) => [r.workflowId, r.kind, r.outcome, r.destructive.exercised]);
    assert.deepEqual(rows, [
      ['failover/leaderboard', 'drill', 'completed', false],
      ['failover/leaderboard', 'rehearsal', 'completed', true],
      ['failover/leaderboard', 'incident', 'aborted', false],
      ['rejoin/leaderboard', 'incident', 'completed', true],
      ['failover/leaderboard', 'incident', 'completed', true],
    ]);
    const rehearsal = s.runs[1] as DrRun;
    assert.deepEqual(rehearsal.destructive, { exercised: true, forceUnlink: true, rejoin: true });
    assert.equal(rehearsal.region, 'eastus');
    assert.equal(rehearsal.group, 'leaderboard');
    assert.equal(rehearsal.requestedBy, 'sre-lead');
    assert.equal(rehearsal.requestSigned, true);
    assert.deepEqual(
      rehearsal.approvals.map((a) => `${a.who} ${a.decision} ${a.gate} ${a.signed}`),
      [
        'sre-manager approve approval-unlink signed',
        'data-owner approve approval-unlink signed',
        'sre-manager approve approval-rejoin signed',
      ],
    );
    assert.equal(typeof rehearsal.rto.ms, 'number');
    assert.equal(rehearsal.replay.verdict, 'verified');
    assert.equal(s.replayVerified, true);
    // The aborted incident: traffic moved (RTO measured), nothing destructive, the abort is who decided.
    const aborted = s.runs[2] as DrRun;
    assert.equal(aborted.clean, false);
    assert.ok(aborted.approvals.some((a) => a.decision === 'abort' && a.who === 'sre-manager'));
  });

  it("counts a rejoin as part of the group's last failover before it (a rehearsal's rejoin is the rehearsal's)", () => {
    const after = summarise([run('long-outage-unlink-rejoin', 'rehearsal'), run('rejoin-runbook')], []);
    assert.deepEqual(
      after.runs.map((r) => [r.workflowType, r.kind]),
      [
        ['failoverRunbook', 'rehearsal'],
        ['rejoinRunbook', 'rehearsal'],
      ],
    );
    assert.equal(summarise([run('rejoin-runbook')], []).runs[0]?.kind, 'incident');
  });

  it('gives the time of every destructive ARM call: force-unlink, force-link and the database creation of a recreate', () => {
    const s = summarise([run('long-outage-unlink-rejoin'), run('recreate'), run('short-outage')], []);
    assert.deepEqual(
      s.destructiveCalls.map((c) => [c.kind, c.step, c.activity, c.called, c.outcome]),
      [
        ['force-unlink', 'force-unlink', 'forceUnlink', true, 'completed'],
        ['force-link', 'rejoin', 'rejoinMember', true, 'completed'],
        ['force-unlink', 'force-unlink', 'forceUnlink', true, 'completed'],
        ['database-creation', 'rejoin', 'rejoinMember', true, 'completed'],
      ],
    );
    for (const c of s.destructiveCalls) {
      assert.ok(c.startedAt && c.closedAt, 'started and ended times from the history');
      assert.ok(c.scheduledAt <= c.startedAt && c.startedAt <= c.closedAt);
      assert.match(c.databaseId ?? '', /^\/subscriptions\//);
      assert.ok(c.eventId > 0);
    }
    assert.ok(s.destructiveCalls[0]?.calledOn, 'the survivor the force-unlink was called on');
  });

  it('answers "was DR tested, and did it meet the target?" per group and overall', () => {
    const row = (group: string, kind: DrRun['kind'], outcome: string, met?: boolean): DrRun => ({
      workflowId: `failover/${group}`,
      workflowType: 'failoverRunbook',
      kind,
      group,
      region: 'eastus',
      environment: 'production',
      startedAt: '2026-11-01T10:00:00.000Z',
      execution: 'completed',
      outcome,
      clean: outcome === 'completed',
      rto: met === undefined ? {} : { ms: 1000, target: '5 minutes', targetMs: 300_000, met },
      destructive: { exercised: false, forceUnlink: false, rejoin: false },
      requestedBy: 'sre-lead',
      requestSigned: true,
      approvals: [],
      replay: { verdict: 'verified', checkedAt: '2026-12-02T06:00:00.000Z', against: 'x' },
    });
    const good = answerOf([row('a', 'rehearsal', 'completed', true), row('b', 'drill', 'completed', true)], ['a', 'b']);
    assert.equal(good.tested, true);
    assert.equal(good.rtoMet, true);
    assert.match(good.headline, /DR was tested in the period: every group in scope \(2\)/);
    assert.match(good.headline, /met in 2 of 2 measured runs/);

    // An aborted rehearsal is no test; a group in scope with no run at all is not tested; one missed RTO shows.
    const bad = answerOf(
      [
        row('a', 'rehearsal', 'aborted'),
        row('a', 'incident', 'completed', false),
        row('b', 'drill', 'completed', true),
      ],
      ['a', 'b', 'c'],
    );
    assert.equal(bad.tested, false);
    assert.equal(bad.rtoMet, false);
    assert.match(bad.headline, /NOT tested in the period for a, c/);
    assert.match(bad.headline, /MISSED in 1 of 2 measured runs/);
    assert.deepEqual(
      bad.groups.map((g) => [g.group, g.tested, g.rehearsals, g.drills, g.incidents, g.met, g.missed]),
      [
        ['a', false, 1, 0, 1, 0, 1],
        ['b', true, 0, 1, 0, 1, 0],
        ['c', false, 0, 0, 0, 0, 0],
      ],
    );
    const none = answerOf([], []);
    assert.equal(none.tested, false);
    assert.equal(none.rtoMet, undefined);
  });
});

describe('DR evidence: the package on disk', () => {
  let base: string;
  before(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'geofailover-dr-evidence-'));
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  /** What writeDrEvidence writes, from stored histories: each run's package, then the summary, sealed. */
  function writePackage(dir: string, signKey?: ReturnType<typeof readPrivateKey>): DrEvidence {
    const runs: PeriodRun[] = (
      [
        ['short-outage', 'drill'],
        ['aborted', undefined],
        ['long-outage-unlink-rejoin', 'rehearsal'],
      ] as const
    ).map(([name, mode], i) => {
      const r = run(name, mode);
      const rel = `runs/run-${i}`;
      // The history as the audit stores it (with the mode set): the row is read from it again by --verify.
      const written = writeEvidencePackage({
        report: r.report,
        historyJson: `${historyToJSON(r.history)}\n`,
        dir: path.join(dir, rel),
        ...(signKey ? { signKey } : {}),
      });
      return {
        ...r,
        package: { dir: rel, sums: written.files.find((f) => f.name === PACKAGE_FILES.sums)?.sha256 as string },
      };
    });
    const evidence: DrEvidence = {
      schemaVersion: 1,
      kind: 'dr-evidence',
      generatedAt: '2026-12-02T06:00:00.000Z',
      generator: { name: 'geofailover', version: '0.0.0-test' },
      period: parsePeriod('2026-12-01', '2026-12-31'),
      group: 'leaderboard',
      source: { address: 'localhost:7233', namespace: 'default' },
      ...summarise(runs, ['leaderboard']),
      snapshot: unavailableSnapshot('no configuration (test)', ['leaderboard'], new Date('2026-12-02T06:00:00Z')),
    };
    writeSummary(dir, evidence, signKey);
    return evidence;
  }

  it('writes summary.json that matches its published schema, and md and html that answer first', () => {
    const dir = path.join(base, 'plain');
    const evidence = writePackage(dir);
    const json = JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8'));
    assert.ok(validateSummary(json), JSON.stringify(validateSummary.errors));
    assert.deepEqual(
      evidence.runs.map((r) => [r.kind, r.outcome]),
      [
        ['drill', 'completed'],
        ['rehearsal', 'completed'],
        ['incident', 'aborted'],
      ],
    );
    const mdText = readFileSync(path.join(dir, 'summary.md'), 'utf8');
    const firstLines = mdText.split('\n').slice(0, 5).join('\n');
    assert.match(firstLines, /DR was tested in the period/);
    assert.match(mdText, /\| Date \| Group \| Region \| Kind \| Outcome \| RTO against target \|/);
    // Each run says where it acted: production ARM, or an emulator (its report's DRILL/PRODUCTION banner).
    assert.match(mdText, /\| rehearsal \((production ARM|emulated ARM|ARM unknown)\) \|/);
    assert.match(mdText, /\[runs\/run-0\]\(runs\/run-0\/report\.md\)/);
    assert.match(mdText, /force-unlink/);
    assert.match(mdText, /Status: \*\*unavailable\*\*: no configuration \(test\)/);
    const html = readFileSync(path.join(dir, 'summary.html'), 'utf8');
    assert.ok(html.indexOf('DR tested in the period') < html.indexOf('id="runs"'));
    assert.match(html, /<a href="runs\/run-2\/report\.html">/);
    assert.match(html, /class="status s-succeeded"/, "the run report's badges");
    assert.equal(renderSummaryMarkdown(evidence), mdText);
    assert.equal(renderSummaryHtml(evidence), html);
    // Every file, the runs' included, is in the top SHA256SUMS, in sha256sum's format.
    const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8').trim().split('\n');
    assert.ok(sums.some((l) => l.endsWith('  runs/run-1/history.json')));
    assert.ok(sums.some((l) => l.endsWith('  summary.json')));
    for (const line of sums) {
      const [sum, name] = line.split('  ') as [string, string];
      assert.equal(
        createHash('sha256')
          .update(readFileSync(path.join(dir, name)))
          .digest('hex'),
        sum,
        name,
      );
    }
  });

  it('verifies: every sum, every run package, and the summary rebuilt from the runs', () => {
    const dir = path.join(base, 'verify');
    writePackage(dir);
    const v = verifyDrEvidence({ dir });
    assert.equal(v.verified, true, JSON.stringify(v.failures));
    assert.equal(v.summary.status, 'matches');
    assert.equal(v.runs.length, 3);
    assert.ok(v.runs.every((r) => r.verified));
    assert.equal(v.sumsSignature.status, 'unsigned');
    assert.equal(verifyDrEvidence({ dir, requireSignature: true }).verified, false);
  });

  it('vouches only for the files it wrote: what an earlier package left (--force) is not in SHA256SUMS', () => {
    const dir = path.join(base, 'forced');
    mkdirSync(path.join(dir, 'runs', 'old'), { recursive: true });
    writeFileSync(path.join(dir, 'runs', 'old', 'report.md'), 'an earlier package\n');
    writePackage(dir);
    assert.doesNotMatch(readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8'), /runs\/old/);
    const v = verifyDrEvidence({ dir });
    assert.equal(v.verified, true, JSON.stringify(v.failures));
    assert.ok(
      v.warnings.some((w) => w.includes('runs/old/report.md')),
      v.warnings.join('; '),
    );
  });

  it('fails a tampered file, naming it, even when SHA256SUMS is rewritten to match', () => {
    const dir = path.join(base, 'tampered');
    writePackage(dir);
    const summary = path.join(dir, 'summary.json');
    const json = JSON.parse(readFileSync(summary, 'utf8'));
    json.runs[2].outcome = 'completed';
    writeFileSync(summary, `${JSON.stringify(json, null, 2)}\n`);
    const v = verifyDrEvidence({ dir });
    assert.equal(v.verified, false);
    assert.ok(v.failures.some((f) => f.check === 'sums' && f.file === 'summary.json'));
    // Whoever edits the summary and rewrites the sums is still caught by the runs' own evidence.
    const sumsFile = path.join(dir, 'SHA256SUMS');
    const sha = createHash('sha256').update(readFileSync(summary)).digest('hex');
    writeFileSync(
      sumsFile,
      readFileSync(sumsFile, 'utf8').replace(/^[0-9a-f]{64}  summary\.json$/m, `${sha}  summary.json`),
    );
    const again = verifyDrEvidence({ dir });
    assert.equal(again.verified, false);
    assert.equal(again.summary.status, 'differs');
    assert.match(again.summary.detail, /runs\[2\]\.outcome/);
    // A run's report edited: its own package fails, named.
    const dir2 = path.join(base, 'tampered-run');
    writePackage(dir2);
    const md = path.join(dir2, 'runs/run-1/report.md');
    writeFileSync(md, readFileSync(md, 'utf8').replace('completed', 'COMPLETED'));
    const v2 = verifyDrEvidence({ dir: dir2 });
    assert.equal(v2.verified, false);
    assert.ok(v2.failures.some((f) => f.file === 'runs/run-1/report.md'));
    assert.ok(v2.runs.some((r) => r.dir === 'runs/run-1' && !r.verified));
  });

  it('is signed as the run packages are, and verifies against the signers the auditor trusts only', () => {
    const auditor = readPrivateKey(generateKeyPair('auditor@example').privateKeyPem);
    const dir = path.join(base, 'signed');
    writePackage(dir, auditor);
    const trusted = { source: 'the test auditors', people: { auditor: [auditor.publicKeyLine] } };
    const v = verifyDrEvidence({ dir, trusted, requireSignature: true });
    assert.equal(v.verified, true, JSON.stringify(v.failures));
    assert.equal(v.sumsSignature.status, 'verified');
    const stranger = readPrivateKey(generateKeyPair('someone@example').privateKeyPem);
    const other = verifyDrEvidence({ dir, trusted: { source: 'others', people: { x: [stranger.publicKeyLine] } } });
    assert.equal(other.verified, false);
    assert.equal(other.sumsSignature.status, 'failed');
  });
});
