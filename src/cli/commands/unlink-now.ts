/** `geofailover unlink-now G --by NAME --reason TEXT`: open the unlink gate now, before the trigger. */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { sendSignal } from './send-signal';
import { text } from './shared';

interface UnlinkNowOptions {
  by: string;
  reason: string;
  json?: boolean;
}

export function registerUnlinkNow(program: Command, ctx: CliContext): void {
  program
    .command('unlink-now')
    .summary('open the unlink approval gate now (signal unlinkNow)')
    .description(
      'The outage will last: open the approval-unlink gate now instead of waiting for the unlink trigger. ' +
        'Nothing is unlinked until the approvers approve.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .requiredOption('--by <name>', 'who asks', text('--by'))
    .requiredOption('--reason <text>', 'why (shown to the approvers)', text('--reason'))
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExample:\n  geofailover unlink-now leaderboard --by alice --reason "Azure says eastus is down for 12 h"',
    )
    .action(async (ref: string, opts: UnlinkNowOptions) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          ref,
          { name: 'unlinkNow', payload: { by: opts.by, reason: opts.reason } },
          `open the unlink gate now (by ${opts.by}: ${opts.reason})`,
        ),
      ),
    );
}
