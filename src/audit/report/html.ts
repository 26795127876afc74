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
  formatRtoTarget,
  formatSignature,
  formatSigner,
  formatTime,
  probeMatrix,
  policyPeople,
  probeRoundTitle,
  modeLabel,
  outcomeWord,
  regionLabel,
  replayCodeLine,
  replaySentence,
  sshKeygenCommand,
  runsLine,
} from './format';
import { esc, STATUS_COLOURS, STATUS_ICONS, tag } from './html-parts';
import type { EvidenceReport, ReportGate, ReportMember } from './schema';
import { timelineSvg } from './timeline-svg';

export { esc };

/** The report's stylesheet; the DR evidence summary uses it too, so both read alike. */
export const CSS = `
:root { color-scheme: light; --ink:#1d2327; --muted:#5f6b73; --line:#d8dee4; --bg:#ffffff; --panel:#f6f8fa; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); margin: 0; }
main { max-width: 1120px; margin: 0 auto; padding: 16px 24px 24px; }
h1 { font-size: 20px; margin: 8px 0; overflow-wrap: anywhere; }
h2 { font-size: 18px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 20px 0 6px; }
p { margin: 6px 0; }
code, .mono { overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.banner { padding: 10px 14px; border-radius: 6px; margin: 10px 0; border: 2px solid; }
.banner.verified { background: #e8f5e9; border-color: #2e7d32; }
.banner.diverged { background: #ffebee; border-color: #b71c1c; }
.banner.partial { background: #fff8e1; border-color: #b26a00; }
.mode { padding: 6px 12px; border: 2px solid; border-radius: 6px; font-size: 13px; display: flex; flex-wrap: wrap; gap: 4px 12px; align-items: baseline; }
.mode strong { font-size: 18px; letter-spacing: .08em; }
.mode-drill { border-color: #0d47a1; background: #e3f2fd; color: #0d2e5c; }
.mode-production { border-color: #b71c1c; background: #ffebee; color: #5c0d0d; }
.mode-unknown { border-color: #37474f; background: #eceff1; color: #263238; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(230px, 1fr)); gap: 8px; margin: 10px 0; }
.card { border: 1px solid var(--line); border-left-width: 5px; border-radius: 6px; padding: 8px 10px; background: #fff; min-width: 0; }
.card .k { font-size: 12px; text-transform: uppercase; letter-spacing: .05em; color: var(--muted); }
.card .v { font-size: 17px; font-weight: 700; margin: 2px 0; overflow-wrap: anywhere; }
.card small { display: block; color: var(--muted); overflow-wrap: anywhere; }
.card.good { border-left-color: #2e7d32; } .card.bad { border-left-color: #b71c1c; } .card.neutral { border-left-color: #607d8b; }
.open-items { border: 2px solid #b71c1c; border-radius: 6px; background: #fff5f5; padding: 8px 14px; margin: 10px 0; }
.open-items h2 { margin: 0 0 4px; border: 0; font-size: 16px; color: #b71c1c; }
.open-items ul { margin: 4px 0; padding-left: 20px; }
.verdict { font-weight: 700; letter-spacing: .04em; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 6px 0 12px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; overflow-wrap: break-word; }
table.decisions td:nth-child(-n+5) { white-space: nowrap; }
table.decisions td:last-child { min-width: 16em; }
th { background: var(--panel); font-weight: 600; }
table.kv th { width: 180px; }
td.num { text-align: right; white-space: nowrap; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; word-break: break-all; }
.status { display: inline-block; padding: 0 6px; border: 1.5px solid currentColor; border-radius: 3px; font-size: 12px; font-weight: 600; white-space: nowrap; background: #fff; }
.s-succeeded { color: #1b5e20; background: #e8f5e9; } .s-failed { color: #b71c1c; background: #ffebee; }
.s-running { color: #0d47a1; background: #e3f2fd; } .s-waiting { color: #bf360c; background: #fff3e0; }
.s-skipped { color: #37474f; background: #eceff1; } .s-pending { color: #37474f; background: #fff; }
.s-unknown { color: #4a148c; background: #f3e5f5; }
.ok { background: #e8f5e9; } .bad { background: #ffebee; } .warn { background: #fff3e0; }
.muted { color: var(--muted); }
figure { margin: 8px 0 16px; }
svg.timeline { display: block; width: 100%; height: auto; max-width: 1060px; }
svg text { font: 11px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: var(--ink); }
.bar { width: 140px; height: 10px; background: var(--panel); border: 1px solid var(--line); display: inline-block; vertical-align: middle; }
.bar > span { display: block; height: 100%; }
details pre { background: var(--panel); padding: 8px; font-size: 12px; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; }
@media (max-width: 640px) {
  main { padding: 8px 10px 16px; }
  h1 { font-size: 17px; }
  table { font-size: 12px; }
  table.kv th { width: auto; }
  th, td { padding: 3px 5px; }
  .cards { grid-template-columns: 1fr; }
}
@page { size: A4; margin: 12mm; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 9.5pt; }
  main { max-width: none; padding: 0; }
  .table-wrap { overflow: visible; }
  table { font-size: 8pt; }
  th, td { padding: 2px 4px; }
  svg.timeline { max-width: 100%; }
  h2, h3 { break-after: avoid; }
  tr, .card, figure, .open-items { break-inside: avoid; }
  .cards { grid-template-columns: repeat(2, 1fr); }
}
`;

/** A table in its own scrolling box: a wide table never widens the page. */
export function table(header: string[], rows: string[][], className?: string): string {
  if (!rows.length) return '';
  const head = `<tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>`;
  return `<div class="table-wrap"><table${className ? ` class="${className}"` : ''}><thead>${head}</thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}

export function kv(rows: [string, string][]): string {
  return `<div class="table-wrap"><table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${v}</td></tr>`).join('')}</tbody></table></div>`;
}

/**
 * A status label with a border, a sign and the word (readable printed in black and white); `colourOf` is a step
 * status naming the style (default: the label itself).
 */
export function statusBadge(label: string, colourOf = label, title?: string): string {
  const key = STATUS_COLOURS[colourOf] ? colourOf : 'unknown';
  return tag('span', { class: `status s-${key}`, title }, `${STATUS_ICONS[key] ?? '?'} ${esc(label)}`);
}

/** A verified / NOT verified badge with the reason as a tooltip. */
function signatureBadge(sig: { verified: boolean; reason?: string }): string {
  return (
    statusBadge(
      sig.verified ? 'verified' : 'NOT verified',
      sig.verified ? 'succeeded' : 'failed',
      sig.verified ? undefined : formatSignature(sig),
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

// ---- the first screen: what an auditor signs off on -------------------------------------------------------

/** A gate's outcome as a badge: approved green, rejected/timed-out red, open orange. */
function gateOutcomeBadge(outcome: string | undefined): string {
  const o = outcome ?? 'open';
  const style =
    o === 'approved' || o === 'retry'
      ? 'succeeded'
      : o === 'open'
        ? 'waiting'
        : o === 'rejected' || o === 'timed-out' || o === 'aborted'
          ? 'failed'
          : 'skipped';
  return statusBadge(o, style);
}

/** What the approvers of a gate saw when they decided. */
function seenTable(g: ReportGate): string {
  const s = g.seen;
  const rows: [string, string][] = [];
  if (s.trigger) rows.push(['Trigger', esc(s.trigger)]);
  if (s.failure) rows.push(['Failure', esc(s.failure)]);
  if (s.outage) rows.push(['Outage so far', esc(s.outage)]);
  if (s.memoryTrend) rows.push(['Memory trend', esc(s.memoryTrend)]);
  if (s.blastRadius?.length) {
    rows.push(['Blast radius', `<ul>${s.blastRadius.map((l) => `<li>${esc(l)}</li>`).join('')}</ul>`]);
  }
  if (s.dataDiscarded) rows.push(['Data discarded', `<strong>${esc(s.dataDiscarded)}</strong>`]);
  return rows.length ? `<p class="muted">What the approvers saw:</p>${kv(rows)}` : '';
}

export function card(id: string, key: string, value: string, small: string, tone: 'good' | 'bad' | 'neutral'): string {
  return `<div class="card ${tone}" id="${id}"><div class="k">${esc(key)}</div><div class="v">${value}</div><small>${small}</small></div>`;
}

/**
 * The top of the page, fitting one screen: drill or production, outcome, incident, RTO against its target, the
 * replay verdict with the code it used, what the run left open, and every person's decision.
 */
function firstScreen(report: EvidenceReport): string {
  const w = report.workflow;
  const env = report.environment;
  const out: string[] = [];
  out.push(
    `<div class="mode mode-${env.mode}" id="mode-banner"><strong>${esc(modeLabel(report))}</strong>` +
      `<span>${esc(env.basis)}</span></div>`,
  );
  out.push(`<h1>Evidence report: ${esc(w.workflowId)}</h1>`);
  const verdict = report.replay.verdict;
  // A diverged replay is a finding about the evidence itself: it comes first.
  if (verdict === 'diverged') {
    out.push(
      `<div class="banner diverged"><span class="verdict">REPLAY DIVERGED</span>: ${esc(replaySentence(report))}</div>`,
    );
  }
  if (report.partial) {
    out.push(`<div class="banner partial"><strong>Partial report</strong>: ${esc(report.partialReason)}.</div>`);
  }
  const clean = report.outcome.clean;
  const outcome = outcomeWord(report);
  const g = report.request.group as { name?: string };
  const rto = formatRtoTarget(report);
  out.push(
    '<div class="cards">' +
      card(
        'outcome',
        'Outcome',
        statusBadge(outcome, clean ? 'succeeded' : w.execution === 'running' ? 'running' : 'failed'),
        esc(report.outcome.summary),
        clean ? 'good' : 'bad',
      ) +
      card(
        'incident',
        'Incident',
        esc(report.request.incident ?? 'no incident id'),
        esc(
          `group ${g.name ?? '?'}, ${regionLabel(report).toLowerCase()} ${report.request.region}; requested by ` +
            `${report.request.requestedBy}; started ${formatTime(w.startedAt)}`,
        ),
        'neutral',
      ) +
      card(
        'rto',
        'RTO (start → traffic rerouted)',
        `${esc(rto.value)}${rto.met === undefined ? '' : ` ${statusBadge(rto.met ? 'met' : 'missed', rto.met ? 'succeeded' : 'failed')}`}`,
        esc(rto.target),
        rto.met === undefined ? 'neutral' : rto.met ? 'good' : 'bad',
      ) +
      card(
        'replay-verdict',
        'Replay',
        statusBadge(verdict, verdict === 'verified' ? 'succeeded' : 'failed'),
        esc(`${verdict === 'verified' ? 'replays against' : 'does not replay against'} ${replayCodeLine(report)}`),
        verdict === 'verified' ? 'good' : 'bad',
      ) +
      '</div>',
  );
  if (report.openItems.length) {
    out.push(
      '<section class="open-items" id="open-items"><h2>Open items: the run did not end clean</h2><ul>' +
        report.openItems.map((i) => `<li>${esc(i)}</li>`).join('') +
        '</ul></section>',
    );
  }
  out.push('<h2 id="decisions">Decisions</h2>');
  out.push(
    table(
      ['Gate', 'Decision', 'Who', 'Signed or declared', 'When', 'What they saw'],
      report.decisionTable.map((d) => [
        esc(d.gate),
        `<strong>${esc(d.decision)}</strong>`,
        esc(d.who),
        statusBadge(d.signed, d.signed === 'signed' ? 'succeeded' : 'waiting', d.fingerprint),
        `${esc(formatClock(d.at))} <span class="muted">+${esc(formatMs(Math.max(0, Date.parse(d.at) - Date.parse(w.startedAt))))}</span>`,
        esc(d.saw),
      ]),
      'decisions',
    ),
  );
  return `<header class="first-screen">${out.join('\n')}</header>`;
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
  body.push(firstScreen(report));

  body.push('<h2 id="summary">Summary</h2>');
  body.push(
    kv([
      [
        'Workflow',
        `${esc(w.workflowId)} (${esc(w.workflowType)})${w.runId ? `, run <span class="mono">${esc(w.runId)}</span>` : ''}`,
      ],
      ['Outcome', `<strong>${esc(report.outcome.outcome ?? w.execution)}</strong>: ${esc(report.outcome.summary)}`],
      ['Environment', `<strong>${esc(modeLabel(report))}</strong>: ${esc(report.environment.basis)}`],
      ...(report.request.incident ? ([['Incident', esc(report.request.incident)]] as [string, string][]) : []),
      ['Requested by', esc(formatRequester(report))],
      ['Reason', esc(report.request.reason)],
      [regionLabel(report), esc(report.request.region)],
      ['Started', esc(formatTime(w.startedAt))],
      [
        'Closed',
        w.closedAt ? `${esc(formatTime(w.closedAt))} (after ${esc(formatDuration(w.durationMs))})` : 'still running',
      ],
      ['Measured RTO', esc(formatRto(report))],
      ['RTO target', esc(formatRtoTarget(report).target)],
      ['Final state', esc(formatFinalState(report))],
      ['Replay verdict', `<strong>${esc(verdict.toUpperCase())}</strong> (${esc(replayCodeLine(report))})`],
      ['History', `${w.historyEvents} events, last at ${esc(formatTime(w.lastEventAt))}`],
    ]),
  );
  if (w.closeReason) body.push(`<p>The workflow ${esc(w.execution)}: ${esc(w.closeReason)}.</p>`);

  body.push('<h2 id="timeline">Timeline</h2>');
  body.push(
    `<p class="muted">Each bar runs from the step's start to its end (dashed: still open); the gates row shows each ` +
      `gate from its opening to its decision (red hatched: rejected, timed out or aborted); each marker is a decision sent, ` +
      `its letter saying what (A approve, R reject, I intervene, U unlinkNow, H regionRecovered, X abort) and its shape ` +
      `the answer (filled circle accepted, crossed square refused); the red dashed line is the measured RTO. Hover for ` +
      `details. Times are UTC on ${esc(w.startedAt.slice(0, 10))}.</p>`,
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
        `${g.escalatedAt ? `; escalated ${esc(formatTime(g.escalatedAt))}` : ''}; outcome ${gateOutcomeBadge(g.outcome)}` +
        `${g.decidedAt ? ` at ${esc(formatTime(g.decidedAt))}` : ''}.</p>`,
    );
    body.push(seenTable(g));
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
        `Gate opened ${esc(formatTime(g.requestedAt))}; outcome ${gateOutcomeBadge(g.outcome)}${g.decidedAt ? ` at ${esc(formatTime(g.decidedAt))}` : ''}.</p>`,
    );
    body.push(seenTable(g));
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
