/**
 * `geofailover evacuate --region R --reason TEXT [--concurrency N] [--key FILE] [--dry-run] [--wait] [--json]`:
 * starts `regionEvacuation` (id evacuate/R), one failoverRunbook per group with a member in R.
 * `geofailover approve-batch evacuate/R --groups a,b,c --key FILE`: one signed approval of those groups' unlink gates.
 * `geofailover status evacuate/R [--watch] [--json]` shows the aggregate (evacuationStatus, hooked into status).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { Option, type Command } from 'commander';
import {
  approveBatchSignal,
  DEFAULT_EVACUATION_CONCURRENCY,
  evacuationStatusQuery,
  MAX_BATCH_GROUPS,
  MAX_EVACUATION_CONCURRENCY,
  type BatchApprovalPayload,
  type EvacuationResult,
  type EvacuationStatus,
  type RegionEvacuationInput,
} from '../../contract/evacuation';
import { WORKFLOW_TYPES, workflowIds } from '../../contract/names';
import type { Proof } from '../../contract/policy';
import { signAction } from '../../signing/sign-action';
import { describeIfExists, executionState } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import { formatTable, type Output } from '../output';
import { loadCliConfig, resolveGroup } from '../resolve';
import { loadSigner, refuseLongStart, signStart, signerOptions, type SignerOptions } from '../signer';
import { globalOptions, milliseconds, text } from './shared';

const DEFAULT_WATCH_INTERVAL_MS = 1000;

/** The hidden --interval of --wait (tests poll faster); status --watch has its own. */
function intervalOption(): Option {
  return new Option('--interval <ms>', 'poll interval of --wait').argParser(milliseconds('--interval')).hideHelp();
}

interface EvacuateOptions extends SignerOptions {
  region: string;
  reason: string;
  concurrency?: number;
  dryRun?: boolean;
  wait?: boolean;
  json?: boolean;
  interval?: number;
}

/** What `evacuate --json` prints (with --wait: the first NDJSON line, `type: 'started'`). */
export interface EvacuateResult {
  workflowId: string;
  runId?: string;
  workflowType: string;
  taskQueue: string;
  region: string;
  groups: string[];
  concurrency: number;
  requestedBy: string;
  reason: string;
  dryRun?: boolean;
}

function concurrencyOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVACUATION_CONCURRENCY) {
    throw new UsageError(`--concurrency ${value}: expected a whole number from 1 to ${MAX_EVACUATION_CONCURRENCY}`);
  }
  return n;
}

async function evacuate(ctx: CliContext, out: Output, command: Command, opts: EvacuateOptions): Promise<number> {
  if (opts.dryRun && opts.wait) throw new UsageError('--dry-run and --wait cannot be combined');
  const { config, taskQueue } = globalOptions(command);
  const loaded = loadCliConfig(config);
  const groups = Object.keys(loaded.config.groups)
    .map((name) => resolveGroup(loaded, name))
    .filter((g) => Object.hasOwn(g.members, opts.region));
  if (groups.length === 0) {
    throw new RefusedError(
      `no group of the configuration has a member in ${opts.region}; nothing was started`,
      `the regions of its groups: ${[...new Set(Object.values(loaded.config.groups).flatMap((g) => Object.keys(g.members)))].join(', ')}`,
      'no-groups',
    );
  }
  const workflowId = workflowIds.evacuation(opts.region);
  const concurrency = opts.concurrency ?? DEFAULT_EVACUATION_CONCURRENCY;
  const signer = opts.dryRun && !opts.key ? undefined : loadSigner(loaded, opts, ctx.env);
  refuseLongStart(signer?.validForMs);
  const result: EvacuateResult = {
    workflowId,
    workflowType: WORKFLOW_TYPES.regionEvacuation,
    taskQueue,
    region: opts.region,
    groups: groups.map((g) => g.name),
    concurrency,
    requestedBy: signer?.actor ?? '(signed with --key)',
    reason: opts.reason,
  };
  const commanded = signer ? groups.filter((g) => g.commanders.includes(signer.actor)) : groups;
  const skipped = groups.filter((g) => !commanded.includes(g)).map((g) => g.name);
  if (skipped.length > 0) {
    out.warn(`${signer?.actor} is no commander of ${skipped.join(', ')}: those groups are not started`);
  }
  if (opts.dryRun || !signer) {
    result.dryRun = true;
    const lines = [
      `would start ${result.workflowType} ${workflowId} on task queue ${taskQueue}: ${groups.length} group(s) with a member in ${opts.region}`,
      `  at most ${concurrency} of them before their traffic reroute at once; each asks its own gates`,
      ...groups.map((g) => `  ${workflowIds.failover(g.name)}  ${g.members[opts.region]}`),
    ];
    out.result(result, lines.join('\n'));
    return EXIT_OK;
  }
  const starts: Record<string, Proof> = {};
  for (const group of commanded) {
    starts[group.name] = signStart(signer, loaded, {
      workflowId: workflowIds.failover(group.name),
      group,
      region: opts.region,
      reason: opts.reason,
    });
  }
  const request = signAction(signer.key, {
    action: 'start',
    actor: signer.actor,
    workflowId,
    runId: null,
    targets: [],
    comment: opts.reason,
    detail: { region: opts.region },
    ...(signer.validForMs !== undefined ? { validForMs: signer.validForMs } : {}),
  });
  const input: RegionEvacuationInput = { region: opts.region, reason: opts.reason, request, starts, concurrency };
  const client = await ctx.temporal(signer.actor);
  let handle;
  try {
    handle = await client.workflow.start(WORKFLOW_TYPES.regionEvacuation, {
      taskQueue,
      workflowId,
      args: [input],
      staticSummary: `evacuate ${opts.region}: ${groups.length} group(s): ${opts.reason} (by ${signer.actor})`.slice(
        0,
        400,
      ),
    });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      throw new RefusedError(
        `an evacuation of ${opts.region} is already open (${workflowId}); nothing was started`,
        `see it with: geofailover status ${workflowId}`,
        'already-open',
        { workflowId },
      );
    }
    throw e;
  }
  result.runId = handle.firstExecutionRunId;
  const started =
    `started ${result.workflowType} ${workflowId} (run ${result.runId}): ${commanded.length} group(s), ` +
    `at most ${concurrency} before reroute at once\n  follow it: geofailover status ${workflowId} --watch`;
  if (!opts.wait) {
    out.result(result, started);
    return EXIT_OK;
  }
  out.event({ type: 'started', ...result }, started);
  const final = await followEvacuation(client, out, workflowId, opts.interval ?? DEFAULT_WATCH_INTERVAL_MS);
  return final.outcome === 'completed' ? EXIT_OK : EXIT_FAILED;
}

/** The aggregate of an evacuation: its query while it runs, its result once closed. */
export async function readEvacuation(
  client: Client,
  workflowId: string,
): Promise<{ execution: string; status?: EvacuationStatus; outcome?: string; summary?: string }> {
  const description = await describeIfExists(client, workflowId);
  if (!description) {
    throw new RefusedError(
      `no evacuation ${workflowId} exists`,
      'start one with: geofailover evacuate --region R --reason TEXT --key FILE',
      'not-found',
    );
  }
  const execution = executionState(description);
  const handle = client.workflow.getHandle(workflowId, description.runId);
  if (execution === 'completed') {
    const result = (await handle.result()) as EvacuationResult;
    return { execution, status: result.status, outcome: result.outcome, summary: result.summary };
  }
  const status = await handle.query(evacuationStatusQuery).catch(() => undefined);
  return { execution, ...(status ? { status } : {}) };
}

function formatRto(ms: number | undefined): string {
  return ms === undefined ? '-' : ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

export function renderEvacuation(view: Awaited<ReturnType<typeof readEvacuation>>, workflowId: string): string[] {
  const s = view.status;
  if (!s) return [`${workflowId}: ${view.execution} (no status yet)`];
  const counts = Object.entries(s.byPhase)
    .map(([phase, n]) => `${n} ${phase}`)
    .join(', ');
  const lines = [
    `${workflowId} (run ${s.runId}): ${view.outcome ?? s.phase}; ${s.groups.length} group(s): ${counts || 'none yet'}`,
    `  requested by ${s.requestedBy ?? '(not verified yet)'}: ${s.reason ?? ''}`,
    `  concurrency ${s.concurrency} before reroute; unlink approval ${s.unlinkApproval}`,
    ...(s.refusal ? [`  refused: ${s.refusal}`] : []),
    '',
    ...formatTable(
      ['GROUP', 'PHASE', 'RTO', 'GATE', 'SUMMARY'],
      s.groups.map((g) => [
        g.group,
        g.phase,
        formatRto(g.rtoMs),
        g.openGate && !g.outcome ? g.openGate.gate : '-',
        (g.summary ?? '').slice(0, 100),
      ]),
    ),
  ];
  if (s.gatesOpen.length > 0) {
    lines.push('', 'gates open:');
    for (const g of s.gatesOpen) {
      lines.push(
        g.gate === 'approval-unlink' && s.unlinkApproval === 'batch'
          ? `  ${g.workflowId} ${g.gate}: geofailover approve-batch ${workflowId} --groups ${g.group} --key FILE`
          : `  ${g.workflowId} ${g.gate}: geofailover ${g.gate.startsWith('intervention') ? 'intervene' : 'approve'} ${g.group} --key FILE`,
      );
    }
  }
  if (view.summary) lines.push('', view.summary);
  return lines;
}

/** Follows an evacuation until it closes: one event per change of its groups' phases; resolves with the last view. */
export async function followEvacuation(
  client: Client,
  out: Output,
  workflowId: string,
  intervalMs: number,
): Promise<Awaited<ReturnType<typeof readEvacuation>>> {
  let last = '';
  for (;;) {
    const view = await readEvacuation(client, workflowId);
    const key = JSON.stringify([view.execution, view.status?.byPhase, view.status?.gatesOpen]);
    if (key !== last) {
      last = key;
      const at = new Date().toISOString();
      const counts = Object.entries(view.status?.byPhase ?? {})
        .map(([p, n]) => `${n} ${p}`)
        .join(', ');
      out.event(
        { type: 'evacuation', at, ...view },
        `${at.slice(11, 19)}  ${view.outcome ?? view.status?.phase ?? view.execution}: ${counts}`,
      );
    }
    out.redraw(renderEvacuation(view, workflowId));
    if (view.execution !== 'running') {
      if (!out.json) out.result(view, renderEvacuation(view, workflowId).join('\n'));
      return view;
    }
    await sleep(intervalMs);
  }
}

/** `status evacuate/R [--watch] [--json]` (hooked into the status command). */
export async function evacuationStatus(
  ctx: CliContext,
  out: Output,
  workflowId: string,
  opts: { watch?: boolean; interval?: number },
): Promise<number> {
  const client = await ctx.temporal();
  if (opts.watch) {
    await followEvacuation(client, out, workflowId, opts.interval ?? DEFAULT_WATCH_INTERVAL_MS);
    return EXIT_OK;
  }
  const view = await readEvacuation(client, workflowId);
  out.result({ workflowId, ...view }, renderEvacuation(view, workflowId).join('\n'));
  return EXIT_OK;
}

interface BatchOptions extends SignerOptions {
  groups: string;
  comment?: string;
  json?: boolean;
}

async function approveBatch(
  ctx: CliContext,
  out: Output,
  command: Command,
  ref: string,
  opts: BatchOptions,
): Promise<number> {
  const workflowId = ref.includes('/') ? ref : workflowIds.evacuation(ref);
  const groupNames = [
    ...new Set(
      opts.groups
        .split(',')
        .map((g) => g.trim())
        .filter(Boolean),
    ),
  ];
  if (groupNames.length === 0 || groupNames.length > MAX_BATCH_GROUPS) {
    throw new UsageError(
      `--groups: name 1 to ${MAX_BATCH_GROUPS} groups, comma-separated (sign more batches for more)`,
    );
  }
  const loaded = loadCliConfig(globalOptions(command).config);
  const signer = loadSigner(loaded, opts, ctx.env);
  const client = await ctx.temporal(signer.actor);
  const view = await readEvacuation(client, workflowId);
  if (view.execution !== 'running' || !view.status) {
    throw new RefusedError(`${workflowId} is ${view.execution}: there is nothing to approve`, undefined, 'not-open');
  }
  const region = view.status.region;
  const targets = groupNames.map((name) => {
    const db = resolveGroup(loaded, name).members[region];
    if (!db) throw new UsageError(`group ${name} has no member in ${region}`);
    return db;
  });
  const proof = signAction(signer.key, {
    action: 'approve',
    actor: signer.actor,
    workflowId,
    runId: view.status.runId,
    gate: 'approval-unlink',
    targets,
    comment: opts.comment ?? '',
    detail: { groups: groupNames.join(',') },
    ...(signer.validForMs !== undefined ? { validForMs: signer.validForMs } : {}),
  });
  const payload: BatchApprovalPayload = {
    approver: signer.actor,
    groups: groupNames,
    ...(opts.comment ? { comment: opts.comment } : {}),
    proof,
  };
  await client.workflow.getHandle(workflowId, view.status.runId).signal(approveBatchSignal, payload);
  out.result(
    { workflowId, runId: view.status.runId, signal: 'approveBatch', payload, sentAt: new Date().toISOString() },
    `sent a signed approval of approval-unlink for ${groupNames.join(', ')} to ${workflowId}; ` +
      `see what it did: geofailover status ${workflowId}`,
  );
  return EXIT_OK;
}

export function registerEvacuate(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  program
    .command('evacuate')
    .summary('fail over every group with a member in a region (one runbook per group)')
    .description(
      'Start regionEvacuation (workflow id evacuate/R): every group of the configuration with a member in R gets its ' +
        'own failoverRunbook (failover/G), each started with your signed start. At most --concurrency of them are ' +
        'before their traffic reroute at once, so traffic moves for every group before anything waits on a person; ' +
        "each runbook asks its own gates (or, with the configuration's evacuation.unlinkApproval batch, one " +
        '`approve-batch` covers many unlink gates). `geofailover abort evacuate/R` reaches every runbook.',
    )
    .requiredOption('--region <region>', 'the region that failed', text('--region'))
    .requiredOption('--reason <text>', 'why (kept in every runbook history)', text('--reason'))
    .option(
      '--concurrency <n>',
      `runbooks before their traffic reroute at once (default ${DEFAULT_EVACUATION_CONCURRENCY})`,
      concurrencyOf,
    )
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option('--dry-run', 'list the groups it would start, change nothing')
    .option('--wait', 'follow the evacuation to its end; exit 0 only when every group completed')
    .option('--json', 'one JSON document (with --wait: one JSON object per line)')
    .addOption(intervalOption())
    .addHelpText(
      'after',
      `
Examples:
  geofailover evacuate --region eastus --reason "eastus outage, INC-4711" --dry-run
  geofailover evacuate --region eastus --reason "eastus outage, INC-4711" --key ~/.ssh/geofailover --concurrency 20
  geofailover status evacuate/eastus --watch
  geofailover approve-batch evacuate/eastus --groups leaderboard,sessions --key ~/.ssh/geofailover
  geofailover abort evacuate/eastus --key ~/.ssh/geofailover --reason "false alarm"`,
    )
    .action(async (opts: EvacuateOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => evacuate(ctx, out, command, opts)),
    );
}

export function registerApproveBatch(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  program
    .command('approve-batch')
    .summary('approve the unlink gates of many groups of an evacuation with one signed statement')
    .description(
      'One signed approval of approval-unlink for each listed group of evacuate/R whose gate is open (the ' +
        "configuration's evacuation.unlinkApproval must be batch). Each runbook checks it against its own approvers " +
        'and quorum, as if you had approved it alone.',
    )
    .argument('<evacuation>', 'evacuate/R, or the region R')
    .requiredOption('--groups <a,b,c>', `the groups, comma-separated (at most ${MAX_BATCH_GROUPS})`, text('--groups'))
    .option('--comment <text>', 'kept in each runbook history', text('--comment'))
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option('--json', 'one JSON document')
    .action(async (ref: string, opts: BatchOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => approveBatch(ctx, out, command, ref, opts)),
    );
}
