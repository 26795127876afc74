/** `geofailover recovered G --by NAME [--comment TEXT]`: the failed region is back; proceed to rejoin. */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { sendSignal } from './send-signal';
import { text } from './shared';

interface RecoveredOptions {
  by: string;
  comment?: string;
  json?: boolean;
}

export function registerRecovered(program: Command, ctx: CliContext): void {
  program
    .command('recovered')
    .summary('tell the runbook the failed region is back (signal regionRecovered)')
    .description(
      'Tell the open runbook that the failed region has recovered: await-recovery ends and the runbook moves on ' +
        'to rejoin and failback.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .requiredOption('--by <name>', 'who says so', text('--by'))
    .option('--comment <text>', 'kept in the history', text('--comment'))
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExample:\n  geofailover recovered leaderboard --by alice --comment "Azure status page: eastus healthy"',
    )
    .action(async (ref: string, opts: RecoveredOptions) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          ref,
          {
            name: 'regionRecovered',
            payload: { by: opts.by, ...(opts.comment ? { comment: opts.comment } : {}) },
          },
          `the failed region is back (by ${opts.by})`,
        ),
      ),
    );
}
