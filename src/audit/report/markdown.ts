/** report.md: the evidence report as Markdown, for a person who reads it instead of screenshots. */
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
import type { EvidenceReport, ReportGate, ReportMember } from './schema';

/** Escapes text for Markdown (inline and table cells): no markup, no HTML, one line. */
export function md(text: unknown): string {
  return String(text ?? '')
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*_[\]<>|~&#]/g, (c) => `\\${c}`);
}

export function table(header: string[], rows: string[][]): string[] {
  if (!rows.length) return [];
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** A fenced code block whose fence is longer than any backtick run inside. */
function codeBlock(language: string, text: string): string[] {
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((m) => m.length));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${language}`, text, fence];
}

function memberTable(members: ReportMember[]): string[] {
  return table(
    ['Region', 'State', 'Linked databases', 'Read at'],
    members.map((m) => [md(m.region), md(formatMemberState(m)), md(formatLinks(m)), md(formatTime(m.at))]),
  );
}

function configSection(report: EvidenceReport): string[] {
  const g = report.request.group as Partial<GroupDefinition>;
  const lines = [
    '## Config acted on',
    '',
    report.policy
      ? `The group definition from the worker's own configuration, as its loadPolicy activity recorded it in the history ` +
        `(event ${report.policy.eventId}): this is what the runbook acted on. Policy digest ${md(report.policy.digest)} ` +
        `(${report.policy.digestMatches ? 'matches the recorded group and people' : '**does not match** the recorded group and people'}).`
      : 'The history records no policy of the worker (the run stopped before loadPolicy answered).',
    '',
  ];
  lines.push(
    ...table(
      ['Member region', 'Database resource id', 'Traffic Manager endpoint'],
      Object.entries(g.members ?? {}).map(([region, id]) => [
        md(region),
        md(id),
        md(g.trafficManager?.endpoints?.[region]?.name ?? ''),
      ]),
    ),
  );
  lines.push('');
  const facts: [string, unknown][] = [
    ['Group', g.name],
    ['Traffic Manager profile', g.trafficManager?.profileId],
    ['Commanders', g.commanders?.join(', ')],
    ['Approvers', g.approvers?.join(', ')],
    [
      'Quorum',
      g.quorum && `unlink ${g.quorum.unlink}, rejoin ${g.quorum.rejoin}, intervention ${g.quorum.intervention}`,
    ],
    [
      'Memory thresholds',
      g.memoryThresholds &&
        `elevated ${g.memoryThresholds.elevatedPercent} %, critical ${g.memoryThresholds.criticalPercent} %`,
    ],
    ['Rejoin method', g.rejoinMethod],
    [
      'Durations',
      g.durations &&
        Object.entries(g.durations)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', '),
    ],
    ['Application regions', g.applicationRegions && Object.keys(g.applicationRegions).join(', ')],
  ];
  lines.push(
    ...table(
      ['Setting', 'Value'],
      facts.filter(([, v]) => v !== undefined).map(([k, v]) => [md(k), md(v)]),
    ),
  );
  lines.push('');
  const people = policyPeople(report);
  if (people.length) {
    lines.push(
      '### People and keys of the recorded policy',
      '',
      'Every signature in this report is checked against these keys (the package holds them as `signatures/allowed_signers`).',
      '',
      ...table(
        ['Person', 'Roles', 'Key fingerprints'],
        people.map((p) => [md(p.person), md(p.roles), md(p.fingerprints.join(', '))]),
      ),
      '',
    );
  }
  lines.push('<details><summary>The group definition as JSON</summary>', '');
  lines.push(...codeBlock('json', JSON.stringify(report.request.group, null, 2)));
  lines.push('', '</details>', '');
  return lines;
}

function signaturesSection(report: EvidenceReport): string[] {
  const lines = ['## Signatures', ''];
  if (!report.signatures.length) {
    lines.push('No accepted decision carries a signature this audit could verify.', '');
    return lines;
  }
  lines.push(
    'Every accepted decision and the start request, each verified by this audit against the recorded policy. ' +
      'The package holds each as `signatures/NN-<action>-<signer>.statement` (the exact signed bytes) and `.sig`; ' +
      'check any of them without geofailover, inside `signatures/`:',
    '',
  );
  const first = report.signatures[0] as EvidenceReport['signatures'][number];
  lines.push(...codeBlock('sh', sshKeygenCommand(first.file, first.signer)), '');
  lines.push(
    ...table(
      ['File', 'Action', 'Signer', 'Key fingerprint', 'At', 'Event'],
      report.signatures.map((x) => [
        md(x.file),
        md(x.action),
        md(x.signer),
        md(x.fingerprint),
        md(x.at),
        String(x.eventId),
      ]),
    ),
    '',
  );
  return lines;
}

/** What the approvers of a gate saw, as a list. */
function seenLines(g: ReportGate): string[] {
  const s = g.seen;
  const lines: string[] = [];
  if (s.trigger) lines.push(`- Trigger: ${md(s.trigger)}`);
  if (s.failure) lines.push(`- Failure: ${md(s.failure)}`);
  if (s.outage) lines.push(`- Outage so far: ${md(s.outage)}`);
  if (s.memoryTrend) lines.push(`- Memory trend: ${md(s.memoryTrend)}`);
  for (const b of s.blastRadius ?? []) lines.push(`- Blast radius: ${md(b)}`);
  if (s.dataDiscarded) lines.push(`- **Data discarded**: ${md(s.dataDiscarded)}`);
  return lines.length ? ['What the approvers saw:', '', ...lines, ''] : [];
}

/** Renders report.md. */
export function renderMarkdown(report: EvidenceReport): string {
  const w = report.workflow;
  const verdict = report.replay.verdict.toUpperCase();
  const out: string[] = [`# Evidence report: ${md(w.workflowId)}`, ''];
  // A diverged replay is a finding about the evidence itself: it comes first.
  if (report.replay.verdict === 'diverged') out.push(`> **Replay ${verdict}**: ${md(replaySentence(report))}`, '');
  out.push(`> **${modeLabel(report)}**: ${md(report.environment.basis)}`, '');
  if (report.partial) out.push(`> **Partial report**: ${md(report.partialReason)}.`, '');
  const rto = formatRtoTarget(report);
  const group = report.request.group as { name?: string };
  out.push(
    ...table(
      ['', ''],
      [
        [
          'Outcome',
          `**${md(outcomeWord(report))}**${report.outcome.clean ? '' : ' (did not end clean)'}: ${md(report.outcome.summary)}`,
        ],
        ['Incident', md(report.request.incident ?? 'no incident id')],
        [
          'Group and region',
          md(`group ${group.name ?? '?'}, ${regionLabel(report).toLowerCase()} ${report.request.region}`),
        ],
        ['RTO', `**${md(rto.value)}**, ${md(rto.target)}`],
        [
          'Replay',
          `**${verdict}**: ${report.replay.verdict === 'verified' ? 'replays against' : 'does not replay against'} ${md(replayCodeLine(report))}`,
        ],
      ],
    ),
    '',
  );
  if (report.openItems.length) {
    out.push('**Open items** (the run did not end clean):', '', ...report.openItems.map((i) => `- ${md(i)}`), '');
  }
  out.push('## Decisions', '');
  out.push(
    ...table(
      ['Gate', 'Decision', 'Who', 'Signed or declared', 'When', 'What they saw'],
      report.decisionTable.map((d) => [
        md(d.gate),
        `**${md(d.decision)}**`,
        md(d.who),
        d.signed === 'signed'
          ? `signed${d.fingerprint ? ` (${md(d.fingerprint)})` : ''}`
          : '**declared** (no verified signature)',
        `${md(formatClock(d.at))} (+${md(formatDuration(Math.max(0, Date.parse(d.at) - Date.parse(w.startedAt))))})`,
        md(d.saw),
      ]),
    ),
    '',
  );

  out.push('## Summary', '');
  out.push(
    ...table(
      ['', ''],
      [
        ['Workflow', `${md(w.workflowId)} (${md(w.workflowType)})${w.runId ? `, run ${md(w.runId)}` : ''}`],
        ['Outcome', `**${md(report.outcome.outcome ?? w.execution)}**: ${md(report.outcome.summary)}`],
        ['Requested by', md(formatRequester(report))],
        ['Reason', md(report.request.reason)],
        [regionLabel(report), md(report.request.region)],
        ['Group', md((report.request.group as { name?: string }).name ?? '')],
        ['Started', md(formatTime(w.startedAt))],
        [
          'Closed',
          w.closedAt ? `${md(formatTime(w.closedAt))} (after ${md(formatDuration(w.durationMs))})` : 'still running',
        ],
        ['Measured RTO', md(formatRto(report))],
        ['RTO target', md(rto.target)],
        ['Environment', `**${modeLabel(report)}**: ${md(report.environment.basis)}`],
        ['Final state', md(formatFinalState(report))],
        ['Replay verdict', `**${verdict}** (${md(replayCodeLine(report))})`],
        ['History', `${w.historyEvents} events, last at ${md(formatTime(w.lastEventAt))}`],
      ],
    ),
    '',
  );
  if (w.closeReason) out.push(`The workflow ${md(w.execution)}: ${md(w.closeReason)}.`, '');

  out.push('## Timeline', '');
  out.push(`Times are UTC on ${w.startedAt.slice(0, 10)}; "+" is the time since the runbook started.`, '');
  const t0 = Date.parse(w.startedAt);
  const offset = (iso?: string): string => (iso ? `+${formatDuration(Math.max(0, Date.parse(iso) - t0))}` : '');
  out.push(
    ...table(
      ['Step', 'Status', 'Start', 'End', 'Duration', 'Attempts', 'Actor', 'Outcome'],
      report.steps.map((s) => [
        `**${md(s.step)}**`,
        md(s.status),
        s.startedAt ? `${md(formatClock(s.startedAt))} (${md(offset(s.startedAt))})` : '',
        s.endedAt ? `${md(formatClock(s.endedAt))} (${md(offset(s.endedAt))})` : '',
        md(formatDuration(s.durationMs)),
        String(s.attempts),
        md(s.actor ?? ''),
        md(s.summary),
      ]),
    ),
    '',
  );
  if (report.phases.length) {
    out.push(`Phases: ${report.phases.map((p) => `${md(p.phase)} ${md(formatClock(p.at))}`).join(' → ')}`, '');
  }

  out.push('## Approvals and refused attempts', '');
  const approvalGates = report.gates.filter((g) => g.kind === 'approval');
  if (!report.gates.length) {
    out.push(
      report.partial
        ? 'Gate records come with the runbook result; see every decision sent below.'
        : 'No approval gate was opened.',
      '',
    );
  }
  for (const g of approvalGates) {
    out.push(
      `### Gate ${md(g.gate)} (step ${md(g.step)})`,
      '',
      `Requested ${md(formatTime(g.requestedAt))}; quorum ${g.quorum} of ${md(g.eligibleApprovers.join(', ') || 'nobody')}` +
        `${g.escalatedAt ? `; escalated ${md(formatTime(g.escalatedAt))}` : ''}; ` +
        `outcome **${md(g.outcome ?? 'open')}**${g.decidedAt ? ` at ${md(formatTime(g.decidedAt))}` : ''}.`,
      '',
      ...seenLines(g),
    );
    out.push(
      ...table(
        ['Approver', 'Decision', 'Via', 'At', 'Key fingerprint', 'Signature', 'Comment'],
        g.votes.map((v) => [
          md(v.approver),
          md(v.decision),
          md(v.via),
          md(v.at),
          md(v.fingerprint ?? ''),
          `**${md(formatSignature(v))}**`,
          md(v.comment ?? ''),
        ]),
      ),
    );
    if (!g.votes.length) out.push('No vote was accepted at this gate.');
    out.push('');
  }
  out.push('### Refused attempts', '');
  if (report.refusedAttempts.length) {
    out.push(
      ...table(
        ['At', 'Step', 'By', 'Action', 'Via', 'Why refused'],
        report.refusedAttempts.map((r) => [md(r.at), md(r.step), md(r.by), md(r.action), md(r.via), md(r.reason)]),
      ),
      '',
    );
  } else
    out.push(report.partial ? 'Refusals are listed with the runbook result; see the decisions below.' : 'None.', '');
  out.push('### Every decision sent (from history)', '');
  out.push(DECISIONS_NOTE, '');
  out.push(
    ...table(
      DECISION_COLUMNS,
      report.decisions.map((d) => [
        String(d.eventId),
        md(d.at),
        md(d.kind),
        md(d.name),
        md(formatSigner(d)),
        md(d.signature.fingerprint ?? ''),
        md(formatSignature(d.signature)),
        md(d.identity ?? ''),
        `**${md(d.verdict)}**`,
        md(d.reason ?? d.detail ?? ''),
      ]),
    ),
  );
  if (!report.decisions.length) out.push('No signal or update was sent.');
  out.push('');

  out.push('## Interventions', '');
  const interventions = report.gates.filter((g) => g.kind === 'intervention');
  if (!interventions.length)
    out.push(report.partial ? 'Listed with the runbook result.' : 'No intervention gate was opened.', '');
  for (const g of interventions) {
    const failure = (g.request as { failure?: { type?: string; message?: string } } | undefined)?.failure;
    out.push(
      `### ${md(g.gate)}`,
      '',
      `Step ${md(g.step)} failed after its retries${failure ? `: ${md(failure.type)}: ${md(failure.message)}` : ''}. ` +
        `Gate opened ${md(formatTime(g.requestedAt))}; outcome **${md(g.outcome ?? 'open')}**${g.decidedAt ? ` at ${md(formatTime(g.decidedAt))}` : ''}.`,
      '',
      ...seenLines(g),
      ...table(
        ['Action', 'By', 'At', 'Key fingerprint', 'Signature', 'Comment'],
        (g.interventions ?? []).map((i) => [
          md(i.action),
          md(i.by),
          md(i.at),
          md(i.fingerprint ?? ''),
          `**${i.verified ? 'verified' : 'NOT verified'}**`,
          md(i.comment ?? ''),
        ]),
      ),
      '',
    );
  }

  out.push('## Membership before and after', '');
  out.push('### Before (the membership step)', '', ...memberTable(report.membership.before), '');
  if (!report.membership.before.length) out.push('No membership read in the history.', '');
  out.push("### After (each member's last read)", '', ...memberTable(report.membership.after), '');

  out.push('## Memory per survivor', '');
  out.push(
    ...table(
      ['Region', 'First', 'Peak', 'Last', 'Readings', 'Peak grade'],
      report.memory.map((m) => [
        md(m.region),
        `${md(formatMemory(m.first))} at ${md(formatClock(m.first.at))}`,
        `${md(formatMemory(m.peak))} at ${md(formatClock(m.peak.at))}`,
        `${md(formatMemory(m.last))} at ${md(formatClock(m.last.at))}`,
        String(m.readings),
        `**${md(m.grade)}**`,
      ]),
    ),
  );
  if (!report.memory.length) out.push('No memory reading in the history.');
  out.push('');

  out.push('## Probe matrix', '');
  out.push(
    'Rows: the application region probing; columns: the member probed (TCP, TLS, AUTH, PING through that region’s address).',
    '',
  );
  if (!report.probes.length) out.push('No probe ran.', '');
  for (const round of report.probes) {
    const m = probeMatrix(round);
    out.push(`### ${md(probeRoundTitle(round))} (${md(formatTime(round.at))})`, '');
    out.push(
      ...table(
        ['Application region', ...m.columns.map(md)],
        m.rows.map((row) => [
          md(row),
          ...m.columns.map((c) => {
            const probe = m.cell(row, c);
            return probe ? md(formatProbe(probe)) : '—';
          }),
        ]),
      ),
      '',
    );
  }

  out.push('## Traffic Manager before and after', '');
  const tm = report.traffic;
  if (tm.profileId) out.push(`Profile ${md(tm.profileId)}.`, '');
  const names = [...new Set([...(tm.before?.endpoints ?? []), ...(tm.after?.endpoints ?? [])].map((e) => e.name))];
  const state = (p: typeof tm.before, name: string): string => {
    const e = p?.endpoints.find((x) => x.name === name);
    return e ? `${e.endpointStatus}${e.endpointMonitorStatus ? ` (${e.endpointMonitorStatus})` : ''}` : '';
  };
  out.push(
    ...table(
      ['Endpoint', 'Before', 'After'],
      names.map((n) => [md(n), md(state(tm.before, n)), md(state(tm.after, n))]),
    ),
  );
  if (!names.length) out.push('Traffic Manager was not read or changed.');
  out.push('');
  if (tm.changes.length) {
    out.push(
      ...table(
        ['At', 'Endpoint', 'Set to', 'Changed', 'Serving after'],
        tm.changes.map((c) => [
          md(c.at),
          md(c.endpoint),
          md(c.status),
          c.changed ? 'yes' : 'no (already so)',
          md(c.serving.join(', ') || 'nothing'),
        ]),
      ),
      '',
    );
  }

  out.push(...configSection(report));
  out.push(...signaturesSection(report));

  out.push('## Activities', '');
  out.push(
    `${report.activities.length} activities in the history (report.json lists each with its events). ` +
      'Earlier retry attempts of an activity leave no event; the attempt shown is the one that ended it.',
    '',
  );
  out.push(
    ...table(
      ['Step', 'Activity', 'Count', 'Highest attempt', 'Failed', 'Pending'],
      activitySummary(report).map((a) => [
        md(a.step),
        md(a.type),
        String(a.count),
        String(a.maxAttempt),
        String(a.failed),
        String(a.pending),
      ]),
    ),
    '',
  );
  const failed = report.activities.filter((a) => a.outcome !== 'completed' && a.outcome !== 'pending');
  if (failed.length) {
    out.push(
      ...table(
        ['Scheduled', 'Activity', 'Step', 'Outcome', 'Failure'],
        failed.map((a) => [md(a.scheduledAt), md(a.type), md(a.step ?? ''), md(a.outcome), md(a.failure ?? '')]),
      ),
      '',
    );
  }

  out.push('## Replay verification', '');
  out.push(
    ...table(
      ['', ''],
      [
        ['Verdict', `**${verdict}**`],
        ['Workflow type', md(report.replay.workflowType)],
        ['Replayed against', md(report.replay.against)],
        ['Checked', md(formatTime(report.replay.checkedAt))],
        ...(report.replay.runs ? [['Runs (continued as new)', md(runsLine(report.replay.runs))]] : []),
        ...(report.replay.mismatch
          ? [
              [
                'First mismatching event',
                md(
                  report.replay.mismatch.eventId
                    ? `${report.replay.mismatch.eventId} (${report.replay.mismatch.eventType ?? '?'})`
                    : 'not named by the SDK',
                ),
              ],
              ['Message', md(report.replay.mismatch.message)],
            ]
          : []),
      ],
    ),
    '',
  );

  out.push('## About this report', '');
  out.push(
    `Built by geofailover ${md(report.generator.version)} at ${md(formatTime(report.generatedAt))} from the workflow's ` +
      `Temporal history only (${report.source.kind === 'file' ? `file ${md(report.source.file ?? '')}` : `fetched from ${md(report.source.address ?? 'Temporal')}`}), ` +
      'not from the live status query. history.json in this package is that history; SHA256SUMS covers every file ' +
      "(check with `sha256sum -c SHA256SUMS`; SHA256SUMS.sig, when present, is the auditor's signature over it); " +
      'signatures/VERIFY.md says how to check every decision with ssh-keygen; `geofailover audit --verify DIR` checks ' +
      'all of it and rebuilds this report from history.json.',
    '',
  );
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
