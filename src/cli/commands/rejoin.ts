/**
 * `geofailover rejoin G --region R --reason TEXT [--key FILE] [--wait] [--json]`: starts
 * `rejoinRunbook` (id rejoin/G) for a region whose database was unlinked earlier — by hand, or by a
 * failover that has ended. Refused while a failover of the group is open.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { WORKFLOW_TYPES, workflowIds } from '../../contract/names';
import type { RejoinRunbookInput } from '../../contract/runbook';
import { FailoverOpenError, startRejoin } from '../../starter';
import type { CliContext } from '../context';
import { RefusedError } from '../errors';
import type { Output } from '../output';
import { loadCliConfig, resolveGroup } from '../resolve';
import { loadSigner, refuseLongStart, signStart, signerOptions, type SignerOptions } from '../signer';
import { addGroupArgument, groupOf } from '../group-argument';
import { globalOptions, text } from './shared';
import { intervalOption, reportStarted } from './status';

interface RejoinOptions extends SignerOptions {
  /** the older --group form of the group argument */
  group?: string;
  region: string;
  reason: string;
  wait?: boolean;
  json?: boolean;
  interval?: number;
}

/** What `rejoin --json` prints (with --wait: the first NDJSON line, `type: 'started'`). */
export interface RejoinStartResult {
  workflowId: string;
  runId: string;
  workflowType: string;
  taskQueue: string;
  group: string;
  region: string;
  requestedBy: string;
  reason: string;
  /** the run's page in the Temporal Web UI, when its address is known */
  webUi?: string;
}

async function rejoin(
  ctx: CliContext,
  out: Output,
  command: Command,
  groupName: string,
  opts: RejoinOptions,
): Promise<number> {
  const { config, taskQueue } = globalOptions(command);
  const loaded = loadCliConfig(config);
  const group = resolveGroup(loaded, groupName);
  const signer = loadSigner(loaded, opts, ctx.env);
  const requestedBy = signer.actor;
  refuseLongStart(signer.validForMs);
  const members = Object.keys(group.members);
  if (!members.includes(opts.region)) {
    throw new RefusedError(
      `${opts.region} is not a member of group ${group.name}; its members are ${members.join(', ')}`,
      'pass the region whose database must rejoin to --region',
      'not-a-member',
      { group: group.name, region: opts.region, members },
    );
  }
  const workflowId = workflowIds.rejoin(group.name);
  const request = signStart(signer, loaded, { workflowId, group, region: opts.region, reason: opts.reason });
  const input: RejoinRunbookInput = { group: group.name, region: opts.region, reason: opts.reason, request };

  const client = await ctx.temporal(requestedBy);
  let handle;
  try {
    handle = await startRejoin(client, input, { taskQueue, requestedBy });
  } catch (e) {
    if (e instanceof FailoverOpenError) {
      throw new RefusedError(
        `${e.message}; nothing was started`,
        `the open failover rejoins the region itself: geofailover status ${group.name}`,
        'runbook-open',
        { workflowId: e.workflowId, runId: e.runId },
      );
    }
    if (e instanceof WorkflowExecutionAlreadyStartedError) {
      throw new RefusedError(
        `a rejoin of group ${group.name} is already open: workflow ${workflowIds.rejoin(group.name)}; nothing was started`,
        `see it with: geofailover status ${workflowIds.rejoin(group.name)}`,
        'already-open',
        { workflowId: workflowIds.rejoin(group.name) },
      );
    }
    throw e;
  }
  const result: RejoinStartResult = {
    workflowId: handle.workflowId,
    runId: handle.firstExecutionRunId,
    workflowType: WORKFLOW_TYPES.rejoinRunbook,
    taskQueue,
    group: group.name,
    region: opts.region,
    requestedBy,
    reason: opts.reason,
  };
  const webUi = ctx.webUi(result.workflowId, result.runId);
  if (webUi) result.webUi = webUi;
  const started =
    `started ${result.workflowType} ${result.workflowId} (run ${result.runId}) on task queue ${taskQueue}\n` +
    `  group ${group.name}: rejoin ${opts.region}; requested by ${requestedBy}\n` +
    `  follow it: geofailover status ${result.workflowId} --watch` +
    (webUi ? `\n  Web UI: ${webUi}` : '');
  return reportStarted(client, out, handle, { result, text: started, wait: opts.wait, interval: opts.interval });
}

export function registerRejoin(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  const cmd = program
    .command('rejoin')
    .summary('rejoin a region unlinked earlier and fail traffic back to it (rejoinRunbook)')
    .description(
      'Start rejoinRunbook for one group (workflow id rejoin/G): approval, force-link (or recreate) of the ' +
        "region's database, which discards its data, then failback once it passes the probes. Refused while a " +
        'failover of the group is open.',
    );
  addGroupArgument(cmd, { required: true, description: 'the group, as named in the configuration' })
    .requiredOption('--region <region>', 'the member region whose database rejoins', text('--region'))
    .requiredOption('--reason <text>', 'why (kept in the history, shown to approvers)', text('--reason'))
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option('--wait', 'follow the run to its end; exit 0 only when it completed')
    .option('--json', 'one JSON document (with --wait: one JSON object per line)')
    .addOption(intervalOption('--wait'))
    .addHelpText(
      'after',
      `
Examples:
  geofailover rejoin leaderboard --region eastus --reason "eastus is back, INC-4711" --key ~/.ssh/geofailover
  geofailover rejoin leaderboard --region eastus --reason "drill" --key alice.key --wait --json`,
    )
    .action(async (group: string | undefined, opts: RejoinOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => rejoin(ctx, out, command, groupOf(command, group, opts.group)!, opts)),
    );
}
