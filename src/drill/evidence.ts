/**
 * The drill's evidence package: the runbook's history fetched from Temporal, replayed against the current workflow
 * code and written as the audit writes it (src/audit) — also when the drill failed, so the failure is on record.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { auditHistory, type AuditResult } from '../audit/audit';
import { fetchIncidentRuns, incidentHistory } from '../audit/chain';
import { defaultEvidenceDir } from '../audit/package';
import { formatBytes, shownPath, type DrillReporter, type DrillSummary } from './events';
import type { TemporalTarget } from './temporal';

/** The drill's runbook execution, once started. */
export interface IncidentRef {
  client: Client;
  workflowId: string;
  runId: string;
  target: TemporalTarget;
}

/**
 * Writes the evidence package from the runbook's history and records it in the summary; returns the report.
 * @throws when the history cannot be fetched or the package written.
 */
export async function recordEvidence(
  client: Client,
  workflowId: string,
  runId: string,
  target: TemporalTarget,
  outDir: string | undefined,
  reporter: DrillReporter,
  summary: DrillSummary,
): Promise<AuditResult['report']> {
  reporter.log('writing the evidence package (history export, replay against the current workflow code)…');
  const audit = await writeEvidence(client, workflowId, runId, target, outDir);
  const { report } = audit;
  summary.verdict = report.replay.verdict;
  summary.evidenceDir = audit.package.dir;
  summary.evidenceBytes = audit.package.totalBytes;
  reporter.emit(
    {
      type: 'evidence',
      dir: audit.package.dir,
      files: audit.package.files.map((f) => ({ name: f.name, bytes: f.bytes })),
      totalBytes: audit.package.totalBytes,
      verdict: report.replay.verdict,
    },
    `evidence package: ${shownPath(audit.package.dir)} (${audit.package.files.map((f) => f.name).join(', ')}; ` +
      `${formatBytes(audit.package.totalBytes)}); replay ${report.replay.verdict}`,
  );
  return report;
}

/** A failed drill still leaves evidence: the runbook is terminated (if open) and its history packaged. */
export async function evidenceOfFailure(
  incident: IncidentRef,
  outDir: string | undefined,
  reporter: DrillReporter,
  summary: DrillSummary,
): Promise<void> {
  Object.assign(summary, { workflowId: incident.workflowId, runId: incident.runId });
  try {
    const handle = incident.client.workflow.getHandle(incident.workflowId, incident.runId);
    const d = await handle.describe();
    if (d.status.name === 'RUNNING') {
      await handle.terminate(`geofailover drill failed: ${summary.error ?? 'see the drill output'}`);
      reporter.log(`terminated ${incident.workflowId}, so that its history is complete`);
    }
    await recordEvidence(
      incident.client,
      incident.workflowId,
      incident.runId,
      incident.target,
      outDir,
      reporter,
      summary,
    );
  } catch (e) {
    reporter.warn(`no evidence package: ${(e as Error)?.message ?? String(e)}`);
  }
}

/** Fetches the history and writes the package into `outDir` (default evidence/<workflow id>_<run id>). */
async function writeEvidence(
  client: Client,
  workflowId: string,
  runId: string,
  target: TemporalTarget,
  outDir: string | undefined,
): Promise<AuditResult> {
  // The latest run: a runbook that continued as new is audited as the chain of its runs.
  let runs = await fetchIncidentRuns(client, workflowId);
  if (runs[0]?.history.events?.[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId !== runId) {
    runs = await fetchIncidentRuns(client, workflowId, runId);
  }
  const loaded = incidentHistory(runs);
  const dir = outDir ? path.resolve(outDir) : defaultEvidenceDir(workflowId, undefined, loaded.runId);
  mkdirSync(dir, { recursive: true });
  return auditHistory({
    loaded,
    runs,
    source: { kind: 'temporal', address: target.address, namespace: target.namespace },
    outDir: dir,
    // The drill's own folder (--out, or one per run): the drill writes it, as it always did.
    force: true,
  });
}
