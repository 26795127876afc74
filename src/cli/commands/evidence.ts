/**
 * `geofailover evidence --from DATE --to DATE [--group G] [--out DIR [--force]] [--sign-key FILE] [--json]`: the
 * quarterly DR evidence package — every runbook run of the period (incident, rehearsal, drill) audited into its own
 * package, a summary that answers "was DR tested, and did it meet the target?", the destructive ARM calls with
 * their times and the groups as ARM shows them now; one SHA256SUMS over all of it, signed with the auditor's key.
 * Exit 0 written and every run replays, 1 a replay diverged, refused or failed, 2 bad usage (checked before
 * anything is read).
 *
 * `geofailover evidence --verify DIR [--allowed-signers FILE | --config FILE] [--json]`: check a package.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { OutputDirError } from '../../audit/package';
import { installQuietRuntime } from '../../audit/replay';
import {
  verifyDrEvidence,
  writeDrEvidence,
  type DrEvidenceResult,
  type DrVerification,
} from '../../audit/dr-evidence/package';
import { parsePeriod, periodFolderName, PeriodError, type Period } from '../../audit/dr-evidence/period';
import { approvalsText, destructiveText, rtoText } from '../../audit/dr-evidence/render';
import type { DrSnapshot, EvidenceOutput, EvidenceVerifyOutput } from '../../audit/dr-evidence/schema';
import type * as SnapshotModule from '../../audit/dr-evidence/snapshot';
import { resolveConfigPath } from '../../config/load';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import { formatTable, type Output } from '../output';
import { armClientsOf } from '../preflight';
import { loadCliConfig, resolveGroup, type LoadedConfig } from '../resolve';
import { EVIDENCE_KEY_ENV, shownPath, signingKey, trustedSigners } from './audit';
import { globalOptions, text } from './shared';

interface EvidenceOptions {
  from?: string;
  to?: string;
  group?: string;
  out?: string;
  force?: boolean;
  signKey?: string;
  json?: boolean;
  verify?: string;
  allowedSigners?: string;
  requireSignature?: boolean;
}

const EXAMPLE = 'geofailover evidence --from 2026-10-01 --to 2026-12-31';

/** The configuration when there is one (the snapshot and --group need it); a broken one is an error. */
function optionalConfig(configFlag: string | undefined): LoadedConfig | undefined {
  if (configFlag === undefined && !existsSync(resolveConfigPath(undefined))) return undefined;
  return loadCliConfig(configFlag);
}

/** Everything a user can get wrong, before anything is read: the period, the group, the flags. */
function checkUsage(
  opts: EvidenceOptions,
  configFlag: string | undefined,
): { period: Period; loaded?: LoadedConfig; scope: string[] } {
  if (opts.allowedSigners || opts.requireSignature) {
    throw new UsageError(
      `${opts.allowedSigners ? '--allowed-signers' : '--require-signature'} applies to --verify DIR`,
    );
  }
  if (opts.from === undefined || opts.to === undefined) {
    throw new UsageError('the period is required: give --from DATE and --to DATE', EXAMPLE);
  }
  let period: Period;
  try {
    period = parsePeriod(opts.from, opts.to);
  } catch (e) {
    if (e instanceof PeriodError) throw new UsageError(e.message, EXAMPLE);
    throw e;
  }
  const loaded = optionalConfig(configFlag);
  if (opts.group !== undefined) {
    if (!loaded) {
      throw new UsageError(
        `--group ${opts.group}: no configuration to know the group by (${resolveConfigPath(configFlag)} does not exist)`,
        'pass --config FILE, or leave out --group to gather every group',
      );
    }
    const known = Object.keys(loaded.config.groups);
    if (!Object.hasOwn(loaded.config.groups, opts.group)) {
      throw new UsageError(
        `no group "${opts.group}" in ${loaded.file}; known groups: ${known.join(', ') || 'none'}`,
        'give one of them to --group, or leave it out to gather every group',
      );
    }
  }
  const scope = opts.group !== undefined ? [opts.group] : loaded ? Object.keys(loaded.config.groups) : [];
  return { period, ...(loaded ? { loaded } : {}), scope };
}

/** The groups as ARM shows them now, through the activities' own clients; why not, when it cannot. */
async function readSnapshot(loaded: LoadedConfig | undefined, scope: readonly string[]): Promise<DrSnapshot> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the Azure SDK only once the runs are audited
  const snapshots = require('../../audit/dr-evidence/snapshot') as typeof SnapshotModule;
  if (!loaded) {
    return snapshots.unavailableSnapshot(
      `no configuration (${resolveConfigPath(undefined)} does not exist): the snapshot is read through the azure ` +
        "section and the groups of the workers' configuration (pass --config FILE)",
      scope,
    );
  }
  let groups;
  let arm;
  try {
    groups = scope.map((name) => resolveGroup(loaded, name));
    arm = armClientsOf(loaded);
  } catch (e) {
    return snapshots.unavailableSnapshot(`cannot read ARM with ${loaded.file}: ${(e as Error).message}`, scope);
  }
  try {
    return await snapshots.readSnapshot(arm, groups);
  } catch (e) {
    return snapshots.unavailableSnapshot(`ARM at ${arm.endpoint} could not be read: ${(e as Error).message}`, scope);
  }
}

function output(result: DrEvidenceResult): EvidenceOutput {
  const e = result.evidence;
  return {
    dir: result.dir,
    period: e.period,
    answer: e.answer,
    runs: e.runs.map((r) => ({
      workflowId: r.workflowId,
      ...(r.runId ? { runId: r.runId } : {}),
      kind: r.kind,
      group: r.group,
      region: r.region,
      outcome: r.outcome,
      ...(r.rto.ms !== undefined ? { rtoMs: r.rto.ms } : {}),
      ...(r.rto.met !== undefined ? { rtoMet: r.rto.met } : {}),
      verdict: r.replay.verdict,
      ...(r.package ? { package: r.package.dir } : {}),
    })),
    destructiveCalls: e.destructiveCalls.length,
    snapshot: { status: e.snapshot.status, ...(e.snapshot.reason ? { reason: e.snapshot.reason } : {}) },
    files: result.files,
    ...(result.signedBy ? { signedBy: result.signedBy } : {}),
    replayVerified: e.replayVerified,
  };
}

function renderResult(result: DrEvidenceResult): string {
  const e = result.evidence;
  const dir = shownPath(result.dir);
  const lines = [`DR evidence ${e.period.label}${e.group ? ` (group ${e.group})` : ''}: ${e.answer.headline}`];
  if (e.runs.length) {
    lines.push(
      ...formatTable(
        ['date', 'group', 'region', 'kind', 'outcome', 'RTO', 'destructive', 'replay'],
        e.runs.map((r) => [
          r.startedAt.slice(0, 10),
          r.group,
          r.region,
          r.kind,
          r.outcome,
          rtoText(r),
          destructiveText(r),
          r.replay.verdict,
        ]),
      ).map((l) => `  ${l}`),
    );
    for (const r of e.runs) lines.push(`  ${r.workflowId}: ${approvalsText(r)}`);
  } else lines.push('  no runbook ran in the period');
  lines.push(`destructive ARM calls: ${e.destructiveCalls.filter((c) => c.called).length}`);
  lines.push(`group snapshot: ${e.snapshot.status}${e.snapshot.reason ? ` (${e.snapshot.reason})` : ''}`);
  lines.push(`evidence package: ${dir} (summary.md, summary.html, summary.json; ${result.files} files in SHA256SUMS)`);
  lines.push(
    result.signedBy
      ? `SHA256SUMS.sig: signed with key ${result.signedBy.fingerprint}`
      : `SHA256SUMS.sig: not written, the package is unsigned (pass --sign-key FILE or set ${EVIDENCE_KEY_ENV})`,
  );
  lines.push(`check it with: (cd ${dir} && sha256sum -c SHA256SUMS)   or   geofailover evidence --verify ${dir}`);
  return lines.join('\n');
}

function renderVerification(v: DrVerification): string {
  const dir = shownPath(v.dir);
  const s = v.sumsSignature;
  const lines = [
    v.verified ? `DR evidence package: VERIFIED — ${dir}` : `DR evidence package: FAILED — ${dir}`,
    `  SHA256SUMS: ${v.sums.ok} of ${v.sums.files} file(s) match`,
    s.status === 'unsigned'
      ? '  SHA256SUMS.sig: none, the package is UNSIGNED (anyone could have rewritten it together with SHA256SUMS)'
      : s.status === 'verified'
        ? `  SHA256SUMS.sig: signed by ${s.signer} (key ${s.fingerprint}), trusted from ${s.trustedFrom}`
        : `  SHA256SUMS.sig: FAILED: ${s.reason}`,
    `  summary: ${v.summary.status}${v.summary.detail ? ` — ${v.summary.detail}` : ''}`,
    ...v.runs.map((r) => `  ${r.verified ? 'ok    ' : 'FAILED'} ${r.dir}`),
    ...v.failures.map((f) => `failed: ${f.message}`),
  ];
  return lines.join('\n');
}

async function verify(out: Output, configFlag: string | undefined, opts: EvidenceOptions): Promise<number> {
  if (opts.from || opts.to || opts.group || opts.out || opts.signKey || opts.force) {
    throw new UsageError(
      '--verify DIR checks a package: give no --from, --to, --group, --out, --sign-key or --force with it',
      'geofailover evidence --verify evidence/dr_2026-10-01_2026-12-31 --allowed-signers auditors.allowed_signers',
    );
  }
  const trusted = trustedSigners(configFlag, opts);
  const result = verifyDrEvidence({
    dir: opts.verify as string,
    ...(trusted ? { trusted } : {}),
    ...(opts.requireSignature ? { requireSignature: true } : {}),
  });
  for (const w of result.warnings) out.warn(w);
  const doc: EvidenceVerifyOutput = result;
  out.result(doc, renderVerification(result));
  return result.verified ? EXIT_OK : EXIT_FAILED;
}

async function evidence(
  ctx: CliContext,
  out: Output,
  opts: EvidenceOptions,
  configFlag: string | undefined,
): Promise<number> {
  if (opts.verify !== undefined) return verify(out, configFlag, opts);
  const { period, loaded, scope } = checkUsage(opts, configFlag);
  const signKey = signingKey(ctx, opts);
  const outDir = opts.out
    ? path.resolve(opts.out)
    : path.join(process.cwd(), 'evidence', periodFolderName(opts.from as string, opts.to as string, opts.group));
  installQuietRuntime();
  const client = await ctx.temporal();
  const target = ctx.temporalTarget();
  let result: DrEvidenceResult;
  try {
    result = await writeDrEvidence({
      client,
      period,
      ...(opts.group !== undefined ? { group: opts.group } : {}),
      scope,
      outDir,
      ...(opts.force ? { force: true } : {}),
      ...(signKey ? { signKey } : {}),
      source: { address: target.address, namespace: target.namespace },
      snapshot: () => readSnapshot(loaded, scope),
      progress: (t) => out.progress(t),
    });
  } catch (e) {
    if (!(e instanceof OutputDirError)) throw e;
    throw new RefusedError(
      `${shownPath(outDir)} already holds files; nothing was written (an evidence package is never written over another)`,
      'pass --force to write into it anyway, or --out with another (new or empty) folder',
      'output-not-empty',
      { dir: outDir },
    );
  }
  if (result.evidence.snapshot.status !== 'read') {
    out.warn(`group snapshot ${result.evidence.snapshot.status}: ${result.evidence.snapshot.reason ?? ''}`);
  }
  out.result(output(result), renderResult(result));
  return result.evidence.replayVerified ? EXIT_OK : EXIT_FAILED;
}

export function registerEvidence(program: Command, ctx: CliContext): void {
  program
    .command('evidence')
    .summary('the DR evidence package of a period: every run audited, was DR tested and did it meet the target')
    .description(
      'Gather every runbook run that started in the period (failoverRunbook and rejoinRunbook, found through ' +
        "Temporal's search attributes; incident, rehearsal and drill, from each run's input), audit each into " +
        'its own evidence package under runs/, and write summary.md, summary.html and summary.json (schema: ' +
        'schemas/dr-evidence.schema.json): whether DR was tested and met its RTO target, one row per run (date, ' +
        'group, region, kind, outcome, RTO against the target, destructive steps exercised, who approved, replay ' +
        'verdict), the time of every destructive ARM call, and each group as ARM shows it now (read with the ' +
        "configuration's azure section, as the workers read it). SHA256SUMS covers every file; --sign-key signs " +
        'it. An --out folder that holds files is refused unless --force. Exit 0 written and every run replays, 1 a ' +
        'replay diverged or it failed, 2 bad usage.\n\n' +
        'With --verify DIR: check every file against SHA256SUMS, SHA256SUMS.sig against --allowed-signers or the ' +
        "configuration's people, each run's package as `audit --verify` does, and the summary rebuilt from the " +
        'runs. Exit 0 verified, 1 failed.',
    )
    .option(
      '--from <date>',
      'first day of the period (2026-10-01, UTC) or an instant (2026-10-01T08:00:00Z)',
      text('--from'),
    )
    .option('--to <date>', 'last day of the period, included (2026-12-31) or an instant', text('--to'))
    .option('--group <group>', "only this group's runs (default: every group)", text('--group'))
    .option(
      '--out <dir>',
      'where to write the package, a new or empty folder (default: evidence/dr_<from>_<to>[_<group>])',
      text('--out'),
    )
    .option('--force', 'write into an --out folder that already holds files (default: refuse it)')
    .option(
      '--sign-key <file>',
      `sign SHA256SUMS (SHA256SUMS.sig) with this unencrypted ed25519 key (default: $${EVIDENCE_KEY_ENV})`,
      text('--sign-key'),
    )
    .option('--verify <dir>', 'check a DR evidence package instead of writing one', text('--verify'))
    .option(
      '--allowed-signers <file>',
      "with --verify: the OpenSSH allowed_signers file of the signers you trust (default: the configuration's people)",
      text('--allowed-signers'),
    )
    .option('--require-signature', 'with --verify: fail an unsigned package')
    .option(
      '--json',
      'one JSON document (schemas/cli-evidence.schema.json; with --verify schemas/cli-evidence-verify.schema.json)',
    )
    .addHelpText(
      'after',
      `
Examples:
  geofailover evidence --from 2026-10-01 --to 2026-12-31 --sign-key ~/.ssh/auditor_ed25519
  geofailover evidence --from 2026-10-01 --to 2026-12-31 --group leaderboard --json
  geofailover evidence --verify evidence/dr_2026-10-01_2026-12-31 --allowed-signers auditors.allowed_signers`,
    )
    .action(async (opts: EvidenceOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => evidence(ctx, out, opts, globalOptions(command).config)),
    );
}
