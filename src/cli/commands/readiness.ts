/** `geofailover readiness [--group G] [--json]`: could each group fail over right now? */
import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { Command } from 'commander';
import { workflowIds } from '../../contract/names';
import type { ReadinessReport } from '../../contract/readiness';
import type { GroupDefinition } from '../../contract/runbook';
import { countWorkflowPollers, startReadinessCheck } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError } from '../errors';
import type { Output } from '../output';
import { renderReadiness } from '../render';
import { groupMembers, loadCliConfig, resolveGroup } from '../resolve';
import { globalOptions, text } from './shared';

/** What `readiness --json` prints. */
export interface ReadinessOutput {
  /** true when every group checked is ready */
  ready: boolean;
  reports: ReadinessReport[];
}

interface ReadinessOptions {
  group?: string;
  json?: boolean;
}

/** A check whose members do not answer takes up to its read timeouts (2 minutes by default). */
const RESULT_TIMEOUT_MS = 180_000;

async function checkGroup(client: Client, group: GroupDefinition, taskQueue: string): Promise<ReadinessReport> {
  let handle;
  try {
    handle = await startReadinessCheck(client, { group: group.name, members: groupMembers(group) }, { taskQueue });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
    // A check of the group is already running: its answer is as fresh as ours would be.
    handle = client.workflow.getHandle(workflowIds.readiness(group.name));
  }
  const h = handle;
  return (await client.withDeadline(Date.now() + RESULT_TIMEOUT_MS, () => h.result())) as ReadinessReport;
}

async function readiness(ctx: CliContext, out: Output, command: Command, opts: ReadinessOptions): Promise<number> {
  const { config, taskQueue } = globalOptions(command);
  const loaded = loadCliConfig(config);
  const names = opts.group ? [opts.group] : Object.keys(loaded.config.groups);
  const groups = names.map((name) => resolveGroup(loaded, name));
  const client = await ctx.temporal();
  if ((await countWorkflowPollers(client, taskQueue)) === 0) {
    throw new RefusedError(
      `no worker polls task queue ${taskQueue}, so nobody would run the check`,
      'start one with: geofailover worker',
      'no-worker',
    );
  }
  const reports = await Promise.all(groups.map((g) => checkGroup(client, g, taskQueue)));
  const result: ReadinessOutput = { ready: reports.every((r) => r.ready), reports };
  out.result(result, reports.flatMap(renderReadiness).join('\n'));
  return result.ready ? EXIT_OK : EXIT_FAILED;
}

export function registerReadiness(program: Command, ctx: CliContext): void {
  program
    .command('readiness')
    .summary('check whether a group (or every group) could fail over right now (exit 1 when not)')
    .description(
      'Run readinessCheck for one group or every configured group: every member reachable and Succeeded/Running, ' +
        'every member linked to every other, settings that agree. Needs a running worker.',
    )
    .option('--group <name>', 'only this group (default: every group in the configuration)', text('--group'))
    .option('--json', 'one JSON document')
    .addHelpText('after', '\nExamples:\n  geofailover readiness\n  geofailover readiness --group leaderboard --json')
    .action(async (opts: ReadinessOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => readiness(ctx, out, command, opts)),
    );
}
