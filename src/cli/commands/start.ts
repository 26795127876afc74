/**
 * `geofailover start G --failed-region R --reason TEXT [--key FILE] [--accept-settings-mismatch]
 * [--dry-run [--offline]] [--wait] [--json]`: checks everything it can, then starts `failoverRunbook` (id failover/G).
 */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { SEARCH_ATTRIBUTES, WORKFLOW_TYPES, workflowIds } from '../../contract/names';
import { INCIDENT_ID, type FailoverRunbookInput } from '../../contract/runbook';
import { countWorkflowPollers, describeIfExists, findOpenRunbook, startFailover } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import type { Output } from '../output';
import { azureChecks, renderChecks, temporalChecks } from '../preflight';
import { renderPlan } from '../render';
import {
  buildFailoverInput,
  checkFailedRegion,
  loadCliConfig,
  planFailover,
  planWarnings,
  resolveGroup,
  type FailoverRequest,
} from '../resolve';
import { KEY_ENV, loadSigner, refuseLongStart, signStart, signerOptions, type SignerOptions } from '../signer';
import { addGroupArgument, groupOf } from '../group-argument';
import { actor, globalOptions, text } from './shared';
import { intervalOption, reportStarted } from './status';

/** What `start --json` prints (with --wait: the first NDJSON line, `type: 'started'`). */
export interface StartResult {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  group: string;
  failedRegion: string;
  survivors: string[];
  requestedBy: string;
  reason: string;
  warnings: string[];
  /** the run's page in the Temporal Web UI, when its address is known */
  webUi?: string;
}

interface StartOptions extends SignerOptions {
  /** the older --group form of the group argument */
  group?: string;
  failedRegion: string;
  reason: string;
  acceptSettingsMismatch?: boolean;
  incident?: string;
  dryRun?: boolean;
  /** --dry-run without the live checks (Temporal, workers, ARM) */
  offline?: boolean;
  wait?: boolean;
  json?: boolean;
  interval?: number;
}

/**
 * A failover cannot start while another runbook of the group acts on its Traffic Manager profile: its rejoin, its
 * rehearsal, or a rehearsal its schedule started.
 */
async function refuseOtherOpenRunbooks(client: Client, group: string): Promise<void> {
  const found = await findOpenRunbook(client, group, [workflowIds.rejoin(group), workflowIds.rehearsal(group)]);
  if (!found) return;
  const what = found.workflowId.startsWith('rehearsal/') ? 'a rehearsal' : 'a rejoin';
  throw new RefusedError(
    `${what} of group ${group} is open: workflow ${found.workflowId} (run ${found.runId}, started ` +
      `${found.startTime.toISOString()}); a failover cannot start while it runs; nothing was started`,
    `see it with: geofailover status ${found.workflowId}` +
      (what === 'a rehearsal' ? `  (end it first: geofailover abort ${found.workflowId} --reason TEXT)` : ''),
    'runbook-open',
    { workflowId: found.workflowId, runId: found.runId },
  );
}

async function refusalForOpenFailover(client: Client, group: string): Promise<RefusedError> {
  const workflowId = workflowIds.failover(group);
  const open = await describeIfExists(client, workflowId).catch(() => undefined);
  const summary = open ? await open.staticSummary().catch(() => undefined) : undefined;
  const details = open
    ? ` (run ${open.runId}, started ${open.startTime.toISOString()}${summary ? `: ${summary}` : ''})`
    : '';
  return new RefusedError(
    `an incident is already open for group ${group}: workflow ${workflowId}${details}; nothing was started`,
    `see it with: geofailover status ${group}  (end it first with geofailover abort ${group} --key FILE --reason TEXT)`,
    'already-open',
    { workflowId, ...(open ? { runId: open.runId, startedAt: open.startTime.toISOString() } : {}) },
  );
}

function searchAttributeRefusal(e: unknown): RefusedError | undefined {
  const message = (e as Error)?.message ?? '';
  if (!/search attribute/i.test(message)) return undefined;
  const create = Object.values(SEARCH_ATTRIBUTES)
    .map((sa) => `temporal operator search-attribute create --name ${sa.name} --type ${sa.type}`)
    .join('; ');
  return new RefusedError(
    `the Temporal namespace does not know the runbook's search attributes: ${message}; nothing was started`,
    `register them once: ${create}`,
    'search-attributes-missing',
  );
}

async function start(
  ctx: CliContext,
  out: Output,
  command: Command,
  groupName: string,
  opts: StartOptions,
): Promise<number> {
  if (opts.dryRun && opts.wait) throw new UsageError('--dry-run and --wait cannot be combined');
  if (opts.offline && !opts.dryRun) throw new UsageError('--offline only goes with --dry-run');
  const { config, taskQueue } = globalOptions(command);

  // Everything that can be checked without Temporal, before anything changes.
  const loaded = loadCliConfig(config);
  const group = resolveGroup(loaded, groupName);
  const survivors = checkFailedRegion(group, opts.failedRegion);
  // A dry run needs no key (it shows where the signature goes); a start is always signed.
  const signer = opts.dryRun && !opts.key && !ctx.env[KEY_ENV] ? undefined : loadSigner(loaded, opts, ctx.env);
  const requestedBy = signer?.actor ?? actor(opts.by, ctx.env);
  refuseLongStart(signer?.validForMs);
  const request: FailoverRequest = {
    group,
    failedRegion: opts.failedRegion,
    reason: opts.reason,
    requestedBy,
    acceptSettingsMismatch: opts.acceptSettingsMismatch,
  };
  if (signer) {
    const workflowId = workflowIds.failover(group.name);
    request.request = signStart(signer, loaded, { workflowId, group, region: opts.failedRegion, reason: opts.reason });
  }
  const input: FailoverRunbookInput = buildFailoverInput(request);
  if (opts.incident !== undefined) {
    if (!INCIDENT_ID.test(opts.incident)) {
      throw new UsageError(
        `--incident ${JSON.stringify(opts.incident.slice(0, 80))}: at most 64 letters, digits and . _ : # / -`,
        '--incident INC-4711',
      );
    }
    input.incident = opts.incident;
  }

  if (opts.dryRun) {
    const plan = planFailover(request, taskQueue);
    if (opts.offline) {
      out.result(plan, renderPlan(plan).join('\n'));
      return EXIT_OK;
    }
    // The plan alone says nothing about whether a start would run: check the world it would run in.
    out.progress(`checking Temporal, its workers and ARM for group ${group.name}…`);
    const [temporal, azure] = await Promise.all([
      temporalChecks(
        () => ctx.temporal(requestedBy),
        () => ctx.temporalTarget(),
        group,
        taskQueue,
      ),
      azureChecks(loaded, group),
    ]);
    const checks = [...temporal, ...azure];
    const failed = checks.filter((c) => !c.ok).length;
    const verdict = failed
      ? `${failed} live check(s) failed: a start now would not run; fix them first (or pass --offline to see only the plan)`
      : 'every live check passed: a start now would run';
    out.result({ ...plan, checks }, [...renderPlan(plan), '', ...renderChecks(checks), verdict].join('\n'));
    return failed ? EXIT_FAILED : EXIT_OK;
  }

  const warnings = planWarnings(request);
  const client = await ctx.temporal(requestedBy);
  await refuseOtherOpenRunbooks(client, group.name);
  let handle;
  try {
    handle = await startFailover(client, input, { taskQueue, requestedBy });
  } catch (e) {
    if (e instanceof WorkflowExecutionAlreadyStartedError) throw await refusalForOpenFailover(client, group.name);
    throw searchAttributeRefusal(e) ?? e;
  }
  const pollers = await countWorkflowPollers(client, taskQueue);
  if (pollers === 0) {
    warnings.push(
      `no worker polls task queue ${taskQueue} right now: the runbook waits until one does (geofailover worker)`,
    );
  }
  for (const w of warnings) out.warn(w);

  const result: StartResult = {
    workflowId: handle.workflowId,
    runId: handle.firstExecutionRunId,
    workflowType: WORKFLOW_TYPES.failoverRunbook,
    taskQueue,
    group: group.name,
    failedRegion: input.failedRegion,
    survivors,
    requestedBy,
    reason: input.reason,
    warnings,
  };
  const webUi = ctx.webUi(result.workflowId, result.runId);
  if (webUi) result.webUi = webUi;
  const started =
    `started ${result.workflowType} ${result.workflowId} (run ${result.runId}) on task queue ${taskQueue}\n` +
    `  group ${group.name}: ${input.failedRegion} failed; survivors ${survivors.join(', ')}; requested by ${requestedBy}\n` +
    `  follow it: geofailover status ${group.name} --watch` +
    (webUi ? `\n  Web UI: ${webUi}` : '');
  return reportStarted(client, out, handle, { result, text: started, wait: opts.wait, interval: opts.interval });
}

export function registerStart(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  const cmd = program
    .command('start')
    .summary('start a failover of one replication group (checks everything first)')
    .description(
      'Start failoverRunbook for one geo-replication group (workflow id failover/G). Before anything starts it ' +
        'checks the configuration, the group, that the failed region is a member with a survivor, the resource ' +
        'ids, and that no incident is open for the group; any problem refuses the start with exit code 1.',
    );
  addGroupArgument(cmd, { required: true, description: 'the group, as named in the configuration' })
    .requiredOption('--failed-region <region>', 'the member region that failed', text('--failed-region'))
    .requiredOption('--reason <text>', 'why (kept in the history, shown to approvers)', text('--reason'))
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option(
      '--incident <id>',
      "the incident's id in your tracker (e.g. INC-4711): kept in the history, shown in the evidence report",
      text('--incident'),
    )
    .option('--accept-settings-mismatch', 'go on even when survivors’ settings differ (the differences are recorded)')
    .option(
      '--dry-run',
      'print the plan (steps, targets, approvers, durations) and check the live world (Temporal reachable, workers ' +
        'polling each task queue the run needs, ARM reachable, every member readable); change nothing; exit 1 ' +
        'when a check fails',
    )
    .option('--offline', 'with --dry-run: only the plan, no live checks')
    .option('--wait', 'follow the run to its end, one line per step change; exit 0 only when it completed')
    .option('--json', 'one JSON document (with --wait: one JSON object per line)')
    .addOption(intervalOption('--wait'))
    .addHelpText(
      'after',
      `
Examples:
  geofailover start leaderboard --failed-region eastus --reason "eastus outage, INC-4711" --dry-run
  geofailover start leaderboard --failed-region eastus --reason "eastus outage, INC-4711" --dry-run --offline
  geofailover start leaderboard --failed-region eastus --reason "eastus outage, INC-4711" --key ~/.ssh/geofailover
  geofailover start leaderboard --failed-region eastus --reason "drill" --key alice.key --wait --json`,
    )
    .action(async (group: string | undefined, opts: StartOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => start(ctx, out, command, groupOf(command, group, opts.group)!, opts)),
    );
}
