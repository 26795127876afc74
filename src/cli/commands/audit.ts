/**
 * `geofailover audit WORKFLOW_ID | --history FILE [--out DIR [--force]] [--format md,json,html] [--sign-key FILE]
 * [--json]`: replay a runbook's history against the current workflow code (verified or diverged), then write its
 * evidence package, signed when a key is given, into a new folder (one per run by default; a folder that holds files
 * is refused without --force). Exit 0 when verified, 1 when diverged, refused or on failure, 2 on bad usage.
 *
 * `geofailover audit --verify DIR [--allowed-signers FILE | --config FILE] [--json]`: check a package. Exit 0
 * verified, 1 failed.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import type { Command } from 'commander';
import { config as zodConfig } from 'zod';
import { auditHistory, auditOutput, type AuditResult } from '../../audit/audit';
import { auditEvacuation, renderEvacuationAudit } from '../../audit/evacuation';
import { fetchIncidentRuns, incidentHistory } from '../../audit/chain';
import { HistoryError, readHistoryFile, type LoadedHistory } from '../../audit/history';
import {
  defaultEvidenceDir,
  FormatError,
  OutputDirError,
  parseFormats,
  refuseNonEmptyDir,
  REPORT_FORMATS,
  staleFiles,
  type ReportFormat,
} from '../../audit/package';
import { installQuietRuntime, startReplaySession, type ReplaySession } from '../../audit/replay';
import { replayCodeLine } from '../../audit/report/format';
import type { AuditVerifyOutput, EvidenceReport } from '../../audit/report/schema';
import { parseAllowedSigners, verifyPackage, type PackageVerification, type TrustedSigners } from '../../audit/verify';
import { resolveConfigPath } from '../../config/load';
import { readPrivateKey, type PrivateKey } from '../../signing/node-keys';
import { describeIfExists } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import { formatTable, type Output } from '../output';
import { loadCliConfig } from '../resolve';
import { anyRunbook, globalOptions, text } from './shared';

/** The key `audit` signs SHA256SUMS with when --sign-key is not given. */
export const EVIDENCE_KEY_ENV = 'GEOFAILOVER_EVIDENCE_KEY';

interface AuditOptions {
  history?: string;
  runId?: string;
  out?: string;
  format: string;
  json?: boolean;
  signKey?: string;
  verify?: string;
  allowedSigners?: string;
  requireSignature?: boolean;
  force?: boolean;
}

/** 1234 → '1.2 kB' */
function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  if (bytes < 1_000_000) return `${(bytes / 1000).toFixed(1)} kB`;
  return `${(bytes / 1_000_000).toFixed(1)} MB`;
}

/** A path as a person types it: relative to the current directory when inside it. */
export function shownPath(dir: string): string {
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
  if (r.code) lines.push(`  replayed against ${replayCodeLine(report)}`);
  lines.push(
    `${report.environment.mode === 'unknown' ? 'environment unknown' : report.environment.mode.toUpperCase()}: ${report.environment.basis}`,
  );
  lines.push(
    `outcome: ${report.outcome.outcome ?? w.execution}${report.request.incident ? ` (incident ${report.request.incident})` : ''}: ${report.outcome.summary}`,
  );
  if (report.outcome.rtoMs !== undefined) {
    const target =
      report.outcome.rtoMet === undefined
        ? ''
        : `; target ${report.outcome.rtoTarget ?? ''}: ${report.outcome.rtoMet ? 'met' : 'MISSED'}`;
    lines.push(`measured RTO: ${formatRtoLine(report)}${target}`);
  }
  for (const item of report.openItems) lines.push(`open item: ${item}`);
  const dir = shownPath(result.package.dir);
  lines.push(`evidence package: ${dir}`);
  const rows = result.package.files.map((f) => [`  ${f.name}`, formatBytes(f.bytes)]);
  rows.push(['  total', formatBytes(result.package.totalBytes)]);
  lines.push(...formatTable(['', ''], rows).slice(1));
  lines.push(
    `signatures: ${result.package.signatures} signed decision(s) in ${dir}/signatures, each checkable with ssh-keygen ` +
      '(signatures/VERIFY.md)',
  );
  const signed = result.package.signedBy;
  lines.push(
    signed
      ? `SHA256SUMS.sig: signed with key ${signed.fingerprint}`
      : `SHA256SUMS.sig: not written, the package is unsigned (pass --sign-key FILE or set ${EVIDENCE_KEY_ENV})`,
  );
  lines.push(`check it with: (cd ${dir} && sha256sum -c SHA256SUMS)   or   geofailover audit --verify ${dir}`);
  return lines.join('\n');
}

/** The auditor's key for SHA256SUMS.sig: --sign-key, else $GEOFAILOVER_EVIDENCE_KEY, else none (unsigned). */
export function signingKey(ctx: CliContext, opts: Pick<AuditOptions, 'signKey'>): PrivateKey | undefined {
  const file = opts.signKey ?? ctx.env[EVIDENCE_KEY_ENV];
  if (!file) return undefined;
  const flag = opts.signKey ? '--sign-key' : `$${EVIDENCE_KEY_ENV}`;
  let textOfKey: string;
  try {
    textOfKey = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return readPrivateKey(textOfKey);
  } catch (e) {
    throw new UsageError(`${flag} ${file}: ${(e as Error).message}`, 'ssh-keygen -t ed25519 -N "" -f FILE makes one');
  }
}

/**
 * The signers `--verify` trusts for SHA256SUMS.sig: --allowed-signers FILE and/or the configuration's people
 * (--config, $GEOFAILOVER_CONFIG or ./geofailover.config.json when it exists).
 */
export function trustedSigners(
  configFlag: string | undefined,
  opts: Pick<AuditOptions, 'allowedSigners'>,
): TrustedSigners | undefined {
  const people: Record<string, string[]> = {};
  const sources: string[] = [];
  if (opts.allowedSigners) {
    let content: string;
    try {
      content = readFileSync(opts.allowedSigners, 'utf8');
    } catch (e) {
      throw new UsageError(
        `--allowed-signers ${opts.allowedSigners}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const parsed = parseAllowedSigners(content);
    if (!Object.keys(parsed.people).length) {
      throw new UsageError(
        `--allowed-signers ${opts.allowedSigners} lists no usable ed25519 key for namespace geofailover` +
          (parsed.skipped.length ? ` (${parsed.skipped.join('; ')})` : ''),
      );
    }
    for (const [name, keys] of Object.entries(parsed.people)) (people[name] ??= []).push(...keys);
    sources.push(`--allowed-signers ${opts.allowedSigners}`);
  }
  const configFile = resolveConfigPath(configFlag);
  if (configFlag !== undefined || (!opts.allowedSigners && existsSync(configFile))) {
    const loaded = loadCliConfig(configFlag);
    for (const [name, person] of Object.entries(loaded.config.people)) (people[name] ??= []).push(...person.keys);
    sources.push(`the people of ${loaded.file}`);
  }
  return sources.length ? { source: sources.join(' and '), people } : undefined;
}

function renderVerification(v: PackageVerification): string {
  const lines: string[] = [];
  const dir = shownPath(v.dir);
  lines.push(v.verified ? `package: VERIFIED — ${dir}` : `package: FAILED — ${dir}`);
  lines.push(`  SHA256SUMS: ${v.sums.ok} of ${v.sums.files} file(s) match`);
  const s = v.sumsSignature;
  lines.push(
    s.status === 'unsigned'
      ? '  SHA256SUMS.sig: none, the package is UNSIGNED (anyone could have rewritten it together with SHA256SUMS)'
      : s.status === 'verified'
        ? `  SHA256SUMS.sig: signed by ${s.signer} (key ${s.fingerprint}), trusted from ${s.trustedFrom}`
        : `  SHA256SUMS.sig: FAILED: ${s.reason}`,
  );
  const good = v.decisions.filter((d) => d.ok).length;
  lines.push(`  decisions: ${good} of ${v.decisions.length} signature(s) verify against the policy in history.json`);
  for (const d of v.decisions) {
    lines.push(
      `    ${d.ok ? 'ok    ' : 'FAILED'} ${d.file}${d.fingerprint ? ` (${d.signer}, ${d.fingerprint})` : ''}` +
        `${d.reason ? `: ${d.reason}` : ''}`,
    );
  }
  lines.push(`  report: ${v.report.status}${v.report.detail ? ` — ${v.report.detail}` : ''}`);
  for (const f of v.failures) lines.push(`failed: ${f.message}`);
  return lines.join('\n');
}

async function verify(out: Output, configFlag: string | undefined, opts: AuditOptions): Promise<number> {
  const trusted = trustedSigners(configFlag, opts);
  const result = verifyPackage({
    dir: opts.verify as string,
    ...(trusted ? { trusted } : {}),
    ...(opts.requireSignature ? { requireSignature: true } : {}),
  });
  for (const w of result.warnings) out.warn(w);
  const doc: AuditVerifyOutput = {
    dir: result.dir,
    verified: result.verified,
    sums: result.sums,
    sumsSignature: result.sumsSignature,
    decisions: result.decisions,
    report: result.report,
    failures: result.failures,
    warnings: result.warnings,
  };
  out.result(doc, renderVerification(result));
  return result.verified ? EXIT_OK : EXIT_FAILED;
}

function formatRtoLine(report: EvidenceReport): string {
  const ms = report.outcome.rtoMs ?? 0;
  return `${ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`} (start → traffic rerouted)`;
}

async function audit(
  ctx: CliContext,
  out: Output,
  ref: string | undefined,
  opts: AuditOptions,
  configFlag: string | undefined,
): Promise<number> {
  // One CLI run checks each schema (report.json, the configuration) once or twice: zod's compiled fast path costs
  // more to build than it saves here (the same result, ~20 ms sooner for a report).
  zodConfig({ jitless: true });
  if (opts.verify !== undefined) {
    if (ref || opts.history || opts.runId || opts.out || opts.signKey || opts.force) {
      throw new UsageError(
        '--verify DIR checks a package: give no workflow id, --history, --run-id, --out, --sign-key or --force with it',
        'geofailover audit --verify evidence/failover_leaderboard --config geofailover.config.json',
      );
    }
    return verify(out, configFlag, opts);
  }
  if (opts.allowedSigners || opts.requireSignature) {
    throw new UsageError(
      `${opts.allowedSigners ? '--allowed-signers' : '--require-signature'} applies to --verify DIR`,
    );
  }
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
  const signKey = signingKey(ctx, opts);
  // Before anything starts the SDK runtime: a diverging replay is a finding, not console noise.
  installQuietRuntime();

  if (ref?.startsWith('evacuate/')) return auditEvacuationCommand(ctx, out, ref, opts, wanted, signKey);

  // The replay worker starts now and is ready by the time the history is fetched.
  const session = startReplaySession();
  try {
    return await auditIncident(ctx, out, ref, opts, wanted, signKey, session);
  } finally {
    await session.close();
  }
}

/** `audit WORKFLOW_ID` or `audit --history FILE`: one incident's package. */
async function auditIncident(
  ctx: CliContext,
  out: Output,
  ref: string | undefined,
  opts: AuditOptions,
  wanted: ReportFormat[],
  signKey: PrivateKey | undefined,
  session: ReplaySession,
): Promise<number> {
  let loaded: LoadedHistory;
  let runs: LoadedHistory[] | undefined;
  let source: EvidenceReport['source'];
  if (opts.history) {
    loaded = loadFile(opts.history);
    source = { kind: 'file', file: path.basename(opts.history) };
  } else {
    const client = await ctx.temporal();
    const execution = await resolveExecution(client, ref as string);
    out.progress(`fetching the history of ${execution.workflowId}…`);
    // A runbook that waited out a long outage continued as new: its evidence is every run of the incident.
    runs = await fetchIncidentRuns(client, execution.workflowId, opts.runId ?? execution.runId);
    loaded = incidentHistory(runs);
    if (runs.length > 1)
      out.progress(`the incident ran as ${runs.length} runs (continued as new); auditing all of them`);
    const target = ctx.temporalTarget();
    source = { kind: 'temporal', address: target.address, namespace: target.namespace };
  }
  const outDir = opts.out ? path.resolve(opts.out) : defaultEvidenceDir(loaded.workflowId, undefined, loaded.runId);
  try {
    refuseNonEmptyDir(outDir, opts.force);
  } catch (e) {
    if (!(e instanceof OutputDirError)) throw e;
    throw new RefusedError(
      `${shownPath(outDir)} already holds files; nothing was written (an evidence package is never written over another)`,
      `pass --force to write into it anyway, or --out with another (new or empty) folder`,
      'output-not-empty',
      { dir: outDir },
    );
  }
  out.progress(`replaying ${loaded.history.events?.length ?? 0} events against the current workflow code…`);
  const result = await auditHistory({
    loaded,
    ...(runs ? { runs } : {}),
    source,
    formats: wanted,
    outDir,
    ...(opts.force ? { force: true } : {}),
    ...(signKey ? { signKey } : {}),
    session,
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

/** `audit evacuate/R`: every group's package, and the summary table linking them (src/audit/evacuation.ts). */
async function auditEvacuationCommand(
  ctx: CliContext,
  out: Output,
  ref: string,
  opts: AuditOptions,
  wanted: ReportFormat[],
  signKey: PrivateKey | undefined,
): Promise<number> {
  if (opts.runId) throw new UsageError('--run-id applies to one runbook, not to an evacuation');
  const client = await ctx.temporal();
  const target = ctx.temporalTarget();
  const outDir = opts.out ? path.resolve(opts.out) : defaultEvidenceDir(ref);
  let result;
  try {
    result = await auditEvacuation({
      client,
      workflowId: ref,
      outDir,
      source: { kind: 'temporal', address: target.address, namespace: target.namespace },
      formats: wanted,
      ...(opts.force ? { force: true } : {}),
      ...(signKey ? { signKey } : {}),
      progress: (t) => out.progress(t),
    });
  } catch (e) {
    if (!(e instanceof OutputDirError)) throw e;
    throw new RefusedError(
      `${shownPath(outDir)} already holds files; nothing was written`,
      'pass --force or another --out',
      'output-not-empty',
      { dir: outDir },
    );
  }
  out.result(result, renderEvacuationAudit(result));
  return result.verified ? EXIT_OK : EXIT_FAILED;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  program
    .command('audit')
    .summary(
      "replay a runbook's history (verified/diverged) and write its evidence package; --verify DIR checks a package",
    )
    .description(
      "Fetch a runbook's history from Temporal (or read an exported one), replay it against the current workflow " +
        'code — verified, or diverged with the first mismatching event — and write the evidence package: ' +
        'report.md, report.html, report.json (schema: schemas/evidence-report.schema.json), history.json, ' +
        'signatures/ (every accepted decision as NN-<action>-<signer>.statement and .sig, allowed_signers and ' +
        'VERIFY.md with the ssh-keygen commands) and SHA256SUMS, signed as SHA256SUMS.sig with --sign-key. The ' +
        "report is built from the history only; every decision's signature is checked again against the policy " +
        'the history records. Exit 0 verified, 1 diverged or failed, 2 bad usage.\n\n' +
        'With --verify DIR: check every file against SHA256SUMS, SHA256SUMS.sig against --allowed-signers or the ' +
        "configuration's people (never the package's own allowed_signers), every decision's signature, and the " +
        'report re-derived from history.json against report.json. Exit 0 verified, 1 failed.',
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
      'where to write the package, a new or empty folder (default: evidence/<workflow-id with / replaced by _>_<run-id>)',
      text('--out'),
    )
    .option('--force', 'write into an --out folder that already holds files (default: refuse it)')
    .option(
      '--format <list>',
      `reports to write, comma-separated: ${REPORT_FORMATS.join(',')}`,
      REPORT_FORMATS.join(','),
    )
    .option(
      '--sign-key <file>',
      `sign SHA256SUMS (SHA256SUMS.sig) with this unencrypted ed25519 key (default: $${EVIDENCE_KEY_ENV})`,
      text('--sign-key'),
    )
    .option('--verify <dir>', 'check an evidence package instead of writing one', text('--verify'))
    .option(
      '--allowed-signers <file>',
      'with --verify: the OpenSSH allowed_signers file of the signers you trust for SHA256SUMS.sig ' +
        "(default: the configuration's people)",
      text('--allowed-signers'),
    )
    .option('--require-signature', 'with --verify: fail an unsigned package (no SHA256SUMS.sig)')
    .option(
      '--json',
      'one JSON document (schemas/cli-audit.schema.json; with --verify schemas/cli-audit-verify.schema.json)',
    )
    .addHelpText(
      'after',
      `
Examples:
  geofailover audit failover/leaderboard
  geofailover audit leaderboard --out /tmp/incident-42 --format md,html
  temporal workflow show --workflow-id failover/leaderboard --output json > history.json
  geofailover audit --history history.json --json
  geofailover audit failover/leaderboard --sign-key ~/.ssh/auditor_ed25519
  geofailover audit --verify evidence/failover_leaderboard --allowed-signers auditors.allowed_signers`,
    )
    .action(async (ref: string | undefined, opts: AuditOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => audit(ctx, out, ref, opts, globalOptions(command).config)),
    );
}
