/** `geofailover unlink-now G --key FILE --reason TEXT`: open the unlink gate now, before the trigger (commanders). */
import type { Command } from 'commander';
import { unlinkNowPayload } from '../../signing/payloads';
import type { CliContext } from '../context';
import { signerOptions } from '../signer';
import { sendSignal, type SigningCommandOptions } from './send-signal';
import { text } from './shared';

interface UnlinkNowOptions extends SigningCommandOptions {
  reason: string;
}

export function registerUnlinkNow(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  program
    .command('unlink-now')
    .summary('open the unlink approval gate now (signal unlinkNow)')
    .description(
      'The outage will last: open the approval-unlink gate now instead of waiting for the unlink trigger. ' +
        'Nothing is unlinked until the approvers approve. Only a commander of the group may ask.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .requiredOption('--reason <text>', 'why (shown to the approvers)', text('--reason'))
    .option('--print-payload', 'print the signed payload for `temporal workflow signal` instead of sending it')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExample:\n  geofailover unlink-now leaderboard --key ~/.ssh/geofailover --reason "Azure says eastus is down for 12 h"',
    )
    .action(async (ref: string, opts: UnlinkNowOptions, command: Command) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          command,
          ref,
          opts,
          (signing) => ({ name: 'unlinkNow', payload: unlinkNowPayload(signing, opts.reason) }),
          `open the unlink gate now (${opts.reason})`,
        ),
      ),
    );
}
