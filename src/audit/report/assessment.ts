/**
 * What an auditor reads first, derived from the rest of the report (history only): drill or production, the RTO
 * against its target, what each gate's approvers saw, every person's decision in one table, and what the run left
 * open. Pure.
 */
import { msToNumber } from '@temporalio/common/lib/time';
import { formatMs } from './format';
import type { EvidenceReport, ReportDecisionRow, ReportEnvironment, ReportGate } from './schema';

/** Azure Resource Manager's hosts: the public cloud and the sovereign clouds. Any other endpoint is a drill. */
export const PRODUCTION_ARM_HOSTS = [
  'management.azure.com',
  'management.usgovcloudapi.net',
  'management.chinacloudapi.cn',
] as const;

/** Drill or production, from the origin of the ARM endpoint the worker's loadPolicy recorded. */
export function environmentOf(armEndpoint: string | undefined): ReportEnvironment {
  if (!armEndpoint) {
    return {
      mode: 'unknown',
      basis:
        'the history does not record which ARM endpoint the worker acted through (recorded by an older worker, or ' +
        'the run stopped before its policy was loaded)',
    };
  }
  let host = '';
  try {
    host = new URL(armEndpoint).hostname.toLowerCase();
  } catch {
    // not a URL: not Azure Resource Manager
  }
  if ((PRODUCTION_ARM_HOSTS as readonly string[]).includes(host)) {
    return {
      mode: 'production',
      armEndpoint,
      basis: `the worker acted through Azure Resource Manager (${armEndpoint})`,
    };
  }
  return {
    mode: 'drill',
    armEndpoint,
    basis: `the worker acted through ${armEndpoint}, not Azure Resource Manager (management.azure.com): an emulator or test endpoint`,
  };
}

/** The configured target (a Temporal duration such as '5 minutes') in ms; undefined when absent or unreadable. */
export function rtoTargetMs(target: unknown): number | undefined {
  if (typeof target !== 'string' && typeof target !== 'number') return undefined;
  try {
    const ms = msToNumber(target as Parameters<typeof msToNumber>[0]);
    return Number.isFinite(ms) && ms > 0 ? ms : undefined;
  } catch {
    return undefined;
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (v: unknown, max = 300): string | undefined => {
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const s = String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/** What the approvers of a gate saw, in words, from the request the runbook recorded with it. */
export function gateSeen(gate: Pick<ReportGate, 'gate' | 'kind' | 'step' | 'request'>): ReportGate['seen'] {
  const r = isRecord(gate.request) ? gate.request : {};
  const seen: ReportGate['seen'] = {};
  if (gate.kind === 'intervention') {
    const failure = isRecord(r.failure) ? r.failure : undefined;
    seen.trigger = `step ${gate.step} failed after its retries`;
    if (failure) seen.failure = [text(failure.type), text(failure.message, 500)].filter(Boolean).join(': ');
    return seen;
  }
  const trigger = isRecord(r.trigger) ? r.trigger : undefined;
  if (trigger) {
    const by = text(trigger.by, 64);
    seen.trigger = `${text(trigger.detail, 500) ?? text(trigger.reason) ?? 'unknown'}${by ? ` (unlinkNow by ${by})` : ''}`;
  }
  const trend = isRecord(r.memoryTrend) ? r.memoryTrend : undefined;
  if (trend) {
    const samples = Array.isArray(trend.samples) ? trend.samples.length : 0;
    const from = typeof trend.fromPercent === 'number' ? `${trend.fromPercent} %` : '?';
    const to = typeof trend.toPercent === 'number' ? `${trend.toPercent} %` : '?';
    seen.memoryTrend =
      samples < 2
        ? `fullest survivor ${to} (${samples} reading: no trend yet)`
        : `${text(trend.direction, 20) ?? 'unknown'}: fullest survivor ${from} → ${to} over ${samples} readings`;
  }
  if (typeof r.outageMs === 'number' && r.outageMs >= 0) seen.outage = formatMs(r.outageMs);
  const blast = isRecord(r.blastRadius) ? r.blastRadius : undefined;
  const lines: string[] = [];
  if (blast) {
    for (const m of Array.isArray(blast.members) ? blast.members.slice(0, 10) : []) {
      if (isRecord(m)) lines.push(`${text(m.region, 40) ?? '?'}: ${text(m.change) ?? 'changes'}`);
    }
    const endpoint = isRecord(blast.endpoint) ? blast.endpoint : undefined;
    if (endpoint) {
      lines.push(
        `Traffic Manager endpoint ${text(endpoint.name, 80) ?? '?'}: stays ${text(endpoint.status, 20) ?? '?'}`,
      );
    }
    const apps = Array.isArray(blast.applicationRegions) ? blast.applicationRegions.slice(0, 10) : [];
    if (apps.length) lines.push(`applications in ${apps.map((a) => text(a, 40)).join(', ')} use the survivors`);
    const failed = (Array.isArray(blast.members) ? blast.members : []).find(
      (m) => isRecord(m) && /discard/i.test(String(m.change ?? '')),
    );
    if (isRecord(failed)) {
      seen.dataDiscarded =
        `${text(failed.region, 40) ?? 'the failed region'}'s data: writes it took that never replicated are lost, ` +
        'and its rejoin later discards its data and resynchronises it from the group';
    }
  }
  const member = isRecord(r.member) ? r.member : undefined;
  if (member) {
    const method = text(r.method, 40) ?? 'rejoin';
    lines.push(
      `${text(member.region, 40) ?? '?'} (${text(member.databaseId, 400) ?? '?'}): rejoins the group (${method})`,
    );
    seen.trigger ??= `${text(member.region, 40) ?? 'the region'} recovered and asks to rejoin (${method})`;
    seen.dataDiscarded = text(r.effect, 500) ?? `${text(member.region, 40) ?? 'the region'}'s data is discarded`;
  }
  if (lines.length) seen.blastRadius = lines;
  return seen;
}

/** A gate's seen facts in one line, for the decisions table. */
export function seenLine(seen: ReportGate['seen'] | undefined): string {
  if (!seen) return '';
  const parts: string[] = [];
  if (seen.trigger) parts.push(`trigger: ${seen.trigger}`);
  if (seen.failure) parts.push(`failure: ${seen.failure}`);
  if (seen.outage) parts.push(`outage ${seen.outage}`);
  if (seen.memoryTrend) parts.push(`memory ${seen.memoryTrend}`);
  if (seen.blastRadius?.length) parts.push(`blast radius: ${seen.blastRadius.join('; ')}`);
  if (seen.dataDiscarded) parts.push(`data discarded: ${seen.dataDiscarded}`);
  return parts.join(' · ');
}

const GATE_ACTIONS = new Set(['approve', 'reject', 'decide', 'intervene']);

/** Every person's decision, the start first: votes and interventions at gates, then the other accepted decisions. */
export function decisionTable(report: Omit<EvidenceReport, 'decisionTable' | 'openItems'>): ReportDecisionRow[] {
  const rows: ReportDecisionRow[] = [];
  const sig = report.request.signature;
  rows.push({
    gate: '(start)',
    decision: 'start',
    who: report.request.requestedBy,
    signed: sig.verified ? 'signed' : 'declared',
    ...(sig.verified && sig.fingerprint ? { fingerprint: sig.fingerprint } : {}),
    at: report.workflow.startedAt,
    saw: `reason: ${report.request.reason}${report.request.incident ? ` (incident ${report.request.incident})` : ''}`,
  });
  for (const g of report.gates) {
    const saw = seenLine(g.seen);
    for (const v of g.votes) {
      rows.push({
        gate: g.gate,
        decision: v.decision,
        who: v.approver,
        signed: v.verified ? 'signed' : 'declared',
        ...(v.verified && v.fingerprint ? { fingerprint: v.fingerprint } : {}),
        at: v.at,
        saw,
      });
    }
    for (const i of g.interventions ?? []) {
      rows.push({
        gate: g.gate,
        decision: i.action,
        who: i.by,
        signed: i.verified ? 'signed' : 'declared',
        ...(i.verified && i.fingerprint ? { fingerprint: i.fingerprint } : {}),
        at: i.at,
        saw,
      });
    }
  }
  // Decisions that answer no gate (regionRecovered, unlinkNow, abort) — and, while the runbook runs and no gate
  // record exists yet, the votes as sent.
  for (const d of report.decisions) {
    if (d.verdict === 'refused' || d.verdict === 'failed') continue;
    if (report.gates.length && GATE_ACTIONS.has(d.name)) continue;
    const payload = isRecord(d.payload) ? d.payload : {};
    const decision = d.name === 'decide' ? (text(payload.decision, 20) ?? 'decide') : d.name;
    const gate = d.signature.gate ?? text(payload.gate, 80) ?? '(none)';
    const saw = text(payload.reason, 300) ?? text(payload.comment, 300) ?? '';
    rows.push({
      gate,
      decision: d.verdict === 'unknown' ? `${decision} (not answered yet)` : decision,
      who: (d.signature.verified ? d.signature.signer : undefined) ?? d.actor ?? '(unknown)',
      signed: d.signature.verified ? 'signed' : 'declared',
      ...(d.signature.verified && d.signature.fingerprint ? { fingerprint: d.signature.fingerprint } : {}),
      at: d.at,
      saw: saw ? `said: ${saw}` : '',
    });
  }
  return rows.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
}

/** What the run left for people: empty when it completed and left the group whole and serving. */
export function openItems(report: Omit<EvidenceReport, 'decisionTable' | 'openItems'>): string[] {
  const items: string[] = [];
  const w = report.workflow;
  const outcome = report.outcome.outcome;
  if (w.execution === 'running') {
    items.push(`the runbook is still running (phase ${report.outcome.phase ?? 'unknown'})`);
  } else if (w.execution !== 'completed' && w.execution !== 'continued-as-new') {
    items.push(`the workflow ${w.execution}${w.closeReason ? `: ${w.closeReason}` : ''}`);
  } else if (outcome && outcome !== 'completed') {
    items.push(`the runbook ended ${outcome}: ${report.outcome.summary}`);
  }
  const group = report.request.group as {
    members?: Record<string, string>;
    trafficManager?: { endpoints?: Record<string, { name?: string }> };
  };
  const regionOfEndpoint = new Map(
    Object.entries(group.trafficManager?.endpoints ?? {}).map(([region, e]) => [e?.name ?? '', region]),
  );
  for (const e of report.traffic.after?.endpoints ?? []) {
    if (e.endpointStatus === 'Enabled') continue;
    const region = regionOfEndpoint.get(e.name);
    items.push(
      `Traffic Manager endpoint ${e.name} is ${e.endpointStatus}${region ? `: ${region} serves no traffic` : ''}`,
    );
  }
  const listing = report.finalState.membersListing;
  if (listing?.length) {
    const regions = Object.keys(group.members ?? {});
    for (const region of regions) {
      const missing = listing.filter((m) => m.region !== region && !m.lists.includes(region)).map((m) => m.region);
      if (missing.length) {
        items.push(
          `${region} is not linked: ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not list it as Linked ` +
            '(the group is not whole; a rejoinRunbook brings it back)',
        );
      }
    }
  }
  for (const g of report.gates) {
    if (!g.outcome) items.push(`gate ${g.gate} is still open (since ${g.requestedAt})`);
    if (g.kind === 'intervention' && g.outcome === 'skipped') {
      items.push(`step ${g.step} was skipped at an intervention: what it would have done was not done`);
    }
  }
  for (const d of report.decisions) {
    if (d.runbookVerdict === 'accepted' && d.verdict === 'refused') {
      items.push(
        `${d.name} at ${d.at} was acted on by the runbook, but its signature does not verify: ${d.signature.reason ?? 'no valid proof'}`,
      );
    }
  }
  if (report.policy && !report.policy.digestMatches) {
    items.push("the recorded policy's digest does not match its group and people");
  }
  return items;
}
