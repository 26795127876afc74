/** `geofailover recovered G --key FILE [--comment TEXT]`: the failed region is back; proceed to rejoin. */
import type { Command } from 'commander';
import { regionRecoveredPayload } from '../../signing/payloads';
import type { CliContext } from '../context';
import { signerOptions } from '../signer';
import { sendSignal, type SigningCommandOptions } from './send-signal';
import { text } from './shared';

interface RecoveredOptions extends SigningCommandOptions {
  comment?: string;
}

export function registerRecovered(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  program
    .command('recovered')
    .summary('ask the runbook to check the failed region now (signal regionRecovered)')
    .description(
      'Tell the open runbook that the failed region looks recovered: it checks the region at once (ARM answers, its ' +
        "database is Running, every application region's probe passes) and records who asked. await-recovery ends " +
        'only after recoveryConfirmations checks in a row pass; then the runbook moves on to rejoin and failback.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option('--comment <text>', 'kept in the history', text('--comment'))
    .option('--print-payload', 'print the signed payload for `temporal workflow signal` instead of sending it')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExample:\n  geofailover recovered leaderboard --key ~/.ssh/geofailover --comment "Azure status page: eastus healthy"',
    )
    .action(async (ref: string, opts: RecoveredOptions, command: Command) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          command,
          ref,
          opts,
          (signing) => ({ name: 'regionRecovered', payload: regionRecoveredPayload(signing, opts.comment) }),
          'the failed region is back',
        ),
      ),
    );
}
