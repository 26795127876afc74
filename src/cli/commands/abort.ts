/** `geofailover abort G --by NAME --reason TEXT`: stop before the next destructive step. */
import type { Command } from 'commander';
import type { CliContext } from '../context';
import { sendSignal } from './send-signal';
import { text } from './shared';

interface AbortOptions {
  by: string;
  reason: string;
  json?: boolean;
}

export function registerAbort(program: Command, ctx: CliContext): void {
  program
    .command('abort')
    .summary('stop the runbook before its next destructive step (signal abort)')
    .description(
      'Stop the open runbook before its next destructive step, leaving a consistent, recorded state. What has ' +
        'been done (traffic moved, a member unlinked) stays done and is listed in the step log.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .requiredOption('--by <name>', 'who stops it', text('--by'))
    .requiredOption('--reason <text>', 'why (kept in the history)', text('--reason'))
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExample:\n  geofailover abort leaderboard --by alice --reason "false alarm: monitoring glitch"',
    )
    .action(async (ref: string, opts: AbortOptions) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          ref,
          { name: 'abort', payload: { by: opts.by, reason: opts.reason } },
          `stop before the next destructive step (by ${opts.by}: ${opts.reason})`,
        ),
      ),
    );
}
