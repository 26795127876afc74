// The evidence report built from stored histories (no server, no replay: the verdict is given): what an
// auditor reads in each scenario, the partial report of a runbook still running, escaping, the schema, and
// the package on disk.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { HistoryError, loadedHistory, parseHistoryJson, readHistoryFile } from '../../src/audit/history';
import { defaultEvidenceDir, parseFormats, writeEvidencePackage } from '../../src/audit/package';
import { describeMismatch, type ReplayVerdict } from '../../src/audit/replay';
import { renderHtml } from '../../src/audit/report/html';
import { renderMarkdown } from '../../src/audit/report/markdown';
import { buildEvidenceReport } from '../../src/audit/report/model';
import { evidenceReportSchema, type EvidenceReport } from '../../src/audit/report/schema';
import type { History } from '../../src/audit/history';

const ROOT = path.resolve(__dirname, '../..');
const HISTORIES = path.join(ROOT, 'test', 'replay', 'histories');

const VERIFIED: ReplayVerdict = {
  verdict: 'verified',
  workflowType: 'failoverRunbook',
  checkedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 12,
  against: 'the current workflow code (src/workflows)',
};

const ajv = new Ajv2020({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(
  JSON.parse(readFileSync(path.join(ROOT, 'schemas', 'evidence-report.schema.json'), 'utf8')) as object,
);

function rawHistory(name: string): { events: Record<string, any>[] } {
  return JSON.parse(readFileSync(path.join(HISTORIES, `${name}.json`), 'utf8'));
}

function report(history: History, replay: ReplayVerdict = VERIFIED): EvidenceReport {
  const built = buildEvidenceReport(history, {
    replay,
    workflowId: 'failover/leaderboard',
    source: { kind: 'file', file: 'x.json' },
  });
  assert.ok(
    validate(JSON.parse(JSON.stringify(built))),
    `matches the published schema: ${ajv.errorsText(validate.errors)}`,
  );
  evidenceReportSchema.parse(built);
  return built;
}

const stored = (name: string): EvidenceReport => report(readHistoryFile(path.join(HISTORIES, `${name}.json`)).history);
const stepOf = (r: EvidenceReport, step: string) => r.steps.find((s) => s.step === step);

describe('evidence report model', () => {
  it('short outage: every step, no gate, probes, memory, traffic before/after, the RTO', () => {
    const r = stored('short-outage');
    assert.equal(r.partial, false);
    assert.equal(r.request.requestedBy, 'sre-lead');
    assert.equal(r.request.region, 'eastus');
    assert.equal((r.request.group as { name: string }).name, 'leaderboard');
    assert.equal(r.workflow.startedByIdentity, 'sre-lead@geofailover-recorder');
    assert.equal(r.steps.length, 13);
    assert.equal(stepOf(r, 'force-unlink')?.status, 'skipped');
    assert.ok((r.outcome.rtoMs ?? 0) > 0);
    assert.equal(r.outcome.rtoSource, 'result');
    assert.deepEqual(
      r.probes.map((p) => p.step),
      ['firewall', 'traffic-failback'],
    );
    assert.ok(r.probes[0]?.results.every((p) => p.outcome === 'ok' && typeof p.latencyMs === 'number'));
    assert.deepEqual(r.memory.map((m) => m.region).sort(), ['southeastasia', 'westeurope'], 'memory per survivor');
    assert.deepEqual(
      r.traffic.changes.map((c) => [c.endpoint, c.status, c.serving.length]),
      [
        ['eastus', 'Disabled', 2],
        ['eastus', 'Enabled', 3],
      ],
    );
    assert.equal(r.traffic.before?.endpoints.find((e) => e.name === 'eastus')?.endpointStatus, 'Enabled');
    assert.equal(r.membership.before.find((m) => m.region === 'eastus')?.reachable, false);
    assert.equal(r.membership.after.find((m) => m.region === 'eastus')?.reachable, true);
    assert.deepEqual(r.finalState.servingEndpoints, ['eastus', 'westeurope', 'southeastasia']);
    assert.deepEqual(
      r.decisions.map((d) => [d.name, d.actor, d.verdict]),
      [['regionRecovered', 'sre-lead', 'accepted']],
    );
  });

  it('rejected unlink gate: the rejection with approver and time, nothing unlinked', () => {
    const r = stored('rejected-unlink');
    const gate = r.gates.find((g) => g.gate === 'approval-unlink');
    assert.equal(gate?.outcome, 'rejected');
    assert.deepEqual(
      gate?.votes.map((v) => [v.approver, v.decision, v.via]),
      [['data-owner', 'reject', 'decide']],
    );
    assert.equal(stepOf(r, 'force-unlink')?.status, 'skipped');
    assert.equal(r.activities.filter((a) => a.type === 'forceUnlink').length, 0);
    const md = renderMarkdown(r);
    assert.ok(md.includes(`| data-owner | reject | decide | ${gate?.votes[0]?.at} | the region is coming back |`));
  });

  it('intervention then retry: the failure, the answer, two attempts, the failed activity', () => {
    const r = stored('intervention-retry');
    const gate = r.gates.find((g) => g.kind === 'intervention');
    assert.equal(gate?.gate, 'intervention:traffic-reroute');
    assert.equal(gate?.outcome, 'retry');
    assert.deepEqual(
      gate?.interventions?.map((i) => [i.action, i.by]),
      [['retry', 'sre-lead']],
    );
    assert.equal(stepOf(r, 'traffic-reroute')?.attempts, 2);
    const failed = r.activities.filter((a) => a.outcome === 'failed');
    assert.deepEqual(
      failed.map((a) => [a.type, a.step]),
      [['setEndpointStatus', 'traffic-reroute']],
    );
    assert.match(failed[0]?.failure ?? '', /AzureBadRequest: BadRequest: endpoint is locked/);
    const md = renderMarkdown(r);
    assert.match(md, /## Interventions[\s\S]*AzureBadRequest[\s\S]*\| retry \| sre-lead \|/);
  });

  it('aborted: who aborted and why, what was left as is', () => {
    const r = stored('aborted');
    assert.equal(r.outcome.outcome, 'aborted');
    assert.match(r.outcome.summary, /aborted by sre-manager \(handing over to the manual runbook\)/);
    assert.deepEqual(
      r.decisions.map((d) => [d.name, d.actor, d.identity, d.verdict]),
      [['abort', 'sre-manager', 'sre-manager@geofailover-recorder', 'accepted']],
    );
    assert.deepEqual(r.finalState.servingEndpoints, ['westeurope', 'southeastasia'], 'traffic stays on the survivors');
  });

  it('long outage: approvals by signal and update, the refused self-approval and stranger, unlink and rejoin', () => {
    const r = stored('long-outage-unlink-rejoin');
    assert.deepEqual(
      r.decisions.map((d) => [d.kind, d.actor, d.verdict]),
      [
        ['update', 'sre-lead', 'refused'],
        ['signal', 'mallory', 'refused'],
        ['signal', 'sre-manager', 'accepted'],
        ['update', 'data-owner', 'accepted'],
        ['update', 'sre-manager', 'accepted'],
      ],
    );
    assert.match(r.decisions[0]?.reason ?? '', /four-eyes/);
    assert.match(r.decisions[1]?.reason ?? '', /mallory is not an approver/);
    assert.deepEqual(
      r.refusedAttempts.map((a) => a.by),
      ['sre-lead', 'mallory'],
    );
    assert.equal(stepOf(r, 'force-unlink')?.status, 'succeeded');
    assert.equal(r.memory.find((m) => m.region === 'westeurope')?.grade, 'critical');
  });

  it('rejoinRunbook: the rejoining region and its gate', () => {
    const r = report(readHistoryFile(path.join(HISTORIES, 'rejoin-runbook.json')).history);
    assert.equal(r.workflow.workflowType, 'rejoinRunbook');
    assert.equal(r.request.regionRole, 'rejoining');
    assert.equal(r.outcome.rtoMs, undefined, 'no reroute, no RTO');
    assert.equal(r.gates[0]?.gate, 'approval-rejoin');
  });

  it('a runbook still running: partial, steps rebuilt from events, decisions not yet answered are unknown', () => {
    const raw = rawHistory('long-outage-unlink-rejoin');
    // Up to mallory's signal: the unlink gate is open, the self-approval was refused by update.
    const signal = raw.events.findIndex((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    raw.events = raw.events.slice(0, signal + 1);
    const r = report(parseHistoryJson(JSON.stringify(raw), 'truncated'));
    assert.equal(r.partial, true);
    assert.match(r.partialReason ?? '', /still running/);
    assert.equal(r.workflow.execution, 'running');
    assert.equal(r.outcome.outcome, undefined);
    assert.equal(r.outcome.rtoSource, 'history-events');
    assert.ok((r.outcome.rtoMs ?? 0) > 0);
    const status = Object.fromEntries(r.steps.map((s) => [s.step, s.status]));
    assert.deepEqual(status, {
      'validate-input': 'succeeded',
      membership: 'succeeded',
      memory: 'succeeded',
      firewall: 'succeeded',
      'traffic-reroute': 'succeeded',
      verify: 'succeeded',
      'await-recovery': 'running',
      'approval-unlink': 'waiting',
      'force-unlink': 'pending',
      'approval-rejoin': 'pending',
      rejoin: 'pending',
      'traffic-failback': 'pending',
      complete: 'pending',
    });
    assert.ok(r.steps.every((s) => s.source === 'history-events'));
    assert.deepEqual(
      r.decisions.map((d) => [d.actor, d.verdict]),
      [
        ['sre-lead', 'refused'],
        ['mallory', 'unknown'],
      ],
    );
    assert.match(renderMarkdown(r), /Partial report/);
    assert.match(renderHtml(r), /class="banner partial"/);
  });

  it('a terminated runbook: partial, with who terminated it and why', () => {
    const raw = rawHistory('short-outage');
    const cut = raw.events.findIndex((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    raw.events = raw.events.slice(0, cut);
    raw.events.push({
      eventId: String(cut + 1),
      eventTime: raw.events[cut - 1]?.eventTime,
      eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED',
      workflowExecutionTerminatedEventAttributes: { reason: 'operator cleanup', identity: 'ops@host' },
    });
    const r = report(parseHistoryJson(JSON.stringify(raw), 'terminated'));
    assert.equal(r.partial, true);
    assert.equal(r.workflow.execution, 'terminated');
    assert.equal(r.workflow.closeReason, 'terminated by ops@host: operator cleanup');
    assert.match(renderMarkdown(r), /terminated by ops@host: operator cleanup/);
  });
});

describe('evidence report rendering', () => {
  it('escapes every text from the history in HTML and Markdown', () => {
    const raw = rawHistory('short-outage');
    const payload = raw.events[0]?.workflowExecutionStartedEventAttributes.input.payloads[0];
    const input = JSON.parse(Buffer.from(payload.data, 'base64').toString());
    input.reason = '<script>alert(1)</script> | **bold** `code` <img src="https://evil.example/x.png">';
    input.requestedBy = 'eve"<b>';
    payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
    const r = report(parseHistoryJson(JSON.stringify(raw), 'hostile'));
    const html = renderHtml(r);
    assert.doesNotMatch(html, /<script|<img|<b>/i);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('eve&quot;&lt;b&gt;'));
    const md = renderMarkdown(r);
    assert.doesNotMatch(md, /(^|[^\\])<(script|img)/m, 'every < from the history is escaped');
    assert.ok(md.includes('\\<script\\>alert(1)\\</script\\> \\| \\*\\*bold\\*\\* \\`code\\`'));
  });

  it('HTML is one self-contained file with the timeline drawn', () => {
    const r = stored('long-outage-unlink-rejoin');
    const html = renderHtml(r);
    assert.doesNotMatch(html, /\b(?:src|href)\s*=/i, 'links and loads nothing');
    assert.doesNotMatch(html, /<(?:script|link)\b/i);
    const svg = /<svg[^>]*class="timeline"[^>]*>([\s\S]*?)<\/svg>/.exec(html)?.[1] ?? '';
    for (const s of r.steps.filter((x) => x.startedAt))
      assert.ok(svg.includes(`<title>${s.step}: ${s.status}`), s.step);
    assert.equal((svg.match(/<path d="M[^"]*l5 7/g) ?? []).length, r.decisions.length, 'a diamond per decision');
    assert.match(svg, /RTO \d+ ms/);
  });

  it('a diverged replay is the first thing both reports say, with the mismatching event', () => {
    const diverged: ReplayVerdict = {
      ...VERIFIED,
      verdict: 'diverged',
      errorKind: 'nondeterminism',
      mismatch: {
        eventId: 5,
        eventType: 'UpsertWorkflowSearchAttributes',
        message: '[TMPRL1100] Nondeterminism error: x',
      },
    };
    const r = report(readHistoryFile(path.join(HISTORIES, 'short-outage.json')).history, diverged);
    const md = renderMarkdown(r);
    assert.match(
      md.split('\n')[2] ?? '',
      /^> \*\*Replay DIVERGED\*\*: .* at event 5 \(UpsertWorkflowSearchAttributes\)/,
    );
    assert.match(renderHtml(r), /<div class="banner diverged"><span class="verdict">REPLAY DIVERGED<\/span>/);
  });
});

describe('replay mismatch parsing', () => {
  const history = readHistoryFile(path.join(HISTORIES, 'short-outage.json')).history;

  it('takes the core message and the event it names, typed from the history', () => {
    const message =
      'Replay failed with a nondeterminism error. This means that the workflow code as written is not compatible with ' +
      'the history that was fed in. Details: Workflow activation completion failed: Failure { failure: Some(Failure { ' +
      'message: "[TMPRL1100] Nondeterminism error: No command scheduled for event HistoryEvent(id: 7, ActivityTaskScheduled)", ' +
      'source: "" }) }';
    assert.deepEqual(describeMismatch(message, history), {
      eventId: 7,
      eventType: 'ActivityTaskScheduled',
      message:
        '[TMPRL1100] Nondeterminism error: No command scheduled for event HistoryEvent(id: 7, ActivityTaskScheduled)',
    });
  });

  it('keeps a message that names no event', () => {
    assert.deepEqual(describeMismatch('something else went wrong', history), { message: 'something else went wrong' });
  });
});

describe('history files', () => {
  it('loads older exports whose enums are PascalCase', () => {
    const raw = rawHistory('short-outage');
    for (const e of raw.events) {
      e.eventType = String(e.eventType)
        .replace(/^EVENT_TYPE_/, '')
        .toLowerCase()
        .replace(/(^|_)([a-z])/g, (_m: string, _s: string, c: string) => c.toUpperCase());
    }
    const history = parseHistoryJson(JSON.stringify(raw), 'legacy');
    assert.equal(history.events?.length, raw.events.length);
    assert.equal(loadedHistory(history).workflowId, 'failover/leaderboard');
  });

  it('says what is wrong with a file that is not a history', () => {
    assert.throws(
      () => parseHistoryJson('{', 'a.json'),
      (e: Error) => e instanceof HistoryError && /a\.json is not JSON/.test(e.message),
    );
    assert.throws(() => parseHistoryJson('{"x":1}', 'b.json'), /b\.json is not a Temporal workflow history/);
    assert.throws(() => parseHistoryJson('{"events":[]}', 'c.json'), /without events/);
    const raw = rawHistory('short-outage');
    raw.events = raw.events.slice(3);
    assert.throws(
      () => parseHistoryJson(JSON.stringify(raw), 'd.json'),
      /does not start with WorkflowExecutionStarted/,
    );
    assert.throws(() => readHistoryFile(path.join(os.tmpdir(), 'no-such-history.json')), /cannot read .*ENOENT/);
  });
});

describe('evidence package', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-package-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the reports asked for, history.json as given, and SHA256SUMS that sha256sum -c accepts', async () => {
    const loaded = readHistoryFile(path.join(HISTORIES, 'short-outage.temporal-cli.json'));
    const r = report(loaded.history);
    const pkg = writeEvidencePackage({ report: r, historyJson: loaded.json, dir, formats: ['md', 'html'] });
    assert.deepEqual(readdirSync(dir).sort(), ['SHA256SUMS', 'history.json', 'report.html', 'report.md']);
    assert.equal(
      readFileSync(path.join(dir, 'history.json'), 'utf8'),
      readFileSync(path.join(HISTORIES, 'short-outage.temporal-cli.json'), 'utf8'),
    );
    const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8');
    assert.match(sums, /^([0-9a-f]{64} {2}(report\.md|report\.html|history\.json)\n){3}$/);
    const { stdout } = await promisify(execFile)('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir });
    assert.equal(stdout, 'report.md: OK\nreport.html: OK\nhistory.json: OK\n');
    assert.equal(pkg.files.at(-1)?.name, 'SHA256SUMS');
    assert.equal(
      pkg.totalBytes,
      pkg.files.reduce((n, f) => n + f.bytes, 0),
    );
  });

  it('parses --format and names the default directory after the workflow id', () => {
    assert.deepEqual(parseFormats('html, MD'), ['md', 'html']);
    assert.throws(() => parseFormats('md,pdf'), /unknown: pdf/);
    assert.throws(() => parseFormats(','), /empty list/);
    assert.equal(
      defaultEvidenceDir('failover/leaderboard', '/base'),
      path.join('/base', 'evidence', 'failover_leaderboard'),
    );
    assert.equal(defaultEvidenceDir('../x', '/base'), path.join('/base', 'evidence', '__x'), 'never leaves evidence/');
  });
});
