/**
 * report.html: one self-contained page (inline CSS and SVG, no scripts, no external assets) with the step
 * timeline drawn as a Gantt chart. Every piece of text from the history is escaped.
 */
import type { GroupDefinition } from '../../contract/runbook';
import {
  DECISION_COLUMNS,
  DECISIONS_NOTE,
  activitySummary,
  formatClock,
  formatDuration,
  formatFinalState,
  formatLinks,
  formatMemberState,
  formatMemory,
  formatMs,
  formatProbe,
  formatRequester,
  formatRto,
  formatSignature,
  formatSigner,
  formatTime,
  probeMatrix,
  policyPeople,
  probeRoundTitle,
  regionLabel,
  replaySentence,
  sshKeygenCommand,
  runsLine,
} from './format';
import { esc, STATUS_COLOURS, tag } from './html-parts';
import type { EvidenceReport, ReportMember } from './schema';
import { timelineSvg } from './timeline-svg';

export { esc };

const CSS = `
:root { color-scheme: light; --ink:#1d2327; --muted:#5f6b73; --line:#d8dee4; --bg:#ffffff; --panel:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); margin: 0; }
main { max-width: 1120px; margin: 0 auto; padding: 24px; }
h1 { font-size: 22px; margin: 0 0 12px; word-break: break-all; }
h2 { font-size: 18px; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0; }
.banner { padding: 12px 16px; border-radius: 6px; margin: 12px 0; border: 1px solid; }
.banner.verified { background: #e8f5e9; border-color: #81c784; }
.banner.diverged { background: #ffebee; border-color: #e57373; }
.banner.partial { background: #fff8e1; border-color: #ffd54f; }
.verdict { font-weight: 700; letter-spacing: .04em; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: var(--panel); font-weight: 600; }
table.kv th { width: 180px; }
td.num { text-align: right; white-space: nowrap; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.status { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff; font-size: 12px; }
.ok { background: #e8f5e9; } .bad { background: #ffebee; } .warn { background: #fff3e0; }
.muted { color: var(--muted); }
figure { margin: 8px 0 16px; overflow-x: auto; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--ink); }
.bar { width: 140px; height: 10px; background: var(--panel); border: 1px solid var(--line); display: inline-block; vertical-align: middle; }
.bar > span { display: block; height: 100%; }
details pre { background: var(--panel); padding: 8px; overflow-x: auto; font-size: 12px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
`;

function table(header: string[], rows: string[][], className?: string): string {
  if (!rows.length) return '';
  const head = `<tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>`;
  return `<table${className ? ` class="${className}"` : ''}><thead>${head}</thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function kv(rows: [string, string][]): string {
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table>`;
}

/** A coloured label; `colourOf` is a step status naming the colour (default: the label itself). */
function statusBadge(label: string, colourOf = label): string {
  return tag('span', { class: 'status', style: `background:${STATUS_COLOURS[colourOf] ?? '#607d8b'}` }, esc(label));
}

/** A verified / NOT verified badge with the reason as a tooltip. */
function signatureBadge(sig: { verified: boolean; reason?: string }): string {
  return (
    tag(
      'span',
      {
        class: 'status',
        style: `background:${STATUS_COLOURS[sig.verified ? 'succeeded' : 'failed']}`,
        title: sig.verified ? undefined : formatSignature(sig),
      },
      sig.verified ? 'verified' : 'NOT verified',
    ) + (sig.verified || !sig.reason ? '' : ` <span class="muted">${esc(sig.reason)}</span>`)
  );
}

function signaturesSection(report: EvidenceReport): string {
  const head = '<h2 id="signatures">Signatures</h2>';
  if (!report.signatures.length)
    return `${head}<p>No accepted decision carries a signature this audit could verify.</p>`;
  const first = report.signatures[0] as EvidenceReport['signatures'][number];
  return (
    head +
    '<p>Every accepted decision and the start request, each verified by this audit against the recorded policy. The ' +
    'package holds each as <code>signatures/NN-&lt;action&gt;-&lt;signer&gt;.statement</code> (the exact signed bytes) ' +
    'and <code>.sig</code>; check any of them without geofailover, inside <code>signatures/</code>:</p>' +
    `<pre class="mono">${esc(sshKeygenCommand(first.file, first.signer))}</pre>` +
    table(
      ['File', 'Action', 'Signer', 'Key fingerprint', 'At', 'Event'],
      report.signatures.map((x) => [
        `<span class="mono">${esc(x.file)}</span>`,
        esc(x.action),
        esc(x.signer),
        `<span class="mono">${esc(x.fingerprint)}</span>`,
        esc(x.at),
        String(x.eventId),
      ]),
    )
  );
}

// ---- sections ----------------------------------------------------------------------------------------

function memberTable(members: ReportMember[]): string {
  return table(
    ['Region', 'State', 'Linked databases', 'Read at'],
    members.map((m) => [esc(m.region), esc(formatMemberState(m)), esc(formatLinks(m)), esc(formatTime(m.at))]),
  );
}

function memoryBar(percent: number, grade: string): string {
  const colour = grade === 'critical' ? '#c62828' : grade === 'elevated' ? '#ef6c00' : '#2e7d32';
  return `<span class="bar"><span style="width:${Math.min(100, Math.max(0, percent))}%;background:${colour}"></span></span>`;
}

function configSection(report: EvidenceReport): string {
  const g = report.request.group as Partial<GroupDefinition>;
  const members = table(
    ['Member region', 'Database resource id', 'Traffic Manager endpoint', 'Probed from (address)'],
    Object.entries(g.members ?? {}).map(([region, id]) => [
      esc(region),
      `<span class="mono">${esc(id)}</span>`,
      esc(g.trafficManager?.endpoints?.[region]?.name ?? ''),
      esc(
        Object.entries(g.applicationRegions ?? {})
          .map(([app, addresses]) => `${app}: ${addresses[region] ?? '—'}`)
          .join('; '),
      ),
    ]),
  );
  const rows: [string, string][] = [];
  const add = (k: string, v: unknown): void => {
    if (v !== undefined && v !== '') rows.push([k, esc(v)]);
  };
  add('Group', g.name);
  add('Traffic Manager profile', g.trafficManager?.profileId);
  add('Commanders', g.commanders?.join(', '));
  add('Approvers', g.approvers?.join(', '));
  add(
    'Quorum',
    g.quorum && `unlink ${g.quorum.unlink}, rejoin ${g.quorum.rejoin}, intervention ${g.quorum.intervention}`,
  );
  add(
    'Memory thresholds',
    g.memoryThresholds &&
      `elevated ${g.memoryThresholds.elevatedPercent} %, critical ${g.memoryThresholds.criticalPercent} %`,
  );
  add('Rejoin method', g.rejoinMethod);
  add(
    'Durations',
    g.durations &&
      Object.entries(g.durations)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', '),
  );
  const policy = report.policy;
  const intro = policy
    ? `The group definition from the worker's own configuration, as its loadPolicy activity recorded it in the history ` +
      `(event ${policy.eventId}): this is what the runbook acted on. Policy digest <span class="mono">${esc(policy.digest)}</span> ` +
      `(${policy.digestMatches ? 'matches the recorded group and people' : '<strong>does not match</strong> the recorded group and people'}).`
    : 'The history records no policy of the worker (the run stopped before loadPolicy answered).';
  const people = policyPeople(report);
  const peopleTable = people.length
    ? '<h3>People and keys of the recorded policy</h3><p class="muted">Every signature in this report is checked against ' +
      'these keys (the package holds them as <code>signatures/allowed_signers</code>).</p>' +
      table(
        ['Person', 'Roles', 'Key fingerprints'],
        people.map((p) => [esc(p.person), esc(p.roles), `<span class="mono">${esc(p.fingerprints.join(', '))}</span>`]),
      )
    : '';
  return (
    `<h2 id="config">Config acted on</h2><p>${intro}</p>` +
    members +
    kv(rows) +
    peopleTable +
    `<details><summary>The group definition as JSON</summary><pre>${esc(JSON.stringify(report.request.group, null, 2))}</pre></details>`
  );
}

/** Renders report.html. */
export function renderHtml(report: EvidenceReport): string {
  const w = report.workflow;
  const verdict = report.replay.verdict;
  const body: string[] = [];
  body.push(`<h1>Evidence report: ${esc(w.workflowId)}</h1>`);
  body.push(
    `<div class="banner ${verdict}"><span class="verdict">REPLAY ${esc(verdict.toUpperCase())}</span>: ${esc(replaySentence(report))}</div>`,
  );
  if (report.partial)
    body.push(`<div class="banner partial"><strong>Partial report</strong>: ${esc(report.partialReason)}.</div>`);

  body.push('<h2 id="summary">Summary</h2>');
  body.push(
    kv([
      [
        'Workflow',
        `${esc(w.workflowId)} (${esc(w.workflowType)})${w.runId ? `, run <span class="mono">${esc(w.runId)}</span>` : ''}`,
      ],
      ['Outcome', `<strong>${esc(report.outcome.outcome ?? w.execution)}</strong>: ${esc(report.outcome.summary)}`],
      ['Requested by', esc(formatRequester(report))],
      ['Reason', esc(report.request.reason)],
      [regionLabel(report), esc(report.request.region)],
      ['Started', esc(formatTime(w.startedAt))],
      [
        'Closed',
        w.closedAt ? `${esc(formatTime(w.closedAt))} (after ${esc(formatDuration(w.durationMs))})` : 'still running',
      ],
      ['Measured RTO', esc(formatRto(report))],
      ['Final state', esc(formatFinalState(report))],
      ['Replay verdict', `<strong>${esc(verdict.toUpperCase())}</strong>`],
      ['History', `${w.historyEvents} events, last at ${esc(formatTime(w.lastEventAt))}`],
    ]),
  );
  if (w.closeReason) body.push(`<p>The workflow ${esc(w.execution)}: ${esc(w.closeReason)}.</p>`);

  body.push('<h2 id="timeline">Timeline</h2>');
  body.push(
    `<p class="muted">Each bar runs from the step's start to its end (dashed: still open); diamonds are decisions sent ` +
      `(green accepted, red refused); the red line is the measured RTO. Hover for details. Times are UTC on ${esc(w.startedAt.slice(0, 10))}.</p>`,
  );
  body.push(`<figure>${timelineSvg(report)}</figure>`);
  const t0 = Date.parse(w.startedAt);
  const offset = (iso?: string): string =>
    iso ? ` <span class="muted">+${esc(formatMs(Math.max(0, Date.parse(iso) - t0)))}</span>` : '';
  body.push(
    table(
      ['Step', 'Status', 'Start', 'End', 'Duration', 'Attempts', 'Actor', 'Outcome'],
      report.steps.map((s) => [
        `<strong>${esc(s.step)}</strong>`,
        statusBadge(s.status),
        s.startedAt ? `${esc(formatClock(s.startedAt))}${offset(s.startedAt)}` : '',
        s.endedAt ? `${esc(formatClock(s.endedAt))}${offset(s.endedAt)}` : '',
        esc(formatDuration(s.durationMs)),
        String(s.attempts),
        esc(s.actor ?? ''),
        esc(s.summary),
      ]),
    ),
  );

  body.push('<h2 id="approvals">Approvals and refused attempts</h2>');
  const approvalGates = report.gates.filter((g) => g.kind === 'approval');
  if (!report.gates.length) {
    body.push(
      `<p>${report.partial ? 'Gate records come with the runbook result; see every decision sent below.' : 'No approval gate was opened.'}</p>`,
    );
  }
  for (const g of approvalGates) {
    body.push(
      `<h3>Gate ${esc(g.gate)} <span class="muted">(step ${esc(g.step)})</span></h3>` +
        `<p>Requested ${esc(formatTime(g.requestedAt))}; quorum ${g.quorum} of ${esc(g.eligibleApprovers.join(', ') || 'nobody')}` +
        `${g.escalatedAt ? `; escalated ${esc(formatTime(g.escalatedAt))}` : ''}; outcome <strong>${esc(g.outcome ?? 'open')}</strong>` +
        `${g.decidedAt ? ` at ${esc(formatTime(g.decidedAt))}` : ''}.</p>`,
    );
    body.push(
      table(
        ['Approver', 'Decision', 'Via', 'At', 'Key fingerprint', 'Signature', 'Comment'],
        g.votes.map((v) => [
          esc(v.approver),
          esc(v.decision),
          esc(v.via),
          esc(v.at),
          `<span class="mono">${esc(v.fingerprint ?? '')}</span>`,
          signatureBadge(v),
          esc(v.comment ?? ''),
        ]),
      ) || '<p>No vote was accepted at this gate.</p>',
    );
  }
  body.push('<h3>Refused attempts</h3>');
  body.push(
    table(
      ['At', 'Step', 'By', 'Action', 'Via', 'Why refused'],
      report.refusedAttempts.map((r) => [esc(r.at), esc(r.step), esc(r.by), esc(r.action), esc(r.via), esc(r.reason)]),
    ) || `<p>${report.partial ? 'Listed with the runbook result; see the decisions below.' : 'None.'}</p>`,
  );
  body.push('<h3>Every decision sent (from history)</h3>');
  body.push(`<p class="muted">${esc(DECISIONS_NOTE)}</p>`);
  body.push(
    table(
      DECISION_COLUMNS,
      report.decisions.map((d) => [
        String(d.eventId),
        esc(d.at),
        esc(d.kind),
        esc(d.name),
        esc(formatSigner(d)),
        `<span class="mono">${esc(d.signature.fingerprint ?? '')}</span>`,
        signatureBadge(d.signature),
        `<span class="mono">${esc(d.identity ?? '')}</span>`,
        statusBadge(d.verdict, d.verdict === 'accepted' ? 'succeeded' : d.verdict === 'unknown' ? 'unknown' : 'failed'),
        esc(d.reason ?? d.detail ?? ''),
      ]),
    ) || '<p>No signal or update was sent.</p>',
  );

  body.push('<h2 id="interventions">Interventions</h2>');
  const interventions = report.gates.filter((g) => g.kind === 'intervention');
  if (!interventions.length)
    body.push(`<p>${report.partial ? 'Listed with the runbook result.' : 'No intervention gate was opened.'}</p>`);
  for (const g of interventions) {
    const failure = (g.request as { failure?: { type?: string; message?: string } } | undefined)?.failure;
    body.push(
      `<h3>${esc(g.gate)}</h3><p>Step ${esc(g.step)} failed after its retries${failure ? `: <strong>${esc(failure.type)}</strong>: ${esc(failure.message)}` : ''}. ` +
        `Gate opened ${esc(formatTime(g.requestedAt))}; outcome <strong>${esc(g.outcome ?? 'open')}</strong>${g.decidedAt ? ` at ${esc(formatTime(g.decidedAt))}` : ''}.</p>`,
    );
    body.push(
      table(
        ['Action', 'By', 'At', 'Key fingerprint', 'Signature', 'Comment'],
        (g.interventions ?? []).map((i) => [
          esc(i.action),
          esc(i.by),
          esc(i.at),
          `<span class="mono">${esc(i.fingerprint ?? '')}</span>`,
          signatureBadge(i),
          esc(i.comment ?? ''),
        ]),
      ),
    );
  }

  body.push('<h2 id="membership">Membership before and after</h2>');
  body.push(
    '<h3>Before (the membership step)</h3>',
    memberTable(report.membership.before) || '<p>No membership read in the history.</p>',
  );
  body.push(
    "<h3>After (each member's last read)</h3>",
    memberTable(report.membership.after) || '<p>No membership read in the history.</p>',
  );

  body.push('<h2 id="memory">Memory per survivor</h2>');
  body.push(
    table(
      ['Region', 'First', 'Peak', 'Last', 'Readings', 'Peak grade'],
      report.memory.map((m) => [
        esc(m.region),
        `${esc(formatMemory(m.first))} <span class="muted">${esc(formatClock(m.first.at))}</span>`,
        `${memoryBar(m.peak.percent, m.grade)} ${esc(formatMemory(m.peak))} <span class="muted">${esc(formatClock(m.peak.at))}</span>`,
        `${esc(formatMemory(m.last))} <span class="muted">${esc(formatClock(m.last.at))}</span>`,
        String(m.readings),
        statusBadge(m.grade, m.grade === 'ok' ? 'succeeded' : m.grade === 'elevated' ? 'waiting' : 'failed'),
      ]),
    ) || '<p>No memory reading in the history.</p>',
  );

  body.push('<h2 id="probes">Probe matrix</h2>');
  body.push(
    '<p class="muted">Rows: the application region probing; columns: the member probed (TCP, TLS, AUTH, PING through that region’s address).</p>',
  );
  if (!report.probes.length) body.push('<p>No probe ran.</p>');
  for (const round of report.probes) {
    const m = probeMatrix(round);
    body.push(`<h3>${esc(probeRoundTitle(round))} <span class="muted">${esc(formatTime(round.at))}</span></h3>`);
    body.push(
      table(
        ['Application region', ...m.columns.map(esc)],
        m.rows.map((row) => [
          esc(row),
          ...m.columns.map((c) => {
            const p = m.cell(row, c);
            if (!p) return '<span class="muted">—</span>';
            const cls = p.outcome === 'ok' ? 'ok' : p.outcome === 'not-run' ? 'warn' : 'bad';
            return `<span class="${cls}">${esc(formatProbe(p))}</span>${p.address ? ` <span class="muted mono">${esc(p.address)}</span>` : ''}`;
          }),
        ]),
      ),
    );
  }

  body.push('<h2 id="traffic">Traffic Manager before and after</h2>');
  const tm = report.traffic;
  if (tm.profileId) body.push(`<p>Profile <span class="mono">${esc(tm.profileId)}</span></p>`);
  const names = [...new Set([...(tm.before?.endpoints ?? []), ...(tm.after?.endpoints ?? [])].map((e) => e.name))];
  const state = (p: typeof tm.before, name: string): string => {
    const e = p?.endpoints.find((x) => x.name === name);
    return e ? `${e.endpointStatus}${e.endpointMonitorStatus ? ` (${e.endpointMonitorStatus})` : ''}` : '';
  };
  body.push(
    table(
      ['Endpoint', 'Before', 'After'],
      names.map((n) => [esc(n), esc(state(tm.before, n)), esc(state(tm.after, n))]),
    ) || '<p>Traffic Manager was not read or changed.</p>',
  );
  body.push(
    table(
      ['At', 'Endpoint', 'Set to', 'Changed', 'Serving after'],
      tm.changes.map((c) => [
        esc(c.at),
        esc(c.endpoint),
        esc(c.status),
        c.changed ? 'yes' : 'no (already so)',
        esc(c.serving.join(', ') || 'nothing'),
      ]),
    ),
  );

  body.push(configSection(report));
  body.push(signaturesSection(report));

  body.push('<h2 id="activities">Activities</h2>');
  body.push(
    `<p>${report.activities.length} activities in the history (report.json lists each). Earlier retry attempts of an ` +
      'activity leave no event; the attempt shown is the one that ended it.</p>',
  );
  body.push(
    table(
      ['Step', 'Activity', 'Count', 'Highest attempt', 'Failed', 'Pending'],
      activitySummary(report).map((a) => [
        esc(a.step),
        esc(a.type),
        String(a.count),
        String(a.maxAttempt),
        String(a.failed),
        String(a.pending),
      ]),
    ),
  );
  const failed = report.activities.filter((a) => a.outcome !== 'completed' && a.outcome !== 'pending');
  body.push(
    table(
      ['Scheduled', 'Activity', 'Step', 'Outcome', 'Failure'],
      failed.map((a) => [esc(a.scheduledAt), esc(a.type), esc(a.step ?? ''), esc(a.outcome), esc(a.failure ?? '')]),
    ),
  );

  body.push('<h2 id="replay">Replay verification</h2>');
  const mismatch = report.replay.mismatch;
  body.push(
    kv([
      ['Verdict', `<strong>${esc(verdict.toUpperCase())}</strong>`],
      ['Workflow type', esc(report.replay.workflowType)],
      ['Replayed against', esc(report.replay.against)],
      ['Checked', esc(formatTime(report.replay.checkedAt))],
      ...(report.replay.runs
        ? ([['Runs (continued as new)', esc(runsLine(report.replay.runs))]] as [string, string][])
        : []),
      ...(mismatch
        ? ([
            [
              'First mismatching event',
              esc(mismatch.eventId ? `${mismatch.eventId} (${mismatch.eventType ?? '?'})` : 'not named by the SDK'),
            ],
            ['Message', `<span class="mono">${esc(mismatch.message)}</span>`],
          ] as [string, string][])
        : []),
    ]),
  );

  body.push(
    `<footer>Built by geofailover ${esc(report.generator.version)} at ${esc(formatTime(report.generatedAt))} from the workflow's ` +
      `Temporal history only (${report.source.kind === 'file' ? `file ${esc(report.source.file ?? '')}` : `fetched from ${esc(report.source.address ?? 'Temporal')}`}), ` +
      'not from the live status query. history.json in this package is that history; SHA256SUMS covers every file ' +
      "(<code>sha256sum -c SHA256SUMS</code>; SHA256SUMS.sig, when present, is the auditor's signature over it); " +
      'signatures/VERIFY.md says how to check every decision with ssh-keygen; <code>geofailover audit --verify DIR</code> ' +
      'checks all of it and rebuilds this report from history.json.</footer>',
  );

  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>Evidence report: ${esc(w.workflowId)} (${esc(verdict)})</title><style>${CSS}</style></head>` +
    `<body><main>\n${body.filter(Boolean).join('\n')}\n</main></body></html>\n`
  );
}
