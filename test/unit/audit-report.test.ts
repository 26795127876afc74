// The evidence report built from stored histories (no server, no replay: the verdict is given): what an
// auditor reads in each scenario, every signature checked again, the partial report of a runbook still
// running, escaping, the schema, and the package on disk: signatures ssh-keygen accepts, and `--verify`.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import {
  HistoryError,
  historyWorkflowId,
  loadedHistory,
  parseHistoryJson,
  readHistoryFile,
} from '../../src/audit/history';
import { auditHistory } from '../../src/audit/audit';
import {
  defaultEvidenceDir,
  OutputDirError,
  parseFormats,
  refuseNonEmptyDir,
  writeEvidencePackage,
} from '../../src/audit/package';
import { describeMismatch, type ReplayVerdict } from '../../src/audit/replay';
import { environmentOf } from '../../src/audit/report/assessment';
import { createPolicyActivities } from '../../src/activities/policy';
import type { RunbookPolicy } from '../../src/contract/policy';
import { inputProblems } from '../../src/workflows/runbook/validate-input';
import { renderHtml } from '../../src/audit/report/html';
import { renderMarkdown } from '../../src/audit/report/markdown';
import { buildEvidenceReport } from '../../src/audit/report/model';
import { evidenceReportSchema, type EvidenceReport } from '../../src/audit/report/schema';
import { parseAllowedSigners, verifyPackage } from '../../src/audit/verify';
import type { History } from '../../src/audit/history';
import { generateKeyPair, readPrivateKey } from '../../src/signing/node-keys';

const ROOT = path.resolve(__dirname, '../..');
const HISTORIES = path.join(ROOT, 'test', 'replay', 'histories');

const VERIFIED: ReplayVerdict = {
  verdict: 'verified',
  workflowType: 'failoverRunbook',
  checkedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 12,
  against: 'the current workflow code (src/workflows)',
};

const CODE_VERIFIED: ReplayVerdict = {
  ...VERIFIED,
  code: { version: '0.2.0', commit: '0123456789ab', bundleSha256: 'abcdef'.repeat(10) + 'abcd' },
};

/** A failover input whose shape validate-input accepts. */
const validInput = (): Record<string, unknown> => ({
  group: 'leaderboard',
  failedRegion: 'eastus',
  reason: 'eastus outage',
  request: { statement: '{}', signature: 'sig' },
});

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
    // The signed statements name the workflow: the report is built for the id the history belongs to.
    workflowId: historyWorkflowId(history) ?? 'failover/leaderboard',
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
    assert.equal(r.request.signature.verified, true, r.request.signature.reason);
    assert.match(r.request.signature.fingerprint ?? '', /^SHA256:/);
    assert.equal(r.request.policyDigest, r.policy?.digest);
    assert.equal(r.policy?.digestMatches, true);
    assert.deepEqual(Object.keys(r.policy?.people ?? {}), ['data-owner', 'sre-lead', 'sre-manager']);
    assert.equal(r.request.region, 'eastus');
    assert.equal((r.request.group as { name: string }).name, 'leaderboard');
    assert.equal(r.workflow.startedByIdentity, 'sre-lead@geofailover-recorder');
    assert.equal(r.steps.length, 13);
    assert.equal(stepOf(r, 'force-unlink')?.status, 'skipped');
    assert.ok((r.outcome.rtoMs ?? 0) > 0);
    assert.equal(r.outcome.rtoSource, 'result');
    assert.deepEqual(
      r.probes.map((p) => p.step),
      ['firewall', 'await-recovery', 'await-recovery', 'await-recovery', 'traffic-failback'],
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
      r.decisions.map((d) => [d.name, d.actor, d.verdict, d.signature.signer, d.signature.verified]),
      [['regionRecovered', 'sre-lead', 'accepted', 'sre-lead', true]],
    );
    assert.deepEqual(
      r.signatures.map((x) => x.file),
      ['01-start-sre-lead', '02-regionRecovered-sre-lead'],
    );
    const md = renderMarkdown(r);
    assert.match(md, /Requested by \| sre-lead \(signed start verified, key SHA256:/);
    assert.match(md, /Temporal identity sre-lead@geofailover-recorder \(self-declared\)/);
    assert.doesNotMatch(md, /recorded identity|identity the server recorded/i, 'the identity is not evidence');
  });

  it('rejected unlink gate: the rejection with approver and time, nothing unlinked', () => {
    const r = stored('rejected-unlink');
    const gate = r.gates.find((g) => g.gate === 'approval-unlink');
    assert.equal(gate?.outcome, 'rejected');
    assert.deepEqual(
      gate?.votes.map((v) => [v.approver, v.decision, v.via, v.verified]),
      [['data-owner', 'reject', 'decide', true]],
    );
    const vote = gate?.votes[0];
    assert.equal(vote?.fingerprint, r.policy?.fingerprints['data-owner']?.[0], "data-owner's key signed it");
    assert.equal(stepOf(r, 'force-unlink')?.status, 'skipped');
    assert.equal(r.activities.filter((a) => a.type === 'forceUnlink').length, 0);
    const md = renderMarkdown(r);
    assert.ok(
      md.includes(
        `| data-owner | reject | decide | ${vote?.at} | ${vote?.fingerprint} | **verified** | the region is coming back |`,
      ),
    );
  });

  it('intervention then retry: the failure, the answer, two attempts, the failed activity', () => {
    const r = stored('intervention-retry');
    const gate = r.gates.find((g) => g.kind === 'intervention');
    assert.equal(gate?.gate, 'intervention:traffic-reroute');
    assert.equal(gate?.outcome, 'retry');
    assert.deepEqual(
      gate?.interventions?.map((i) => [i.action, i.by, i.verified]),
      [['retry', 'sre-lead', true]],
    );
    assert.equal(gate?.interventions?.[0]?.fingerprint, r.policy?.fingerprints['sre-lead']?.[0]);
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
      r.decisions.map((d) => [d.name, d.actor, d.identity, d.verdict, d.signature.verified]),
      [['abort', 'sre-manager', 'sre-manager@geofailover-recorder', 'accepted', true]],
    );
    assert.deepEqual(
      r.signatures.map((x) => x.file),
      ['01-start-sre-lead', '02-abort-sre-manager'],
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
    assert.equal(r.decisions[0]?.signature.verified, true, 'a valid signature, refused for who signed it');
    assert.match(r.decisions[1]?.reason ?? '', /"mallory" is not a person in the worker's configuration/);
    assert.deepEqual(
      [r.decisions[1]?.signature.verified, r.decisions[1]?.signature.signer],
      [false, 'mallory'],
      "the outsider's key is in no policy",
    );
    assert.deepEqual(
      r.refusedAttempts.map((a) => a.by.replace(' (unverified)', '')),
      ['sre-lead', 'mallory'],
    );
    assert.deepEqual(
      r.signatures.map((x) => x.file),
      ['01-start-sre-lead', '02-approve-sre-manager', '03-approve-data-owner', '04-approve-sre-manager'],
    );
    assert.ok(r.gates.every((g) => g.votes.every((v) => v.verified && v.fingerprint)));
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
      // A rehearsal's steps: an incident's status records them as skipped; rebuilt from events they are not reached.
      hold: 'pending',
      'approval-rejoin': 'pending',
      rejoin: 'pending',
      'traffic-failback': 'pending',
      'replication-check': 'pending',
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
    payload.data = Buffer.from(JSON.stringify(input)).toString('base64');
    // Anyone can send a signal of any name: it is shown, escaped.
    const signal = raw.events.find((e) => e.eventType === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED');
    signal!.workflowExecutionSignaledEventAttributes.signalName = 'eve"<b>';
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
    assert.equal((svg.match(/<g class="marker /g) ?? []).length, r.decisions.length, 'a marker per decision');
    assert.match(svg, /RTO \d+(\.\d+)? m?s/);
    assert.match(html, /<svg viewBox="0 0 1060 \d+"/, 'scales to its box: the whole run on a phone or a page');
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
    const html = renderHtml(r);
    assert.match(html, /<div class="banner diverged"><span class="verdict">REPLAY DIVERGED<\/span>/);
    assert.ok(html.indexOf('REPLAY DIVERGED') < html.indexOf('id="decisions"'), 'on the first screen');
  });

  it('the first screen: banner, outcome, incident, RTO against target, replay with its code, the decisions', () => {
    const r = report(readHistoryFile(path.join(HISTORIES, 'long-outage-unlink-rejoin.json')).history, CODE_VERIFIED);
    const html = renderHtml(r);
    const first = html.slice(0, html.indexOf('<h2 id="summary">'));
    for (const id of ['mode-banner', 'outcome', 'incident', 'rto', 'replay-verdict', 'decisions']) {
      assert.ok(first.includes(`id="${id}"`), `${id} comes before the summary`);
    }
    assert.ok(first.includes('geofailover 0.2.0 (commit 0123456789ab), workflow bundle sha256 abcdefabcdefabcd…'));
    assert.doesNotMatch(first, /banner verified/, 'a verified replay is a card, not a banner over the run');
    assert.doesNotMatch(first, /id="open-items"/, 'a clean run has no open items');
    assert.equal(r.outcome.clean, true);
    // The decisions: the start, then every vote with what its approver saw.
    assert.deepEqual(
      r.decisionTable.map((d) => [d.gate, d.decision, d.who, d.signed]),
      [
        ['(start)', 'start', 'sre-lead', 'signed'],
        ['approval-unlink', 'approve', 'sre-manager', 'signed'],
        ['approval-unlink', 'approve', 'data-owner', 'signed'],
        ['approval-rejoin', 'approve', 'sre-manager', 'signed'],
      ],
    );
    const unlink = r.decisionTable[1]?.saw ?? '';
    assert.match(unlink, /trigger: memory pressure on a survivor reached the critical grade/);
    assert.match(unlink, /memory .*95 %/);
    assert.match(unlink, /blast radius: eastus: leaves the group/);
    assert.match(r.decisionTable[3]?.saw ?? '', /data discarded: eastus's database data is discarded/);
    const md = renderMarkdown(r);
    const mdFirst = md.slice(0, md.indexOf('## Summary'));
    assert.match(mdFirst, /> \*\*ENVIRONMENT UNKNOWN\*\*: the history does not record which ARM endpoint/);
    assert.match(mdFirst, /\| Outcome \| \*\*completed\*\*: /);
    assert.match(mdFirst, /\| RTO \| \*\*251 ms\*\*, no target set/);
    assert.match(mdFirst, /\| Replay \| \*\*VERIFIED\*\*: replays against geofailover 0\.2\.0 \(commit 0123456789ab\)/);
    assert.match(
      mdFirst,
      /## Decisions\n\n\| Gate \| Decision \| Who \| Signed or declared \| When \| What they saw \|/,
    );
  });

  it('per gate: the trigger, memory trend, blast radius and the data an approval discards', () => {
    const r = stored('long-outage-unlink-rejoin');
    const unlink = r.gates.find((g) => g.gate === 'approval-unlink');
    assert.match(unlink?.seen.trigger ?? '', /critical grade/);
    assert.match(unlink?.seen.memoryTrend ?? '', /95 %/);
    assert.ok(unlink?.seen.blastRadius?.some((l) => /westeurope: drops its link to eastus/.test(l)));
    assert.match(unlink?.seen.dataDiscarded ?? '', /eastus's data: writes it took that never replicated are lost/);
    const rejoin = r.gates.find((g) => g.gate === 'approval-rejoin');
    assert.match(rejoin?.seen.dataDiscarded ?? '', /eastus's database data is discarded; it resynchronises/);
    const html = renderHtml(r);
    assert.match(html, /What the approvers saw:[\s\S]*<th>Blast radius<\/th>[\s\S]*<th>Data discarded<\/th>/);
    const md = renderMarkdown(r);
    assert.match(md, /### Gate approval-rejoin[\s\S]*- \*\*Data discarded\*\*: eastus's database data is discarded/);
    const retry = stored('intervention-retry').gates[0];
    assert.match(retry?.seen.failure ?? '', /AzureBadRequest: .*endpoint is locked/);
  });

  it('an aborted run with its region still disabled: open items first, and the replay does not dominate', () => {
    const r = stored('aborted');
    assert.equal(r.outcome.clean, false);
    assert.ok(
      r.openItems.some((i) => /^Traffic Manager endpoint eastus is Disabled: eastus serves no traffic$/.test(i)),
    );
    assert.ok(r.openItems.some((i) => /^the runbook ended aborted: /.test(i)));
    const html = renderHtml(r);
    const first = html.slice(0, html.indexOf('<h2 id="summary">'));
    assert.match(first, /<section class="open-items" id="open-items"><h2>Open items: the run did not end clean<\/h2>/);
    assert.match(first, /<div class="card bad" id="outcome">[\s\S]*?class="status s-failed"[^>]*>✗ aborted</);
    assert.doesNotMatch(html, /class="banner verified"/);
    assert.ok(first.indexOf('id="open-items"') < first.indexOf('id="decisions"'));
    assert.match(renderMarkdown(r), /\*\*Open items\*\* \(the run did not end clean\):\n\n- the runbook ended aborted/);
  });

  it('a rejected gate is drawn rejected, and decision markers differ by letter and shape, not colour alone', () => {
    const r = stored('rejected-unlink');
    const svg = /<svg[^>]*class="timeline"[^>]*>([\s\S]*?)<\/svg>/.exec(renderHtml(r))?.[1] ?? '';
    assert.match(svg, /<g class="gate gate-rejected"><rect [^>]*fill="url\(#hatch-rejected\)"/);
    assert.match(svg, /approval-unlink REJECTED/);
    const reject = /<g class="marker decision-accepted" data-letter="R">([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
    assert.match(reject, /<circle [^>]*fill="#b71c1c"/, 'a reject is red, never green');
    assert.match(reject, />R<\/text>/);
    const long = /<svg[^>]*class="timeline"[^>]*>([\s\S]*?)<\/svg>/.exec(
      renderHtml(stored('long-outage-unlink-rejoin')),
    )?.[1];
    assert.match(
      long ?? '',
      /<g class="marker decision-refused" data-letter="A"><title>[^<]*<\/title><rect /,
      'refused: a crossed square',
    );
    assert.match(long ?? '', /Decisions: A approve, R reject/, 'a legend says what letters and shapes mean');
  });

  it('status badges carry a border, a sign and a word: they read the same printed in black and white', () => {
    const html = renderHtml(stored('timeout'));
    const badges = html.match(/<span class="status[^"]*"[^>]*>[^<]*<\/span>/g) ?? [];
    assert.ok(badges.length > 10);
    for (const b of badges)
      assert.match(b, /class="status s-(succeeded|failed|running|waiting|skipped|pending|unknown)"[^>]*>\S+ \w/, b);
    assert.doesNotMatch(html, /class="status" style=/, 'no colour-only badge');
    assert.match(html, /@page \{ size: A4;/);
    assert.match(html, /@media print/);
    assert.match(html, /\.table-wrap \{ overflow-x: auto;/);
  });
});

describe('drill or production, the incident id and the RTO target', () => {
  /** short-outage with its loadPolicy result and input edited. */
  function edited(edit: { arm?: string; rtoTarget?: string; incident?: unknown }): EvidenceReport {
    const raw = rawHistory('short-outage');
    const completed = ofType(raw, 'ACTIVITY_TASK_COMPLETED').find((e) => {
      const result = decode(e.activityTaskCompletedEventAttributes.result.payloads[0]);
      return result?.found === true && result.policy;
    });
    const payload = completed!.activityTaskCompletedEventAttributes.result.payloads[0];
    const lookup = decode(payload);
    if (edit.arm !== undefined) lookup.armEndpoint = edit.arm;
    if (edit.rtoTarget !== undefined) lookup.policy.group.durations.rtoTarget = edit.rtoTarget;
    encode(payload, lookup);
    if (edit.incident !== undefined) {
      const started = raw.events[0]!.workflowExecutionStartedEventAttributes.input.payloads[0];
      encode(started, { ...decode(started), incident: edit.incident });
    }
    return fromRaw(raw, 'edited');
  }

  it('the emulator (any endpoint but ARM) is a DRILL, management.azure.com is PRODUCTION, none recorded is unknown', () => {
    const drill = edited({ arm: 'https://127.0.0.1:8443' });
    assert.deepEqual([drill.environment.mode, drill.environment.armEndpoint], ['drill', 'https://127.0.0.1:8443']);
    assert.match(renderHtml(drill), /<div class="mode mode-drill" id="mode-banner"><strong>DRILL<\/strong>/);
    assert.match(
      renderMarkdown(drill),
      /^> \*\*DRILL\*\*: the worker acted through https:\/\/127\.0\.0\.1:8443, not Azure/m,
    );
    const prod = edited({ arm: 'https://management.azure.com' });
    assert.equal(prod.environment.mode, 'production');
    assert.match(renderHtml(prod), /<strong>PRODUCTION<\/strong>/);
    assert.equal(environmentOf('https://management.usgovcloudapi.net').mode, 'production', 'a sovereign cloud');
    assert.equal(environmentOf('https://management.azure.com.evil.example').mode, 'drill');
    assert.equal(stored('short-outage').environment.mode, 'unknown');
  });

  it("the worker's loadPolicy records its ARM endpoint's origin only: no user info, path or query", async () => {
    const policy = { group: { name: 'g' }, people: {}, digest: 'sha256:x' } as unknown as RunbookPolicy;
    const activities = createPolicyActivities({
      policies: (group) => (group === 'g' ? { found: true, policy } : { found: false, reason: 'no such group' }),
      arm: { endpoint: 'https://user:secret@127.0.0.1:8443/some/path?token=abc' },
    });
    const found = await activities.loadPolicy({ group: 'g' });
    assert.deepEqual(found, { found: true, policy, armEndpoint: 'https://127.0.0.1:8443' });
    assert.deepEqual(await activities.loadPolicy({ group: 'other' }), { found: false, reason: 'no such group' });
    const without = await createPolicyActivities({ policies: () => ({ found: true, policy }) }).loadPolicy({
      group: 'g',
    });
    assert.deepEqual(without, { found: true, policy }, 'no ARM clients, nothing recorded');
  });

  it("the RTO against the configuration's rtoTarget: met, missed", () => {
    const met = edited({ rtoTarget: '5 minutes' });
    assert.deepEqual(
      [met.outcome.rtoTarget, met.outcome.rtoTargetMs, met.outcome.rtoMet],
      ['5 minutes', 300_000, true],
    );
    assert.match(renderHtml(met), /<div class="card good" id="rto">[\s\S]*?✓ met[\s\S]*?target 5 min: met/);
    const missed = edited({ rtoTarget: '1ms' });
    assert.equal(missed.outcome.rtoMet, false);
    assert.match(renderHtml(missed), /<div class="card bad" id="rto">[\s\S]*?✗ missed[\s\S]*?target 1 ms: MISSED/);
    assert.match(renderMarkdown(missed), /\| RTO \| \*\*\d+ ms\*\*, target 1 ms: MISSED \|/);
  });

  it('the incident id from the input, shown only as the runbook would accept it', () => {
    const r = edited({ incident: 'INC-4711' });
    assert.equal(r.request.incident, 'INC-4711');
    assert.match(
      renderHtml(r),
      /<div class="card neutral" id="incident"><div class="k">Incident<\/div><div class="v">INC-4711</,
    );
    assert.match(renderMarkdown(r), /\| Incident \| INC-4711 \|/);
    assert.equal(edited({ incident: '<script>' }).request.incident, undefined);
    assert.deepEqual(inputProblems('failover', { ...validInput(), incident: 'INC-4711' }), []);
    for (const bad of ['<script>', 'x'.repeat(65), 42, '', 'two words']) {
      const problems = inputProblems('failover', { ...validInput(), incident: bad });
      assert.equal(problems.length, 1, JSON.stringify(bad));
      assert.match(problems[0] ?? '', /^incident is .*expected a tracker id of at most 64/);
    }
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

  it('writes the reports asked for, history.json as given, signatures/ and SHA256SUMS that sha256sum -c accepts', async () => {
    const loaded = readHistoryFile(path.join(HISTORIES, 'short-outage.temporal-cli.json'));
    const r = report(loaded.history);
    const pkg = writeEvidencePackage({ report: r, historyJson: loaded.json, dir, formats: ['md', 'html'] });
    assert.deepEqual(readdirSync(dir).sort(), ['SHA256SUMS', 'history.json', 'report.html', 'report.md', 'signatures']);
    assert.deepEqual(readdirSync(path.join(dir, 'signatures')).sort(), [
      '01-start-sre-lead.sig',
      '01-start-sre-lead.statement',
      '02-regionRecovered-sre-lead.sig',
      '02-regionRecovered-sre-lead.statement',
      'VERIFY.md',
      'allowed_signers',
    ]);
    assert.equal(
      readFileSync(path.join(dir, 'history.json'), 'utf8'),
      readFileSync(path.join(HISTORIES, 'short-outage.temporal-cli.json'), 'utf8'),
    );
    const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8');
    assert.match(sums, /^([0-9a-f]{64} {2}(report\.md|report\.html|history\.json|signatures\/[\w.-]+)\n){9}$/);
    const { stdout } = await promisify(execFile)('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir });
    assert.equal(stdout.split('\n').filter((l) => l.endsWith(': OK')).length, 9, stdout);
    assert.equal(pkg.files.at(-1)?.name, 'SHA256SUMS');
    assert.equal(pkg.signatures, 2);
    const verify = readFileSync(path.join(dir, 'signatures', 'VERIFY.md'), 'utf8');
    assert.ok(
      verify.includes(
        'ssh-keygen -Y verify -f allowed_signers -I sre-lead -n geofailover -s 01-start-sre-lead.sig < 01-start-sre-lead.statement',
      ),
      verify,
    );
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
    assert.equal(
      defaultEvidenceDir('failover/leaderboard', '/base', '0197-abc'),
      path.join('/base', 'evidence', 'failover_leaderboard_0197-abc'),
      'one folder per run',
    );
    assert.equal(defaultEvidenceDir('x', '/base', '../..'), path.join('/base', 'evidence', 'x___..'));
  });

  it('never writes over another package: a folder that holds files is refused unless forced', async () => {
    const target = mkdtempSync(path.join(os.tmpdir(), 'geofailover-refuse-'));
    try {
      refuseNonEmptyDir(target);
      refuseNonEmptyDir(path.join(target, 'missing'));
      writeFileSync(path.join(target, 'report.html'), 'an earlier package');
      assert.throws(() => refuseNonEmptyDir(target), OutputDirError);
      refuseNonEmptyDir(target, true);
      const loaded = readHistoryFile(path.join(HISTORIES, 'short-outage.json'));
      await assert.rejects(
        auditHistory({ loaded, source: { kind: 'file', file: 'x' }, outDir: target, bundle: { code: '' } }),
        (e: Error) => e instanceof OutputDirError && /already holds files/.test(e.message),
        'refused before anything is replayed or written',
      );
      assert.equal(readFileSync(path.join(target, 'report.html'), 'utf8'), 'an earlier package');
    } finally {
      rmSync(target, { recursive: true, force: true });
    }
  });
});

// ---- signatures: the auditor's own check, and the package's signatures/ folder ----------------------------

type RawEvent = Record<string, any>;
const decode = (payload: { data: string }): any => JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
const encode = (payload: { data: string }, value: unknown): void =>
  void (payload.data = Buffer.from(JSON.stringify(value)).toString('base64'));
const ofType = (raw: { events: RawEvent[] }, type: string): RawEvent[] =>
  raw.events.filter((e) => e.eventType === `EVENT_TYPE_${type}`);
const fromRaw = (raw: unknown, name: string): EvidenceReport => report(parseHistoryJson(JSON.stringify(raw), name));

/** `ssh-keygen -Y verify` of one decision in a package's signatures/ folder, as VERIFY.md says. */
function sshKeygenVerify(dir: string, file: string, signer: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'ssh-keygen',
      ['-Y', 'verify', '-f', 'allowed_signers', '-I', signer, '-n', 'geofailover', '-s', `${file}.sig`],
      { cwd: path.join(dir, 'signatures'), stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
    child.stdin.end(readFileSync(path.join(dir, 'signatures', `${file}.statement`)));
  });
}

describe('signatures checked by the auditor', () => {
  const SCENARIOS = [
    'short-outage',
    'long-outage-unlink-rejoin',
    'rejected-unlink',
    'intervention-retry',
    'aborted',
    'rejoin-runbook',
  ];

  it('every accepted decision of every stored history verifies against the policy the history recorded', () => {
    for (const name of SCENARIOS) {
      const r = stored(name);
      const accepted = r.decisions.filter((d) => d.verdict === 'accepted');
      assert.ok(accepted.length > 0, name);
      for (const d of accepted) assert.equal(d.signature.verified, true, `${name} ${d.eventId}: ${d.signature.reason}`);
      assert.equal(r.signatures.length, accepted.length + 1, `${name}: the start and each accepted decision`);
      assert.ok(
        r.gates.every((g) => g.votes.every((v) => v.verified)),
        name,
      );
    }
  });

  it('a decision whose signature does not verify is refused, whatever the runbook answered', () => {
    const raw = rawHistory('long-outage-unlink-rejoin');
    const updates = ofType(raw, 'WORKFLOW_EXECUTION_UPDATE_ACCEPTED');
    const signal = ofType(raw, 'WORKFLOW_EXECUTION_SIGNALED').find(
      (e) =>
        e.workflowExecutionSignaledEventAttributes.signalName === 'approve' &&
        decode(e.workflowExecutionSignaledEventAttributes.input.payloads[0]).approver === 'sre-manager',
    );
    const stolen = decode(signal!.workflowExecutionSignaledEventAttributes.input.payloads[0]).proof.signature;
    const target = updates.find(
      (e) =>
        decode(e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads[0]).approver ===
        'data-owner',
    );
    const payload = target!.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads[0];
    const args = decode(payload);
    args.proof.signature = stolen; // sre-manager's signature under data-owner's statement
    encode(payload, args);

    const r = fromRaw(raw, 'forged');
    const d = r.decisions.find((x) => x.actor === 'data-owner');
    assert.equal(d?.verdict, 'refused');
    assert.equal(d?.runbookVerdict, 'accepted');
    assert.equal(d?.signature.verified, false);
    assert.match(d?.reason ?? '', /the runbook accepted it, but its signature does not verify/);
    assert.deepEqual(
      r.signatures.map((x) => x.file),
      ['01-start-sre-lead', '02-approve-sre-manager', '03-approve-sre-manager'],
      'only verified decisions go into signatures/',
    );
    assert.match(renderMarkdown(r), /NOT verified/);
  });

  it("the step log's word is not taken: a vote recorded for someone who did not sign it is not verified", () => {
    const raw = rawHistory('rejected-unlink');
    const done = ofType(raw, 'WORKFLOW_EXECUTION_COMPLETED')[0]!;
    const payload = done.workflowExecutionCompletedEventAttributes.result.payloads[0];
    const result = decode(payload);
    const gate = result.status.steps.find((s: any) => s.step === 'approval-unlink').gates[0];
    gate.votes[0].approver = 'sre-manager';
    gate.votes[0].fingerprint = 'SHA256:claimed-by-the-step-log';
    encode(payload, result);
    const vote = fromRaw(raw, 'edited').gates[0]?.votes[0];
    assert.equal(vote?.verified, false);
    assert.match(vote?.reason ?? '', /signed by data-owner, not sre-manager/);
    assert.notEqual(vote?.fingerprint, 'SHA256:claimed-by-the-step-log', "the auditor's fingerprint, not the log's");
  });

  it('keys the recorded policy does not list verify nothing, and its digest no longer matches', () => {
    const raw = rawHistory('aborted');
    const completed = ofType(raw, 'ACTIVITY_TASK_COMPLETED').find((e) => {
      const value = decode(e.activityTaskCompletedEventAttributes.result.payloads[0]);
      return value && value.found === true && value.policy;
    });
    const payload = completed!.activityTaskCompletedEventAttributes.result.payloads[0];
    const lookup = decode(payload);
    lookup.policy.people['sre-manager'] = [generateKeyPair('someone-else').publicKeyLine];
    encode(payload, lookup);
    const r = fromRaw(raw, 'other-keys');
    assert.equal(r.policy?.digestMatches, false);
    const abort = r.decisions.find((d) => d.name === 'abort');
    assert.equal(abort?.verdict, 'refused');
    assert.match(abort?.signature.reason ?? '', /not one of "sre-manager"'s keys/);
  });
});

describe('evidence package: ssh-keygen and audit --verify', () => {
  let base = '';
  let signed = '';
  let auditor: ReturnType<typeof readPrivateKey>;
  let trusted: { source: string; people: Record<string, string[]> };
  const fresh = (from: string, name: string): string => {
    const to = path.join(base, name);
    cpSync(from, to, { recursive: true });
    return to;
  };
  /** Rewrites the SHA256SUMS line of `file` after an edit, as someone covering their tracks would. */
  const resum = (dir: string, file: string): void => {
    const sums = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8');
    const hash = createHash('sha256')
      .update(readFileSync(path.join(dir, file)))
      .digest('hex');
    writeFileSync(
      path.join(dir, 'SHA256SUMS'),
      sums.replace(new RegExp(`^[0-9a-f]{64}  ${file.replace(/[.]/g, '\\.')}$`, 'm'), `${hash}  ${file}`),
    );
  };

  before(() => {
    base = mkdtempSync(path.join(os.tmpdir(), 'geofailover-verify-'));
    auditor = readPrivateKey(generateKeyPair('auditor@example').privateKeyPem);
    trusted = { source: 'the test auditors', people: { auditor: [auditor.publicKeyLine] } };
    const loaded = readHistoryFile(path.join(HISTORIES, 'long-outage-unlink-rejoin.json'));
    signed = path.join(base, 'signed');
    writeEvidencePackage({ report: report(loaded.history), historyJson: loaded.json, dir: signed, signKey: auditor });
  });
  after(() => rmSync(base, { recursive: true, force: true }));

  it('ssh-keygen -Y verify accepts every decision in signatures/, with the commands VERIFY.md gives', async () => {
    const files = readdirSync(path.join(signed, 'signatures'))
      .filter((f) => f.endsWith('.statement'))
      .map((f) => f.slice(0, -'.statement'.length));
    assert.equal(files.length, 4);
    const verifyMd = readFileSync(path.join(signed, 'signatures', 'VERIFY.md'), 'utf8');
    for (const file of files) {
      const signer = file.replace(/^\d+-[A-Za-z]+-/, '');
      assert.ok(verifyMd.includes(`-I ${signer} -n geofailover -s ${file}.sig < ${file}.statement`), file);
      const run = await sshKeygenVerify(signed, file, signer);
      assert.equal(run.code, 0, `${file}: ${run.out}`);
      assert.match(run.out, new RegExp(`Good "geofailover" signature for ${signer} with ED25519 key SHA256:`));
    }
  });

  it('passes an untouched signed package against trusted signers, and says so', () => {
    const v = verifyPackage({ dir: signed, trusted });
    assert.equal(v.verified, true, JSON.stringify(v.failures));
    assert.deepEqual(v.sumsSignature, {
      status: 'verified',
      signer: 'auditor',
      fingerprint: v.sumsSignature.status === 'verified' ? v.sumsSignature.fingerprint : '',
      trustedFrom: 'the test auditors',
    });
    assert.equal(v.sums.ok, v.sums.files);
    assert.equal(v.decisions.length, 4);
    assert.ok(v.decisions.every((d) => d.ok && d.fingerprint));
    assert.equal(v.report.status, 'matches', v.report.detail);
  });

  it('a signed package fails without a trust anchor, or against signers that do not list its key', () => {
    const none = verifyPackage({ dir: signed });
    assert.equal(none.verified, false);
    assert.match(none.failures[0]?.message ?? '', /no trusted signers .* own allowed_signers is no trust anchor/);
    // The package's own allowed_signers (the people of the policy) is not trusted for SHA256SUMS.sig.
    const people = parseAllowedSigners(readFileSync(path.join(signed, 'signatures', 'allowed_signers'), 'utf8')).people;
    const wrong = verifyPackage({ dir: signed, trusted: { source: 'the package itself', people } });
    assert.equal(wrong.verified, false);
    assert.match(
      wrong.failures[0]?.message ?? '',
      /SHA256SUMS\.sig is signed by key SHA256:\S+, which the package itself does not list/,
    );
  });

  it('an unsigned package verifies as unsigned', () => {
    const loaded = readHistoryFile(path.join(HISTORIES, 'intervention-retry.json'));
    const dir = path.join(base, 'unsigned');
    writeEvidencePackage({ report: report(loaded.history), historyJson: loaded.json, dir, formats: ['json'] });
    const v = verifyPackage({ dir });
    assert.equal(v.verified, true, JSON.stringify(v.failures));
    assert.deepEqual(v.sumsSignature, { status: 'unsigned' });
    assert.equal(v.report.status, 'matches');
    const required = verifyPackage({ dir, requireSignature: true });
    assert.equal(required.verified, false);
    assert.match(required.failures[0]?.message ?? '', /SHA256SUMS\.sig is missing: the package is unsigned/);
  });

  it('fails after history.json, report.json or a .statement is edited, naming the file', () => {
    const history = fresh(signed, 'edited-history');
    const text = readFileSync(path.join(history, 'history.json'), 'utf8');
    writeFileSync(
      path.join(history, 'history.json'),
      text.replace('mallory@geofailover-recorder', 'alice@geofailover-recorder'),
    );
    let v = verifyPackage({ dir: history, trusted });
    assert.equal(v.verified, false);
    assert.ok(
      v.failures.some(
        (f) => f.file === 'history.json' && /history\.json was changed after the package was written/.test(f.message),
      ),
    );

    const reportDir = fresh(signed, 'edited-report');
    const json = readFileSync(path.join(reportDir, 'report.json'), 'utf8');
    writeFileSync(path.join(reportDir, 'report.json'), json.replace('"verdict": "refused"', '"verdict": "accepted"'));
    v = verifyPackage({ dir: reportDir, trusted });
    assert.equal(v.verified, false);
    assert.ok(v.failures.some((f) => f.file === 'report.json' && /changed after/.test(f.message)));
    assert.ok(
      v.failures.some((f) =>
        /report\.json is not the report history\.json gives at decisions\[0\]\.verdict/.test(f.message),
      ),
      JSON.stringify(v.failures),
    );

    const statement = fresh(signed, 'edited-statement');
    const file = path.join(statement, 'signatures', '03-approve-data-owner.statement');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"comment":"agreed"', '"comment":"agreed, reluctantly"'));
    v = verifyPackage({ dir: statement, trusted });
    assert.equal(v.verified, false);
    assert.ok(v.failures.some((f) => f.file === 'signatures/03-approve-data-owner.statement'));
    assert.equal(v.decisions.find((d) => d.file === '03-approve-data-owner')?.ok, false);
  });

  it('an edited history with its checksum rewritten still fails: unsigned, the re-derived report differs', () => {
    const loaded = readHistoryFile(path.join(HISTORIES, 'long-outage-unlink-rejoin.json'));
    const dir = path.join(base, 'covered-tracks');
    writeEvidencePackage({ report: report(loaded.history), historyJson: loaded.json, dir });
    const text = readFileSync(path.join(dir, 'history.json'), 'utf8');
    writeFileSync(
      path.join(dir, 'history.json'),
      text.replace('mallory@geofailover-recorder', 'alice@geofailover-recorder'),
    );
    resum(dir, 'history.json');
    const v = verifyPackage({ dir });
    assert.equal(v.verified, false);
    assert.equal(v.sums.ok, v.sums.files, 'the sums were rewritten to match');
    assert.equal(v.report.status, 'differs');
    assert.match(
      v.failures.map((f) => f.message).join('\n'),
      /report\.json is not the report history\.json gives at decisions\[1\]\.identity: report\.json has "mallory@geofailover-recorder", history\.json gives "alice@geofailover-recorder"/,
    );

    // The same with the signed package: rewriting SHA256SUMS breaks its signature.
    const signedEdit = fresh(signed, 'covered-signed');
    writeFileSync(
      path.join(signedEdit, 'history.json'),
      text.replace('mallory@geofailover-recorder', 'alice@geofailover-recorder'),
    );
    resum(signedEdit, 'history.json');
    const s = verifyPackage({ dir: signedEdit, trusted });
    assert.equal(s.sumsSignature.status, 'failed');
    assert.ok(s.failures.some((f) => f.file === 'SHA256SUMS.sig'));
  });

  it('reads OpenSSH allowed_signers files, keeping only keys valid for the geofailover namespace', () => {
    const key = generateKeyPair('x').publicKeyLine.split(' ').slice(0, 2).join(' ');
    const parsed = parseAllowedSigners(
      [
        '# auditors',
        `alice,bob namespaces="geofailover,git" ${key} alice@laptop`,
        `carol namespaces="git" ${key}`,
        `dave cert-authority ${key}`,
        `erin ${key}`,
        'frank ssh-ed25519 not-base64',
      ].join('\n'),
    );
    assert.deepEqual(Object.keys(parsed.people).sort(), ['alice', 'bob', 'erin']);
    assert.equal(parsed.skipped.length, 3);
  });
});
