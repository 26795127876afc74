/**
 * summary.md and summary.html of the DR evidence package: the answer first ("was DR tested in the period, and did
 * it meet the target?"), then the runs (each linked to its own evidence package), every destructive ARM call with
 * its times, and the group snapshot. The HTML uses the run report's stylesheet and helpers, so both read alike.
 */
import { formatMs, formatTime } from '../report/format';
import { card, CSS, kv, statusBadge, table as htmlTable } from '../report/html';
import { esc } from '../report/html-parts';
import { md, table as mdTable } from '../report/markdown';
import { drEvidenceSchema, type DrEvidence, type DrRun, type DrSnapshotMember } from './schema';

/** The runs table's columns, in the Markdown and the HTML summary alike. */
const RUN_COLUMNS = [
  'Date',
  'Group',
  'Region',
  'Kind',
  'Outcome',
  'RTO against target',
  'Destructive steps',
  'Approved by',
  'Replay',
  'Evidence',
];

/** summary.json, checked against its published schema (schemas/dr-evidence.schema.json). */
export function renderSummaryJson(evidence: DrEvidence): string {
  return `${JSON.stringify(drEvidenceSchema.parse(evidence), null, 2)}\n`;
}

const day = (iso: string): string => iso.slice(0, 10);

export function rtoText(r: DrRun): string {
  const value = r.rto.ms === undefined ? 'not measured' : formatMs(r.rto.ms);
  if (r.rto.targetMs === undefined) return `${value} (no target)`;
  if (r.rto.met === undefined) return `${value}, target ${formatMs(r.rto.targetMs)}`;
  return `${value}, target ${formatMs(r.rto.targetMs)}: ${r.rto.met ? 'met' : 'MISSED'}`;
}

/** Where the run acted, as its report judges the ARM endpoint it recorded: production, or an emulator. */
export function armText(r: DrRun): string {
  return r.environment === 'production' ? 'production ARM' : r.environment === 'drill' ? 'emulated ARM' : 'ARM unknown';
}

export function destructiveText(r: DrRun): string {
  if (!r.destructive.exercised) return 'no';
  return `yes: ${[r.destructive.forceUnlink ? 'force-unlink' : '', r.destructive.rejoin ? 'rejoin' : '']
    .filter(Boolean)
    .join(', ')}`;
}

export function approvalsText(r: DrRun): string {
  const start = `started by ${r.requestedBy} (${r.requestSigned ? 'signed' : 'declared'})`;
  // A decision that answers no gate (regionRecovered, abort) has the gate '(none)': the decision says it all.
  const approvals = r.approvals.map(
    (a) => `${a.who} ${a.decision}${a.gate.startsWith('(') ? '' : ` ${a.gate}`} (${a.signed})`,
  );
  return [start, ...approvals].join('; ');
}

function answerLines(e: DrEvidence): string[] {
  return e.answer.groups.map(
    (g) =>
      `${g.group}: ${g.tested ? 'tested' : 'NOT tested'} (${g.rehearsals} rehearsal(s), ${g.drills} drill(s), ` +
      `${g.incidents} incident(s))${g.lastTest ? `, last test ${formatTime(g.lastTest)}` : ''}; RTO target ` +
      `${g.rtoTarget ?? 'not set'}: ${g.measured ? `met ${g.met} of ${g.measured}` : 'not measured'}; destructive ` +
      `steps ${g.destructiveExercised ? 'exercised' : 'not exercised'}`,
  );
}

function memberCells(m: DrSnapshotMember): string[] {
  if (!m.readable) return [m.region, m.databaseId, `not readable: ${m.error ?? 'no answer'}`];
  return [
    m.region,
    m.databaseId,
    [
      `nickname ${m.groupNickname ?? '-'}`,
      `SKU ${m.sku ?? '-'}${m.capacity !== undefined ? ` (capacity ${m.capacity})` : ''}`,
      `modules ${m.modules.map((x) => `${x.name}${x.args ? ` ${x.args}` : ''}`).join(', ') || 'none'}`,
      `eviction ${m.evictionPolicy ?? '-'}`,
      `clustering ${m.clusteringPolicy ?? '-'}`,
      `TLS: client protocol ${m.clientProtocol ?? '-'}, minimum ${m.minimumTlsVersion ?? '-'}`,
      `database ${m.provisioningState ?? '-'} / ${m.resourceState ?? '-'}`,
      `cluster ${m.clusterProvisioningState ?? '-'} / ${m.clusterResourceState ?? '-'}`,
      `linked: ${(m.linkedDatabases ?? []).map((l) => `${l.id} (${l.state})`).join(', ') || 'none'}`,
    ].join('; '),
  ];
}

const VERIFY_NOTE =
  "SHA256SUMS lists every file of this package, the runs' packages included (`sha256sum -c SHA256SUMS`); " +
  "SHA256SUMS.sig, when present, is the auditor's signature over it. `geofailover evidence --verify DIR` checks " +
  "all of it, each run's package (its report rebuilt from its history) and this summary rebuilt from the runs.";

/** summary.md */
export function renderSummaryMarkdown(e: DrEvidence): string {
  const lines: string[] = [
    `# DR evidence: ${md(e.period.label)}${e.group ? ` (group ${md(e.group)})` : ''}`,
    '',
    `**${md(e.answer.headline)}**`,
    '',
    ...answerLines(e).map((l) => `- ${md(l)}`),
    '',
    `Period ${md(formatTime(e.period.from))} to ${md(formatTime(e.period.to))}; ${e.runs.length} run(s); ` +
      `replay ${e.replayVerified ? 'verified for every run' : 'DIVERGED for at least one run'}; written ` +
      `${md(formatTime(e.generatedAt))} by geofailover ${md(e.generator.version)}.`,
    '',
    '## Runs',
    '',
  ];
  const rows = e.runs.map((r) => [
    md(day(r.startedAt)),
    md(r.group),
    md(r.region),
    md(`${r.kind} (${armText(r)})`),
    md(r.outcome),
    md(rtoText(r)),
    md(destructiveText(r)),
    md(approvalsText(r)),
    md(r.replay.verdict),
    r.package ? `[${md(r.package.dir)}](${r.package.dir}/report.md)` : '-',
  ]);
  lines.push(
    ...(rows.length ? mdTable(RUN_COLUMNS, rows) : ['No runbook ran in the period.']),
    '',
    '## Destructive ARM calls',
    '',
  );
  const calls = e.destructiveCalls.map((c) => [
    md(c.kind),
    md(c.group),
    md(c.databaseId ?? ''),
    md(formatTime(c.scheduledAt)),
    md(formatTime(c.startedAt)),
    md(formatTime(c.closedAt)),
    md(`${c.outcome}${c.called ? '' : ' (not called)'}`),
    md(`${c.workflowId} event ${c.eventId}${c.note ? `: ${c.note}` : ''}`),
  ]);
  lines.push(
    ...(calls.length
      ? mdTable(['Call', 'Group', 'Database', 'Scheduled', 'Started', 'Ended', 'Outcome', 'Run'], calls)
      : ['No destructive ARM call was made in the period.']),
    '',
    `## Group snapshot (${md(formatTime(e.snapshot.at))})`,
    '',
    `Status: **${md(e.snapshot.status)}**${e.snapshot.reason ? `: ${md(e.snapshot.reason)}` : ''}` +
      `${e.snapshot.armEndpoint ? ` (ARM at ${md(e.snapshot.armEndpoint)})` : ''}.`,
    '',
  );
  for (const g of e.snapshot.groups) {
    lines.push(`### ${md(g.group)}`, '');
    lines.push(
      ...(g.members.length
        ? mdTable(
            ['Region', 'Database', 'As ARM shows it'],
            g.members.map((m) => memberCells(m).map(md)),
          )
        : ['Not read.']),
      '',
    );
  }
  lines.push('## Checking this package', '', VERIFY_NOTE, '');
  return lines.join('\n');
}

/** summary.html: one self-contained page in the run report's style. */
export function renderSummaryHtml(e: DrEvidence): string {
  const a = e.answer;
  const body: string[] = [];
  const title = `DR evidence: ${e.period.label}${e.group ? ` (group ${e.group})` : ''}`;
  body.push(`<h1>${esc(title)}</h1>`);
  body.push(
    '<div class="cards">' +
      card(
        'tested',
        'DR tested in the period',
        statusBadge(a.tested ? 'yes' : 'no', a.tested ? 'succeeded' : 'failed'),
        esc(a.groups.map((g) => `${g.group}: ${g.tested ? 'tested' : 'not tested'}`).join('; ') || 'no group'),
        a.tested ? 'good' : 'bad',
      ) +
      card(
        'rto',
        'RTO against the target',
        a.rtoMet === undefined
          ? 'not measured'
          : statusBadge(a.rtoMet ? 'met' : 'missed', a.rtoMet ? 'succeeded' : 'failed'),
        esc(a.groups.map((g) => `${g.group}: ${g.measured ? `${g.met} of ${g.measured} met` : 'none'}`).join('; ')),
        a.rtoMet === undefined ? 'neutral' : a.rtoMet ? 'good' : 'bad',
      ) +
      card(
        'replay',
        'Replay',
        statusBadge(e.replayVerified ? 'verified' : 'diverged', e.replayVerified ? 'succeeded' : 'failed'),
        esc(`${e.runs.length} run(s) replayed against the current workflow code`),
        e.replayVerified ? 'good' : 'bad',
      ) +
      '</div>',
  );
  body.push(`<p id="headline"><strong>${esc(a.headline)}</strong></p>`);
  body.push(
    htmlTable(
      ['Group', 'Tested', 'Rehearsals', 'Drills', 'Incidents', 'Last test', 'RTO target', 'Met', 'Destructive'],
      a.groups.map((g) => [
        esc(g.group),
        statusBadge(g.tested ? 'tested' : 'not tested', g.tested ? 'succeeded' : 'failed'),
        String(g.rehearsals),
        String(g.drills),
        String(g.incidents),
        esc(formatTime(g.lastTest)),
        esc(g.rtoTarget ?? 'not set'),
        esc(g.measured ? `${g.met} of ${g.measured}` : 'not measured'),
        g.destructiveExercised ? 'exercised' : 'not exercised',
      ]),
    ),
  );
  body.push(
    kv([
      ['Period', esc(`${formatTime(e.period.from)} to ${formatTime(e.period.to)}`)],
      ['Runs', String(e.runs.length)],
      ['Written', esc(`${formatTime(e.generatedAt)} by geofailover ${e.generator.version}`)],
    ]),
  );
  body.push('<h2 id="runs">Runs</h2>');
  body.push(
    htmlTable(
      RUN_COLUMNS,
      e.runs.map((r) => [
        esc(day(r.startedAt)),
        esc(r.group),
        esc(r.region),
        `<strong>${esc(r.kind)}</strong> <span class="muted">${esc(armText(r))}</span>`,
        statusBadge(r.outcome, r.clean ? 'succeeded' : r.execution === 'running' ? 'running' : 'failed'),
        r.rto.met === undefined ? esc(rtoText(r)) : statusBadge(rtoText(r), r.rto.met ? 'succeeded' : 'failed'),
        esc(destructiveText(r)),
        esc(approvalsText(r)),
        statusBadge(r.replay.verdict, r.replay.verdict === 'verified' ? 'succeeded' : 'failed'),
        r.package ? `<a href="${esc(r.package.dir)}/report.html">${esc(r.package.dir)}</a>` : '—',
      ]),
    ) || '<p>No runbook ran in the period.</p>',
  );
  body.push('<h2 id="destructive">Destructive ARM calls</h2>');
  body.push(
    htmlTable(
      ['Call', 'Group', 'Database', 'Scheduled', 'Started', 'Ended', 'Outcome', 'Run'],
      e.destructiveCalls.map((c) => [
        `<strong>${esc(c.kind)}</strong>`,
        esc(c.group),
        `<span class="mono">${esc(c.databaseId ?? '')}</span>`,
        esc(formatTime(c.scheduledAt)),
        esc(formatTime(c.startedAt)),
        esc(formatTime(c.closedAt)),
        esc(`${c.outcome}${c.called ? '' : ' (not called)'}`),
        esc(`${c.workflowId} event ${c.eventId}${c.note ? `: ${c.note}` : ''}`),
      ]),
    ) || '<p>No destructive ARM call was made in the period.</p>',
  );
  body.push(`<h2 id="snapshot">Group snapshot <span class="muted">${esc(formatTime(e.snapshot.at))}</span></h2>`);
  body.push(
    `<p>Status: ${statusBadge(e.snapshot.status, e.snapshot.status === 'read' ? 'succeeded' : 'failed')}` +
      `${e.snapshot.reason ? ` ${esc(e.snapshot.reason)}` : ''}` +
      `${e.snapshot.armEndpoint ? ` <span class="muted">(ARM at ${esc(e.snapshot.armEndpoint)})</span>` : ''}</p>`,
  );
  for (const g of e.snapshot.groups) {
    body.push(`<h3>${esc(g.group)}</h3>`);
    body.push(
      htmlTable(
        ['Region', 'Database', 'As ARM shows it'],
        g.members.map((m) => {
          const [region, id, state] = memberCells(m).map(esc);
          return [region as string, `<span class="mono">${id}</span>`, state as string];
        }),
      ) || '<p>Not read.</p>',
    );
  }
  body.push(`<footer>${esc(VERIFY_NOTE)}</footer>`);
  return (
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    `<title>${esc(title)}</title><style>${CSS}</style></head>` +
    `<body><main>\n${body.filter(Boolean).join('\n')}\n</main></body></html>\n`
  );
}
