/** `geofailover abort G --key FILE --reason TEXT`: stop before the next destructive step (commanders only). */
import type { Command } from 'commander';
import { abortPayload } from '../../signing/payloads';
import type { CliContext } from '../context';
import { signerOptions } from '../signer';
import { sendSignal, type SigningCommandOptions } from './send-signal';
import { text } from './shared';

interface AbortOptions extends SigningCommandOptions {
  reason: string;
}

export function registerAbort(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  program
    .command('abort')
    .summary('stop the runbook before its next destructive step (signal abort)')
    .description(
      'Stop the open runbook before its next destructive step, leaving a consistent, recorded state. What has ' +
        'been done (traffic moved, a member unlinked) stays done and is listed in the step log.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .requiredOption('--reason <text>', 'why (kept in the history)', text('--reason'))
    .option('--print-payload', 'print the signed payload for `temporal workflow signal` instead of sending it')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExample:\n  geofailover abort leaderboard --key ~/.ssh/geofailover --reason "false alarm: monitoring glitch"',
    )
    .action(async (ref: string, opts: AbortOptions, command: Command) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          command,
          ref,
          opts,
          (signing) => ({ name: 'abort', payload: abortPayload(signing, opts.reason) }),
          `stop before the next destructive step (${opts.reason})`,
        ),
      ),
    );
}
