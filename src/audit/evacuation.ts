/**
 * The evidence package of a regionEvacuation: every group's runbook audited into a folder of its own (replayed,
 * reported, signed decisions, SHA256SUMS), and at the top a summary table (README.md, evacuation.json) linking each
 * group's report, with the evacuation's own aggregate and a SHA256SUMS over the summary and every group's
 * SHA256SUMS.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { evacuationStatusQuery, type EvacuationResult, type EvacuationStatus } from '../contract/evacuation';
import { describeIfExists, executionState } from '../starter';
import { auditHistory, type AuditResult } from './audit';
import { fetchIncidentRuns, incidentHistory } from './chain';
import { refuseNonEmptyDir, type PackageSigningKey, type ReportFormat } from './package';
import type { EvidenceReport } from './report/schema';

export interface EvacuationAuditOptions {
  client: Client;
  workflowId: string;
  outDir: string;
  source: EvidenceReport['source'];
  formats?: readonly ReportFormat[];
  force?: boolean;
  signKey?: PackageSigningKey;
  progress?: (text: string) => void;
}

export interface EvacuationAuditGroup {
  group: string;
  workflowId: string;
  runId?: string;
  phase: string;
  outcome?: string;
  rtoMs?: number;
  /** the group's package, relative to the evacuation's folder; absent when its runbook never started */
  dir?: string;
  verdict?: 'verified' | 'diverged';
  summary?: string;
}

export interface EvacuationAudit {
  workflowId: string;
  runId: string;
  region: string;
  execution: string;
  outcome?: string;
  summary?: string;
  dir: string;
  groups: EvacuationAuditGroup[];
  /** every audited group replays against the current workflow code */
  verified: boolean;
}

async function readAggregate(
  client: Client,
  workflowId: string,
): Promise<{ status: EvacuationStatus; execution: string; outcome?: string; summary?: string }> {
  const description = await describeIfExists(client, workflowId);
  if (!description) throw new Error(`no evacuation ${workflowId} exists`);
  const execution = executionState(description);
  const handle = client.workflow.getHandle(workflowId, description.runId);
  if (execution === 'completed') {
    const result = (await handle.result()) as EvacuationResult;
    return { status: result.status, execution, outcome: result.outcome, summary: result.summary };
  }
  return { status: await handle.query(evacuationStatusQuery), execution };
}

function formatRto(ms: number | undefined): string {
  return ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`;
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function evacuationMarkdown(audit: EvacuationAudit, status: EvacuationStatus): string {
  const rows = audit.groups.map((g) => {
    const report = g.dir ? `[${g.dir}/report.md](${g.dir}/report.md)` : '-';
    return `| ${g.group} | ${g.outcome ?? g.phase} | ${formatRto(g.rtoMs)} | ${g.verdict ?? '-'} | ${report} |`;
  });
  const counts = Object.entries(status.byPhase)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ');
  return [
    `# Evacuation of ${audit.region}`,
    '',
    `- workflow: \`${audit.workflowId}\` (run \`${audit.runId}\`), ${audit.execution}` +
      (audit.outcome ? `, outcome **${audit.outcome}**` : ''),
    `- requested by ${status.requestedBy ?? '(not verified)'} at ${status.startedAt}: ${status.reason ?? ''}`,
    `- ${audit.groups.length} group(s): ${counts}; concurrency ${status.concurrency} before reroute; unlink approval ${status.unlinkApproval}`,
    ...(audit.summary ? [`- ${audit.summary}`] : []),
    '',
    '| group | outcome | RTO | replay | report |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...(status.actions.length
      ? [
          '## Actions on the evacuation',
          '',
          ...status.actions.map(
            (a) => `- ${a.at} ${a.action} by ${a.by}: ${a.accepted ? 'accepted' : 'refused'}: ${a.detail}`,
          ),
          '',
        ]
      : []),
    "Each group's folder is a complete evidence package of its runbook (`geofailover audit --verify DIR`).",
    '',
  ].join('\n');
}

/**
 * Audits every group's runbook of an evacuation into `outDir/<group>` and writes the summary.
 * @throws OutputDirError when `outDir` already holds files and `force` is not set
 */
export async function auditEvacuation(options: EvacuationAuditOptions): Promise<EvacuationAudit> {
  const { client, workflowId, outDir } = options;
  refuseNonEmptyDir(outDir, options.force);
  const aggregate = await readAggregate(client, workflowId);
  const { status } = aggregate;
  mkdirSync(outDir, { recursive: true });
  const groups: EvacuationAuditGroup[] = [];
  const results: AuditResult[] = [];
  for (const child of status.groups) {
    const entry: EvacuationAuditGroup = { group: child.group, workflowId: child.workflowId, phase: child.phase };
    if (child.runId) entry.runId = child.runId;
    if (child.outcome) entry.outcome = child.outcome;
    if (child.rtoMs !== undefined) entry.rtoMs = child.rtoMs;
    if (child.summary) entry.summary = child.summary;
    if (child.runId) {
      options.progress?.(`auditing ${child.workflowId}…`);
      const runs = await fetchIncidentRuns(client, child.workflowId, child.runId);
      const dir = child.group.replace(/[^A-Za-z0-9-]/g, '_');
      const result = await auditHistory({
        loaded: incidentHistory(runs),
        runs,
        source: options.source,
        outDir: path.join(outDir, dir),
        ...(options.force ? { force: true } : {}),
        ...(options.formats ? { formats: options.formats } : {}),
        ...(options.signKey ? { signKey: options.signKey } : {}),
      });
      results.push(result);
      entry.dir = dir;
      entry.verdict = result.report.replay.verdict;
      if (result.report.outcome.rtoMs !== undefined) entry.rtoMs = result.report.outcome.rtoMs;
    }
    groups.push(entry);
  }
  const audit: EvacuationAudit = {
    workflowId,
    runId: status.runId,
    region: status.region,
    execution: aggregate.execution,
    ...(aggregate.outcome ? { outcome: aggregate.outcome } : {}),
    ...(aggregate.summary ? { summary: aggregate.summary } : {}),
    dir: outDir,
    groups,
    verified: groups.every((g) => g.verdict !== 'diverged'),
  };
  writeFileSync(path.join(outDir, 'README.md'), evacuationMarkdown(audit, status));
  writeFileSync(path.join(outDir, 'evacuation.json'), `${JSON.stringify({ ...audit, status }, null, 2)}\n`);
  const sums = ['README.md', 'evacuation.json', ...groups.flatMap((g) => (g.dir ? [`${g.dir}/SHA256SUMS`] : []))]
    .map((f) => `${sha256(path.join(outDir, f))}  ${f}`)
    .join('\n');
  writeFileSync(path.join(outDir, 'SHA256SUMS'), `${sums}\n`);
  return audit;
}

export function renderEvacuationAudit(audit: EvacuationAudit): string {
  return [
    `evacuation ${audit.workflowId} (run ${audit.runId}): ${audit.outcome ?? audit.execution}`,
    ...audit.groups.map(
      (g) =>
        `  ${g.group.padEnd(24)} ${(g.outcome ?? g.phase).padEnd(18)} RTO ${formatRto(g.rtoMs).padEnd(8)} ` +
        `${g.dir ? `replay ${g.verdict}: ${g.dir}/` : 'not started'}`,
    ),
    `evidence package: ${audit.dir} (README.md links every group's report; SHA256SUMS covers each group's)`,
  ].join('\n');
}
