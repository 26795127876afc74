/**
 * `geofailover audit WORKFLOW_ID | --history FILE [--out DIR] [--format md,json,html] [--json]`: replay a
 * runbook's history against the current workflow code (verified or diverged), then write its evidence
 * package. Exit 0 when verified, 1 when diverged or on failure, 2 on bad usage.
 */
import path from 'node:path';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { Command } from 'commander';
import { auditHistory, auditOutput, type AuditResult } from '../../audit/audit';
import { fetchHistory, HistoryError, readHistoryFile, type LoadedHistory } from '../../audit/history';
import { FormatError, parseFormats, REPORT_FORMATS, staleFiles, type ReportFormat } from '../../audit/package';
import { installQuietRuntime } from '../../audit/replay';
import type { EvidenceReport } from '../../audit/report/schema';
import { describeIfExists } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import { formatTable, type Output } from '../output';
import { anyRunbook, text } from './shared';

interface AuditOptions {
  history?: string;
  runId?: string;
  out?: string;
  format: string;
  json?: boolean;
}

/** 1234 → '1.2 kB' */
function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A path as a person types it: relative to the current directory when inside it. */
function shownPath(dir: string): string {
  const relative = path.relative(process.cwd(), dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}

function formats(value: string): ReportFormat[] {
  try {
    return parseFormats(value);
  } catch (e) {
    if (e instanceof FormatError) throw new UsageError(e.message, `e.g. --format ${REPORT_FORMATS.join(',')}`);
    throw e;
  }
}

/** The execution a reference means: a workflow id as given, else a group's runbook (failover/G or rejoin/G). */
async function resolveExecution(client: Client, ref: string): Promise<WorkflowExecutionDescription> {
  if (!ref.includes('/')) {
    const direct = await describeIfExists(client, ref);
    if (direct) return direct;
  }
  return anyRunbook(client, ref);
}

function loadFile(file: string): LoadedHistory {
  try {
    return readHistoryFile(path.resolve(file));
  } catch (e) {
    if (!(e instanceof HistoryError)) throw e;
    if (/^cannot read /.test(e.message)) throw new UsageError(`--history: ${e.message}`);
    throw new RefusedError(
      e.message,
      'export a history with `temporal workflow show --workflow-id ID --output json > history.json`',
      'history-invalid',
    );
  }
}

function renderResult(result: AuditResult): string {
  const { report } = result;
  const w = report.workflow;
  const r = report.replay;
  const lines: string[] = [];
  if (r.verdict === 'verified') {
    lines.push(
      `replay: VERIFIED — ${w.workflowId} (${w.workflowType}, ${w.historyEvents} events) replays against ${r.against}`,
    );
  } else {
    const at = r.mismatch?.eventId
      ? ` at event ${r.mismatch.eventId}${r.mismatch.eventType ? ` (${r.mismatch.eventType})` : ''}`
      : '';
    lines.push(`replay: DIVERGED${at} — ${w.workflowId} (${w.workflowType}) does not replay against ${r.against}`);
    if (r.mismatch) lines.push(`  ${r.mismatch.message}`);
  }
  lines.push(`outcome: ${report.outcome.outcome ?? w.execution}: ${report.outcome.summary}`);
  if (report.outcome.rtoMs !== undefined) lines.push(`measured RTO: ${formatRtoLine(report)}`);
  const dir = shownPath(result.package.dir);
  lines.push(`evidence package: ${dir}`);
  const rows = result.package.files.map((f) => [`  ${f.name}`, formatBytes(f.bytes)]);
  rows.push(['  total', formatBytes(result.package.totalBytes)]);
  lines.push(...formatTable(['', ''], rows).slice(1));
  lines.push(`check it with: (cd ${dir} && sha256sum -c SHA256SUMS)`);
  return lines.join('\n');
}

function formatRtoLine(report: EvidenceReport): string {
  const ms = report.outcome.rtoMs ?? 0;
  return `${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`} (start → traffic rerouted)`;
}

async function audit(ctx: CliContext, out: Output, ref: string | undefined, opts: AuditOptions): Promise<number> {
  if (ref && opts.history) {
    throw new UsageError('give a workflow id or --history FILE, not both', 'geofailover audit failover/leaderboard');
  }
  if (!ref && !opts.history) {
    throw new UsageError(
      'audit what? give a workflow id (or a group name), or --history FILE',
      'geofailover audit failover/leaderboard   or   geofailover audit --history history.json',
    );
  }
  if (opts.history && opts.runId) throw new UsageError('--run-id applies to a fetched history, not to --history FILE');
  const wanted = formats(opts.format);
  // Before anything starts the SDK runtime: a diverging replay is a finding, not console noise.
  installQuietRuntime();

  let loaded: LoadedHistory;
  let source: EvidenceReport['source'];
  if (opts.history) {
    loaded = loadFile(opts.history);
    source = { kind: 'file', file: path.basename(opts.history) };
  } else {
    const client = await ctx.temporal();
    const execution = await resolveExecution(client, ref as string);
    out.progress(`fetching the history of ${execution.workflowId}…`);
    loaded = await fetchHistory(client, execution.workflowId, opts.runId ?? execution.runId);
    const target = ctx.temporalTarget();
    source = { kind: 'temporal', address: target.address, namespace: target.namespace };
  }
  out.progress(`replaying ${loaded.history.events?.length ?? 0} events against the current workflow code…`);
  const result = await auditHistory({
    loaded,
    source,
    formats: wanted,
    ...(opts.out ? { outDir: path.resolve(opts.out) } : {}),
  });
  if (result.report.partial) out.warn(`partial report: ${result.report.partialReason}`);
  const stale = staleFiles(result.package);
  if (stale.length) {
    out.warn(
      `${shownPath(result.package.dir)} also holds ${stale.join(', ')} from an earlier audit, not in SHA256SUMS`,
    );
  }
  out.result(auditOutput(result), renderResult(result));
  return result.report.replay.verdict === 'verified' ? EXIT_OK : EXIT_FAILED;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .summary("replay a runbook's history against the current code (verified/diverged) and write its evidence package")
    .description(
      "Fetch a runbook's history from Temporal (or read an exported one), replay it against the current workflow " +
        'code — verified, or diverged with the first mismatching event — and write the evidence package: ' +
        'report.md, report.html, report.json (schema: schemas/evidence-report.schema.json), history.json and ' +
        'SHA256SUMS. The report is built from the history only. Exit 0 verified, 1 diverged or failed, 2 bad usage.',
    )
    .argument('[workflow-id]', 'the workflow id (e.g. failover/leaderboard), or a group name')
    .option(
      '--history <file>',
      'audit an exported history (geofailover or `temporal workflow show -o json`)',
      text('--history'),
    )
    .option('--run-id <id>', 'a specific run of the workflow (default: the latest)', text('--run-id'))
    .option(
      '--out <dir>',
      'where to write the package (default: evidence/<workflow-id with / replaced by _>)',
      text('--out'),
    )
    .option(
      '--format <list>',
      `reports to write, comma-separated: ${REPORT_FORMATS.join(',')}`,
      REPORT_FORMATS.join(','),
    )
    .option('--json', 'one JSON document (schemas/cli-audit.schema.json)')
    .addHelpText(
      'after',
      `
Examples:
  geofailover audit failover/leaderboard
  geofailover audit leaderboard --out /tmp/incident-42 --format md,html
  temporal workflow show --workflow-id failover/leaderboard --output json > history.json
  geofailover audit --history history.json --json`,
    )
    .action(async (ref: string | undefined, opts: AuditOptions) =>
      ctx.run(opts.json === true, (out) => audit(ctx, out, ref, opts)),
    );
}
