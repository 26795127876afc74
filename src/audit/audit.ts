/**
 * An audit of one runbook execution: replay its history against the current workflow code, build the
 * evidence report from the history, write the evidence package. The CLI's `audit` command and the drill
 * call this.
 */
import { ed25519 } from '@noble/curves/ed25519';
import type { WorkflowBundle } from '@temporalio/worker';
import type { LoadedHistory } from './history';
import {
  defaultEvidenceDir,
  refuseNonEmptyDir,
  writeEvidencePackage,
  type EvidencePackage,
  type PackageSigningKey,
  type ReportFormat,
} from './package';
import { startReplaySession, type ReplaySession, type ReplayVerdict } from './replay';
import { buildEvidenceReport } from './report/model';
import type { AuditOutput, EvidenceReport } from './report/schema';

export interface AuditOptions {
  /**
   * the history, fetched (fetchHistory) or read (readHistoryFile); for an incident that continued as new, its runs
   * merged into one (incidentHistory), with `runs` set
   */
  loaded: LoadedHistory;
  /** every run of an incident that continued as new, first run first: each is replayed, and kept in the package */
  runs?: readonly LoadedHistory[];
  source: EvidenceReport['source'];
  /** default: evidence/<workflow id with / replaced by _>_<run id> under the current directory */
  outDir?: string;
  /** write into an output folder that already holds files (default: refuse it, OutputDirError) */
  force?: boolean;
  formats?: readonly ReportFormat[];
  /** a prebuilt bundle of the workflow code to replay against (tests); default: src/workflows */
  bundle?: WorkflowBundle;
  /** what `bundle` is, for the report */
  against?: string;
  /** sign SHA256SUMS with this key (SHA256SUMS.sig) */
  signKey?: PackageSigningKey;
  /**
   * a replay worker started earlier (startReplaySession, e.g. while the history was fetched); the caller closes it.
   * Default: one started here, closed before returning.
   */
  session?: ReplaySession;
}

export interface AuditResult {
  report: EvidenceReport;
  package: EvidencePackage;
}

let smallBaseTable = false;

/**
 * The report checks every signed decision again (Ed25519). The library's default table for the base point (window 8,
 * 4224 points) costs more to build than an audit's few dozen checks use; a window of 4 (512 points) is built in a
 * fraction of that and each check stays within a millisecond. Same results, same checks: only the speed changes.
 */
function useSmallBaseTable(): void {
  if (smallBaseTable) return;
  smallBaseTable = true;
  ed25519.Point.BASE.precompute(4);
}

/**
 * Replays, reports and writes the package. A diverged replay is a result (report.replay.verdict), not an error.
 * @throws OutputDirError when the output folder already holds files and `force` is not set
 * @throws when the workflow code cannot be bundled or the package cannot be written.
 */
export async function auditHistory(options: AuditOptions): Promise<AuditResult> {
  const { loaded } = options;
  const dir = options.outDir ?? defaultEvidenceDir(loaded.workflowId, undefined, loaded.runId);
  // Before the replay: a refusal should not cost the seconds a replay takes.
  refuseNonEmptyDir(dir, options.force);
  const session =
    options.session ??
    startReplaySession({
      ...(options.bundle ? { bundle: options.bundle } : {}),
      ...(options.against ? { against: options.against } : {}),
    });
  const runs = options.runs && options.runs.length > 1 ? options.runs : undefined;
  let replay: ReplayVerdict;
  try {
    replay = runs
      ? await replayRuns(runs, session, loaded.workflowId)
      : await session.replay(loaded.history, loaded.workflowId);
  } finally {
    if (!options.session) await session.close();
  }
  useSmallBaseTable();
  const report = buildEvidenceReport(loaded.history, { replay, workflowId: loaded.workflowId, source: options.source });
  const pkg = writeEvidencePackage({
    report,
    historyJson: loaded.json,
    ...(runs ? { runHistories: runs.map((r) => r.json) } : {}),
    dir,
    ...(options.formats ? { formats: options.formats } : {}),
    ...(options.signKey ? { signKey: options.signKey } : {}),
  });
  return { report, package: pkg };
}

/**
 * Replays every run of an incident; the verdict is verified only when every run replays, and a mismatch names its
 * run. Each run's own verdict is kept (replay.runs).
 */
async function replayRuns(
  runs: readonly LoadedHistory[],
  session: ReplaySession,
  workflowId: string,
): Promise<ReplayVerdict> {
  const verdicts: ReplayVerdict[] = [];
  for (const run of runs) verdicts.push(await session.replay(run.history, workflowId));
  const diverged = verdicts.findIndex((v) => v.verdict === 'diverged');
  const first = verdicts[diverged >= 0 ? diverged : 0] as ReplayVerdict;
  const verdict: ReplayVerdict = {
    ...first,
    durationMs: verdicts.reduce((n, v) => n + v.durationMs, 0),
    runs: verdicts.map((v, i) => ({
      run: i + 1,
      runId: runRunId(runs[i] as LoadedHistory),
      events: runs[i]?.history.events?.length ?? 0,
      verdict: v.verdict,
    })),
  };
  if (diverged >= 0 && first.mismatch) {
    const runId = runRunId(runs[diverged] as LoadedHistory);
    verdict.mismatch = { ...first.mismatch, message: `run ${diverged + 1} (${runId}): ${first.mismatch.message}` };
  }
  return verdict;
}

function runRunId(run: LoadedHistory): string {
  const started = run.history.events?.[0]?.workflowExecutionStartedEventAttributes;
  return started?.originalExecutionRunId || run.runId || 'unknown';
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
