/** Small formatting helpers shared by the Markdown and HTML renderers of the evidence report. */
import { formatMs } from '../../contract/durations';
import type { EvidenceReport, ReportMember, ReportProbe, ReportProbeRound } from './schema';

export { formatMs };

/** '2026-11-26 10:03:22.709 UTC' */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/** '10:03:22.709' (the date is given once, in the summary) */
export function formatClock(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(11, 23);
}

export function formatDuration(ms: number | undefined): string {
  return ms === undefined ? '' : formatMs(ms);
}

/** '95 % (95.0 MB of 100.0 MB)' */
export function formatMemory(r: { percent: number; usedBytes?: number; maxBytes?: number }): string {
  const mb = (b: number): string => `${(b / 1_000_000).toFixed(1)} MB`;
  const bytes = r.usedBytes !== undefined && r.maxBytes ? ` (${mb(r.usedBytes)} of ${mb(r.maxBytes)})` : '';
  return `${r.percent} %${bytes}`;
}

/** One probe as a matrix cell: 'ok, 2 ms', 'refused at TCP', 'not-run: no probe worker ...'. */
export function formatProbe(p: ReportProbe): string {
  if (p.outcome === 'ok') return `ok${p.latencyMs !== undefined ? `, ${p.latencyMs} ms` : ''}`;
  const stage = p.failedStage ? ` at ${p.failedStage.toUpperCase()}` : '';
  return `${p.outcome}${stage}${p.error ? `: ${p.error}` : ''}`;
}

/** The application regions (rows) and member regions (columns) of a probe round, in first-seen order. */
export function probeMatrix(round: ReportProbeRound): {
  rows: string[];
  columns: string[];
  cell: (row: string, column: string) => ReportProbe | undefined;
} {
  const rows = [...new Set(round.results.map((r) => r.applicationRegion))];
  const columns = [...new Set(round.results.map((r) => r.memberRegion))];
  return {
    rows,
    columns,
    cell: (row, column) => round.results.find((r) => r.applicationRegion === row && r.memberRegion === column),
  };
}

export function probeRoundTitle(round: ReportProbeRound): string {
  if (round.step === 'firewall') return 'firewall: application regions → survivors, before traffic moved';
  if (round.step === 'await-recovery') return 'await-recovery: application regions → failed member, a recovery check';
  if (round.step === 'traffic-failback')
    return 'traffic-failback: application regions → recovered member, before failback';
  return 'probes';
}

/** 'Linked: westeurope, southeastasia; LinkFailed: eastus' */
export function formatLinks(m: ReportMember): string {
  if (!m.linkedDatabases?.length) return m.reachable ? '(lists no linked databases)' : '';
  const byState = new Map<string, string[]>();
  for (const l of m.linkedDatabases) byState.set(l.state, [...(byState.get(l.state) ?? []), l.region ?? l.id]);
  return [...byState.entries()].map(([state, regions]) => `${state}: ${regions.join(', ')}`).join('; ');
}

export function formatMemberState(m: ReportMember): string {
  if (!m.reachable) return `unreachable${m.error ? ` (${m.error})` : ''}`;
  return [m.provisioningState, m.resourceState].filter(Boolean).join(' / ') || 'reachable';
}

/** The verdict in one sentence. */
/** The runs of an incident that continued as new, one line: "3 runs: 1 abc… (64 events, verified), ...". */
export function runsLine(runs: NonNullable<EvidenceReport['replay']['runs']>): string {
  return `${runs.length} runs: ${runs.map((r) => `${r.run} ${r.runId} (${r.events} events, ${r.verdict})`).join('; ')}`;
}

export function replaySentence(report: EvidenceReport): string {
  const r = report.replay;
  if (r.verdict === 'verified') {
    const runs = r.runs ? `, over ${r.runs.length} runs each replayed on its own` : '';
    return (
      `the recorded history (${report.workflow.historyEvents} events${runs}) replays against ${r.against}: ` +
      `the code would make exactly the decisions recorded (checked ${formatTime(r.checkedAt)}, ${formatMs(r.durationMs)}).`
    );
  }
  const at = r.mismatch?.eventId
    ? ` at event ${r.mismatch.eventId}${r.mismatch.eventType ? ` (${r.mismatch.eventType})` : ''}`
    : '';
  return (
    `the recorded history does not replay against ${r.against}${at}: ${r.mismatch?.message ?? 'replay failed'} ` +
    `(checked ${formatTime(r.checkedAt)}). The code changed in a way that is not compatible with this history.`
  );
}

/** Who started it: the signed request as the auditor checked it, and the self-declared Temporal identity. */
export function formatRequester(report: EvidenceReport): string {
  const sig = report.request.signature;
  const signed = sig.verified
    ? `signed start verified, key ${sig.fingerprint ?? '?'}`
    : `signed start NOT verified: ${sig.reason ?? 'no valid proof'}`;
  const identity = report.workflow.startedByIdentity;
  return `${report.request.requestedBy} (${signed})${identity ? `; Temporal identity ${identity} (self-declared)` : ''}`;
}

/** A signature as a table cell: 'verified', or 'NOT verified: why'. */
export function formatSignature(sig: { verified: boolean; reason?: string }): string {
  return sig.verified ? 'verified' : `NOT verified${sig.reason ? `: ${sig.reason}` : ''}`;
}

/** Who signed a decision: the verified signer, else the name the statement or payload claims, marked so. */
export function formatSigner(d: { actor?: string; signature: { verified: boolean; signer?: string } }): string {
  if (d.signature.verified && d.signature.signer) return d.signature.signer;
  const claimed = d.signature.signer ?? d.actor;
  return claimed ? `${claimed} (claimed, not verified)` : '';
}

/** The people of the recorded policy with their roles in the group and their key fingerprints. */
export function policyPeople(report: EvidenceReport): { person: string; roles: string; fingerprints: string[] }[] {
  const g = report.request.group as { commanders?: string[]; approvers?: string[] };
  return Object.entries(report.policy?.fingerprints ?? {}).map(([person, fingerprints]) => ({
    person,
    roles:
      [g.commanders?.includes(person) ? 'commander' : '', g.approvers?.includes(person) ? 'approver' : '']
        .filter(Boolean)
        .join(', ') || 'none',
    fingerprints,
  }));
}

/** The command that checks one decision of the package's signatures/ folder, run inside that folder. */
export function sshKeygenCommand(file: string, signer: string): string {
  return `ssh-keygen -Y verify -f allowed_signers -I ${signer} -n geofailover -s ${file}.sig < ${file}.statement`;
}

export function formatRto(report: EvidenceReport): string {
  const { rtoMs, rtoSource } = report.outcome;
  if (rtoMs === undefined) return 'not measured (traffic was not rerouted)';
  return `${formatMs(rtoMs)} (start → traffic rerouted${rtoSource === 'history-events' ? ', from history event times' : ''})`;
}

export function formatFinalState(report: EvidenceReport): string {
  const f = report.finalState;
  const parts = [`execution ${f.execution}`];
  if (f.outcome) parts.push(`outcome ${f.outcome}`);
  if (f.phase) parts.push(`phase ${f.phase}`);
  if (f.servingEndpoints) parts.push(`Traffic Manager serves ${f.servingEndpoints.join(', ') || 'nothing'}`);
  if (f.membersListing) {
    parts.push(
      `links: ${f.membersListing.map((m) => `${m.region} lists ${m.lists.join(', ') || 'nothing'}`).join('; ')}`,
    );
  }
  return parts.join('; ');
}

/** Activities grouped by (step, type): how many, the highest attempt, the failures. */
export function activitySummary(
  report: EvidenceReport,
): { step: string; type: string; count: number; maxAttempt: number; failed: number; pending: number }[] {
  const groups = new Map<
    string,
    { step: string; type: string; count: number; maxAttempt: number; failed: number; pending: number }
  >();
  for (const a of report.activities) {
    const key = `${a.step ?? '?'}|${a.type}`;
    const g = groups.get(key) ?? {
      step: a.step ?? '(unknown)',
      type: a.type,
      count: 0,
      maxAttempt: 0,
      failed: 0,
      pending: 0,
    };
    g.count += 1;
    g.maxAttempt = Math.max(g.maxAttempt, a.attempt ?? 0);
    if (a.outcome === 'pending') g.pending += 1;
    else if (a.outcome !== 'completed') g.failed += 1;
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** The region label of the report's region: 'Failed region' or 'Rejoining region'. */
export function regionLabel(report: EvidenceReport): string {
  return report.request.regionRole === 'failed' ? 'Failed region' : 'Rejoining region';
}

/** What the decisions table shows and why, the same in every report format. */
export const DECISIONS_NOTE =
  'Each signal and accepted update in the history. "Signed by" and "Signature" are this audit\'s own check of ' +
  "the decision's proof against the recorded policy's keys; a decision whose signature does not verify is " +
  'refused here, whatever the runbook answered. The Temporal identity is self-declared by the sending client ' +
  '(anyone can set any identity): it is shown, not trusted. An update its validator rejected leaves no event: ' +
  'it never reached the runbook.';

export const DECISION_COLUMNS = [
  'Event',
  'At',
  'Kind',
  'Name',
  'Signed by',
  'Key fingerprint',
  'Signature',
  'Temporal identity (self-declared)',
  'Verdict',
  'Reason or effect',
];

/** 'DRILL', 'PRODUCTION' or 'ENVIRONMENT UNKNOWN', for the banner at the top of the report. */
export function modeLabel(report: EvidenceReport): string {
  const mode = report.environment.mode;
  return mode === 'unknown' ? 'ENVIRONMENT UNKNOWN' : mode.toUpperCase();
}

/** The RTO against its target: '251 ms, target 5 min: met', 'not measured …; target 5 min'. */
export function formatRtoTarget(report: EvidenceReport): { value: string; target: string; met?: boolean } {
  const o = report.outcome;
  const value = o.rtoMs === undefined ? 'not measured' : formatMs(o.rtoMs);
  if (o.rtoTargetMs === undefined) return { value, target: 'no target set (durations.rtoTarget in the configuration)' };
  const target = `target ${formatMs(o.rtoTargetMs)}`;
  if (o.rtoMet === undefined) return { value, target: `${target}; traffic was not rerouted` };
  return { value, target: `${target}: ${o.rtoMet ? 'met' : 'MISSED'}`, met: o.rtoMet };
}

/** The code the history was replayed against: 'geofailover 0.2.0 (commit 0123456789ab), workflow bundle sha256 …'. */
export function replayCodeLine(report: EvidenceReport): string {
  const code = report.replay.code;
  if (!code) return `against ${report.replay.against}`;
  return (
    `geofailover ${code.version}${code.commit ? ` (commit ${code.commit})` : ''}` +
    `${code.bundleSha256 ? `, workflow bundle sha256 ${code.bundleSha256.slice(0, 16)}…` : ''}`
  );
}

/** Whether the run ended as it should: completed and nothing left open. */
export function outcomeWord(report: EvidenceReport): string {
  return report.outcome.outcome ?? report.workflow.execution;
}
