/**
 * The DR evidence package of a period: every runbook run that started in it (found through Temporal visibility:
 * the workflow type, the start time and the FailoverGroup search attribute), each audited into its own evidence
 * package under runs/ (replayed, reported, decisions' signatures, SHA256SUMS, signed as `audit` signs), and at the
 * top summary.md, summary.html and summary.json (the answer, the runs, the destructive ARM calls, the group
 * snapshot) and one SHA256SUMS over every file of the package, signed as SHA256SUMS.sig when a key is given.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { WorkflowBundle } from '@temporalio/worker';
import { WORKFLOW_TYPES } from '../../contract/names';
import { SEARCH_ATTRIBUTES } from '../../contract/names';
import { parsePublicKey } from '../../signing/ssh-key';
import { SIGNING_NAMESPACE, signSshSig } from '../../signing/sshsig';
import { auditHistory } from '../audit';
import { startReplaySession, type ReplaySession } from '../replay';
import { continuedFromRunId, incidentHistory } from '../chain';
import { codeVersion } from '../code-version';
import { eventType, fetchHistory, readHistoryFile, type HistoryEvent, type LoadedHistory } from '../history';
import { PACKAGE_FILES, refuseNonEmptyDir, type PackageSigningKey } from '../package';
import type { EvidenceReport } from '../report/schema';
import { firstDifference, verifyPackage, type PackageVerification, type TrustedSigners } from '../verify';
import type { Period } from './period';
import { renderSummaryHtml, renderSummaryJson, renderSummaryMarkdown } from './render';
import { drEvidenceSchema, type DrEvidence, type DrSnapshot } from './schema';
import { summarise, type PeriodRun } from './summary';

export const DR_FILES = {
  md: 'summary.md',
  html: 'summary.html',
  json: 'summary.json',
  runs: 'runs',
} as const;

/** The runbooks a DR evidence package gathers. */
const RUNBOOK_TYPES = [WORKFLOW_TYPES.failoverRunbook, WORKFLOW_TYPES.rejoinRunbook] as const;

/** A string literal of Temporal's list filter. */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The visibility query of a period: the runbooks' workflow types, started in it (both ends included), of one
 * group when given (the FailoverGroup search attribute every runbook sets).
 */
export function periodQuery(period: Pick<Period, 'from' | 'to'>, group?: string): string {
  const types = RUNBOOK_TYPES.map((t) => `WorkflowType = ${literal(t)}`).join(' OR ');
  return (
    `(${types}) AND StartTime >= ${literal(period.from)} AND StartTime <= ${literal(period.to)}` +
    (group !== undefined ? ` AND ${SEARCH_ATTRIBUTES.group.name} = ${literal(group)}` : '')
  );
}

/** The run this run continued as new into; undefined when it did not. */
function continuedAsNewTo(run: LoadedHistory): string | undefined {
  const events = run.history.events ?? [];
  const last = events[events.length - 1] as HistoryEvent | undefined;
  if (!last || eventType(last) !== 'WorkflowExecutionContinuedAsNew') return undefined;
  return last.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId || undefined;
}

/** A guard on following a chain of runs forward (an incident that continued as new this often is not one). */
const MAX_RUNS = 10_000;

/**
 * Every run of the period, each an incident's runs first to last: an incident that continued as new is one run of
 * the period, counted by its first run's start (its later runs are found from it, whenever they started).
 */
export async function findPeriodRuns(
  client: Client,
  period: Pick<Period, 'from' | 'to'>,
  group?: string,
  progress?: (text: string) => void,
): Promise<LoadedHistory[][]> {
  const listed: { workflowId: string; runId: string }[] = [];
  for await (const info of client.workflow.list({ query: periodQuery(period, group) })) {
    listed.push({ workflowId: info.workflowId, runId: info.runId });
  }
  progress?.(`${listed.length} runbook run(s) started in the period`);
  const chains: LoadedHistory[][] = [];
  for (const { workflowId, runId } of listed) {
    const first = await fetchHistory(client, workflowId, runId);
    // A later run of an incident: its first run (in this period or an earlier one) speaks for it.
    if (continuedFromRunId(first.history)) continue;
    const runs = [first];
    for (let next = continuedAsNewTo(first); next && runs.length < MAX_RUNS;) {
      const run = await fetchHistory(client, workflowId, next);
      runs.push(run);
      next = continuedAsNewTo(run);
    }
    chains.push(runs);
  }
  return chains;
}

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('hex');

/** A run package's folder name: runs/<workflow id with / as _>_<run id>. */
function runFolder(loaded: LoadedHistory): string {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return `${DR_FILES.runs}/${safe(loaded.workflowId)}${loaded.runId ? `_${safe(loaded.runId)}` : ''}`;
}

export interface WriteDrEvidenceOptions {
  client: Client;
  period: Period;
  /** --group: only this group's runs */
  group?: string;
  /** the groups the answer covers (a group of them without a completed test is "not tested") */
  scope: readonly string[];
  outDir: string;
  force?: boolean;
  signKey?: PackageSigningKey;
  source: { address?: string; namespace?: string };
  /** the group snapshot, read once the runs are audited (ARM, or why it could not be read) */
  snapshot: () => Promise<DrSnapshot>;
  progress?: (text: string) => void;
  /** tests: a prebuilt bundle to replay against */
  bundle?: WorkflowBundle;
  /** default: now */
  now?: () => Date;
}

export interface DrEvidenceResult {
  dir: string;
  evidence: DrEvidence;
  /** files SHA256SUMS lists */
  files: number;
  signedBy?: { fingerprint: string; publicKey: string };
}

/**
 * Gathers, audits and writes the package.
 * @throws OutputDirError when `outDir` already holds files and `force` is not set (before anything is read)
 */
export async function writeDrEvidence(options: WriteDrEvidenceOptions): Promise<DrEvidenceResult> {
  const { outDir } = options;
  refuseNonEmptyDir(outDir, options.force);
  // One replay worker for every run of the period, started while the runs are found and fetched.
  const session = startReplaySession(options.bundle ? { bundle: options.bundle } : {});
  let runs: PeriodRun[];
  try {
    runs = await auditPeriodRuns(options, session);
  } finally {
    await session.close();
  }
  options.progress?.('reading the group snapshot from ARM…');
  const snapshot = await options.snapshot();
  const version = codeVersion();
  const evidence: DrEvidence = {
    schemaVersion: 1,
    kind: 'dr-evidence',
    generatedAt: (options.now?.() ?? new Date()).toISOString(),
    generator: { name: 'geofailover', version: version.version, ...(version.commit ? { commit: version.commit } : {}) },
    period: { ...options.period },
    ...(options.group !== undefined ? { group: options.group } : {}),
    source: { ...options.source },
    ...summarise(runs, options.scope),
    snapshot,
  };
  return writeSummary(outDir, evidence, options.signKey);
}

/** Finds the period's runs and audits each into its own package under runs/, replayed by `session`. */
async function auditPeriodRuns(options: WriteDrEvidenceOptions, session: ReplaySession): Promise<PeriodRun[]> {
  const { outDir } = options;
  const chains = await findPeriodRuns(options.client, options.period, options.group, options.progress);
  mkdirSync(outDir, { recursive: true });
  const runs: PeriodRun[] = [];
  for (const chain of chains) {
    const loaded = incidentHistory(chain);
    const dir = runFolder(loaded);
    options.progress?.(`auditing ${loaded.workflowId} (run ${loaded.runId ?? '?'})…`);
    const result = await auditHistory({
      loaded,
      runs: chain,
      source: { kind: 'temporal', ...options.source },
      outDir: path.join(outDir, dir),
      ...(options.force ? { force: true } : {}),
      ...(options.signKey ? { signKey: options.signKey } : {}),
      session,
    });
    const sums = result.package.files.find((f) => f.name === PACKAGE_FILES.sums)?.sha256 as string;
    runs.push({ history: loaded.history, report: result.report, package: { dir, sums } });
  }
  return runs;
}

/**
 * Writes summary.json (checked against its schema), summary.md and summary.html into a folder that holds the runs'
 * packages, then SHA256SUMS over every file and, with a key, SHA256SUMS.sig.
 */
export function writeSummary(outDir: string, evidence: DrEvidence, signKey?: PackageSigningKey): DrEvidenceResult {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, DR_FILES.json), renderSummaryJson(evidence));
  writeFileSync(path.join(outDir, DR_FILES.md), renderSummaryMarkdown(evidence));
  writeFileSync(path.join(outDir, DR_FILES.html), renderSummaryHtml(evidence));
  return { dir: outDir, evidence, ...sealPackage(outDir, packageFiles(outDir, evidence), signKey) };
}

/**
 * The files of this package: the summary's, and every file of each run's package (as its own SHA256SUMS lists
 * them, with that SHA256SUMS and its signature). Whatever else an earlier package left in the folder (--force) is
 * not listed, so it is never vouched for.
 */
function packageFiles(dir: string, evidence: DrEvidence): string[] {
  const names: string[] = [DR_FILES.json, DR_FILES.md, DR_FILES.html];
  for (const run of evidence.runs) {
    if (!run.package) continue;
    const own = readFileSync(path.join(dir, run.package.dir, PACKAGE_FILES.sums), 'utf8')
      .split('\n')
      .map((line) => /^[0-9a-f]{64} [ *](.+)$/.exec(line)?.[1])
      .filter((name): name is string => name !== undefined);
    for (const name of [...own, PACKAGE_FILES.sums, PACKAGE_FILES.sumsSignature]) {
      if (existsSync(path.join(dir, run.package.dir, name))) names.push(`${run.package.dir}/${name}`);
    }
  }
  return names;
}

/** SHA256SUMS over the package's files (the runs' included), and SHA256SUMS.sig when a key is given. */
function sealPackage(
  dir: string,
  names: readonly string[],
  signKey?: PackageSigningKey,
): Pick<DrEvidenceResult, 'files' | 'signedBy'> {
  const sums = Buffer.from(
    names.map((name) => `${sha256(readFileSync(path.join(dir, name)))}  ${name}\n`).join(''),
    'utf8',
  );
  writeFileSync(path.join(dir, PACKAGE_FILES.sums), sums);
  // An earlier signature (--force over a signed package) would sign other sums.
  rmSync(path.join(dir, PACKAGE_FILES.sumsSignature), { force: true });
  if (!signKey) return { files: names.length };
  const armored = signSshSig({ message: sums, secretKey: signKey.secretKey, namespace: SIGNING_NAMESPACE });
  writeFileSync(path.join(dir, PACKAGE_FILES.sumsSignature), armored);
  const key = parsePublicKey(signKey.publicKeyLine);
  return {
    files: names.length,
    signedBy: { fingerprint: key.ok ? key.key.fingerprint : '(unknown)', publicKey: signKey.publicKeyLine },
  };
}

// ---- verification ------------------------------------------------------------------------------------

export interface DrVerifyFinding {
  check: 'sums' | 'sums-signature' | 'summary' | 'run' | 'package';
  file?: string;
  message: string;
}

export interface DrVerification {
  dir: string;
  verified: boolean;
  sums: PackageVerification['sums'];
  sumsSignature: PackageVerification['sumsSignature'];
  summary: { status: 'matches' | 'differs' | 'not-checked'; detail: string };
  runs: { dir: string; verified: boolean; failures: string[] }[];
  failures: DrVerifyFinding[];
  warnings: string[];
}

export interface VerifyDrEvidenceOptions {
  dir: string;
  trusted?: TrustedSigners;
  requireSignature?: boolean;
}

/**
 * Checks a DR evidence package: every file against SHA256SUMS and its signature (as `audit --verify` checks a run
 * package), each run's package on its own (its report rebuilt from its history), and the summary rebuilt from the
 * runs' histories and reports, compared with summary.json, summary.md and summary.html. The snapshot is what ARM
 * said then: only the sums and the signature vouch for it. Never throws for what it finds.
 */
export function verifyDrEvidence(options: VerifyDrEvidenceOptions): DrVerification {
  const dir = path.resolve(options.dir);
  const common = {
    ...(options.trusted ? { trusted: options.trusted } : {}),
    ...(options.requireSignature ? { requireSignature: true } : {}),
  };
  const top = verifyPackage({ dir, ...common });
  const failures: DrVerifyFinding[] = [];
  for (const f of top.failures) {
    // The top holds no history, report or decisions of its own: those are checked in each run's package.
    if (f.check === 'report' || f.check === 'decisions') continue;
    failures.push({ check: f.check, message: f.message, ...(f.file ? { file: f.file } : {}) });
  }
  // The top is no run package: it has no history of its own.
  const warnings = top.warnings.filter((w) => !w.includes(PACKAGE_FILES.history));
  const result: DrVerification = {
    dir,
    verified: false,
    sums: top.sums,
    sumsSignature: top.sumsSignature,
    summary: { status: 'not-checked', detail: '' },
    runs: [],
    failures,
    warnings,
  };
  const fail = (check: DrVerifyFinding['check'], message: string, file?: string): void =>
    void failures.push({ check, message, ...(file ? { file } : {}) });
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    result.summary.detail = 'no package';
    return result;
  }

  const summaryFile = path.join(dir, DR_FILES.json);
  let stored: DrEvidence | undefined;
  let storedText: string | undefined;
  try {
    storedText = readFileSync(summaryFile, 'utf8');
    stored = drEvidenceSchema.parse(JSON.parse(storedText)) as DrEvidence;
  } catch (e) {
    fail('summary', `${DR_FILES.json} cannot be read as a DR evidence summary: ${(e as Error).message}`, DR_FILES.json);
    result.summary = { status: 'not-checked', detail: `${DR_FILES.json} is unreadable` };
  }
  if (!stored) {
    result.verified = false;
    return result;
  }

  const periodRuns: PeriodRun[] = [];
  for (const run of stored.runs) {
    if (!run.package) continue;
    const runDir = path.join(dir, run.package.dir);
    const check = verifyPackage({ dir: runDir, ...common });
    const own = check.failures.map((f) => f.message);
    const sumsFile = path.join(runDir, PACKAGE_FILES.sums);
    if (existsSync(sumsFile) && sha256(readFileSync(sumsFile)) !== run.package.sums) {
      own.push(`${run.package.dir}/${PACKAGE_FILES.sums} is not the one ${DR_FILES.json} names`);
    }
    result.runs.push({ dir: run.package.dir, verified: own.length === 0, failures: own });
    for (const message of own) fail('run', `${run.package.dir}: ${message}`, run.package.dir);
    try {
      const loaded = readHistoryFile(path.join(runDir, PACKAGE_FILES.history));
      const report = JSON.parse(readFileSync(path.join(runDir, PACKAGE_FILES.json), 'utf8')) as EvidenceReport;
      periodRuns.push({ history: loaded.history, report, package: { ...run.package } });
    } catch (e) {
      fail('run', `${run.package.dir}: its history or report cannot be read: ${(e as Error).message}`, run.package.dir);
    }
  }

  if (periodRuns.length === stored.runs.length) {
    let rebuilt: DrEvidence | undefined;
    try {
      rebuilt = {
        ...stored,
        ...summarise(
          periodRuns,
          stored.answer.groups.map((g) => g.group),
        ),
      };
    } catch (e) {
      fail('summary', `the summary cannot be rebuilt from the runs: ${(e as Error).message}`);
    }
    if (rebuilt) {
      const d = firstDifference(stored, JSON.parse(renderSummaryJson(rebuilt)));
      if (d) {
        const detail = `${DR_FILES.json} differs at ${d.path}: it has ${d.left}, the runs give ${d.right}`;
        result.summary = { status: 'differs', detail };
        fail('summary', `${detail}: it was edited`, DR_FILES.json);
      } else {
        const differing = (
          [
            [DR_FILES.md, renderSummaryMarkdown],
            [DR_FILES.html, renderSummaryHtml],
          ] as const
        ).filter(([name, render]) => {
          const file = path.join(dir, name);
          return !existsSync(file) || readFileSync(file, 'utf8') !== render(stored as DrEvidence);
        });
        for (const [name] of differing)
          fail('summary', `${name} is not what ${DR_FILES.json} gives: it was edited`, name);
        result.summary = differing.length
          ? { status: 'differs', detail: `${differing.map(([n]) => n).join(', ')} differ from ${DR_FILES.json}` }
          : {
              status: 'matches',
              detail: `rebuilt from the ${periodRuns.length} run package(s): identical to ${DR_FILES.json}, ${DR_FILES.md} and ${DR_FILES.html}`,
            };
      }
    }
  } else {
    result.summary = { status: 'not-checked', detail: 'not every run package could be read' };
  }
  result.verified = failures.length === 0;
  return result;
}
