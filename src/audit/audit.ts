/**
 * An audit of one runbook execution: replay its history against the current workflow code, build the
 * evidence report from the history, write the evidence package. The CLI's `audit` command and the drill
 * call this.
 */
import type { WorkflowBundle } from '@temporalio/worker';
import type { LoadedHistory } from './history';
import {
  defaultEvidenceDir,
  writeEvidencePackage,
  type EvidencePackage,
  type PackageSigningKey,
  type ReportFormat,
} from './package';
import { replayHistory } from './replay';
import { buildEvidenceReport } from './report/model';
import type { AuditOutput, EvidenceReport } from './report/schema';

export interface AuditOptions {
  /** the history, fetched (fetchHistory) or read (readHistoryFile) */
  loaded: LoadedHistory;
  source: EvidenceReport['source'];
  /** default: evidence/<workflow id with / replaced by _> under the current directory */
  outDir?: string;
  formats?: readonly ReportFormat[];
  /** a prebuilt bundle of the workflow code to replay against (tests); default: src/workflows */
  bundle?: WorkflowBundle;
  /** what `bundle` is, for the report */
  against?: string;
  /** sign SHA256SUMS with this key (SHA256SUMS.sig) */
  signKey?: PackageSigningKey;
}

export interface AuditResult {
  report: EvidenceReport;
  package: EvidencePackage;
}

/**
 * Replays, reports and writes the package. A diverged replay is a result (report.replay.verdict), not an error.
 * @throws when the workflow code cannot be bundled or the package cannot be written.
 */
export async function auditHistory(options: AuditOptions): Promise<AuditResult> {
  const { loaded } = options;
  const replay = await replayHistory(loaded.history, {
    workflowId: loaded.workflowId,
    ...(options.bundle ? { bundle: options.bundle } : {}),
    ...(options.against ? { against: options.against } : {}),
  });
  const report = buildEvidenceReport(loaded.history, { replay, workflowId: loaded.workflowId, source: options.source });
  const pkg = writeEvidencePackage({
    report,
    historyJson: loaded.json,
    dir: options.outDir ?? defaultEvidenceDir(loaded.workflowId),
    ...(options.formats ? { formats: options.formats } : {}),
    ...(options.signKey ? { signKey: options.signKey } : {}),
  });
  return { report, package: pkg };
}

/** What `geofailover audit --json` prints for a result. */
export function auditOutput(result: AuditResult): AuditOutput {
  const { report } = result;
  const out: AuditOutput = {
    workflowId: report.workflow.workflowId,
    verdict: report.replay.verdict,
    partial: report.partial,
    package: {
      dir: result.package.dir,
      files: result.package.files,
      totalBytes: result.package.totalBytes,
      signatures: result.package.signatures,
      ...(result.package.signedBy ? { signedBy: result.package.signedBy } : {}),
    },
  };
  if (report.workflow.runId) out.runId = report.workflow.runId;
  if (report.replay.mismatch) out.mismatch = report.replay.mismatch;
  if (report.outcome.outcome) out.outcome = report.outcome.outcome;
  if (report.outcome.rtoMs !== undefined) out.rtoMs = report.outcome.rtoMs;
  return out;
}
