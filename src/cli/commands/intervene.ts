/** `geofailover intervene G --action retry|skip|abort --key FILE [--comment TEXT]`: answer an intervention gate. */
import { Option, type Command } from 'commander';
import type { InterventionAction } from '../../contract/types';
import { interventionPayload } from '../../signing/payloads';
import type { CliContext } from '../context';
import { signerOptions } from '../signer';
import { sendSignal, type SigningCommandOptions } from './send-signal';
import { text } from './shared';

interface InterveneOptions extends SigningCommandOptions {
  action: InterventionAction;
  comment?: string;
}

export const INTERVENTION_ACTIONS: readonly InterventionAction[] = ['retry', 'skip', 'abort'];

export function registerIntervene(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  program
    .command('intervene')
    .summary('answer an intervention gate: retry, skip (needs approval) or abort (signal intervene)')
    .description(
      'A step that still failed after its retries pauses the runbook at an intervention gate; `status` shows ' +
        'why. retry runs the step again, skip goes on without it once approved (geofailover approve), abort stops ' +
        'before the next destructive step.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .addOption(
      new Option('--action <action>', 'retry, skip or abort').choices([...INTERVENTION_ACTIONS]).makeOptionMandatory(),
    )
    .option('--comment <text>', 'kept in the history', text('--comment'))
    .option('--print-payload', 'print the signed payload for `temporal workflow signal` instead of sending it')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExamples:\n  geofailover intervene leaderboard --action retry --key ~/.ssh/geofailover --comment "throttling is over"\n' +
        '  geofailover intervene leaderboard --action skip --key alice.key && geofailover approve leaderboard --key bob.key',
    )
    .action(async (ref: string, opts: InterveneOptions, command: Command) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          command,
          ref,
          opts,
          (signing) => ({ name: 'intervene', payload: interventionPayload(signing, opts.action, opts.comment) }),
          opts.action,
        ),
      ),
    );
}
