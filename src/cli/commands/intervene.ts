/** `geofailover intervene G --action retry|skip|abort --by NAME [--comment TEXT]`: answer an intervention gate. */
import { Option, type Command } from 'commander';
import type { InterventionAction } from '../../contract/types';
import type { CliContext } from '../context';
import { sendSignal } from './send-signal';
import { text } from './shared';

interface InterveneOptions {
  action: InterventionAction;
  by: string;
  comment?: string;
  json?: boolean;
}

export const INTERVENTION_ACTIONS: readonly InterventionAction[] = ['retry', 'skip', 'abort'];

export function registerIntervene(program: Command, ctx: CliContext): void {
  program
    .command('intervene')
    .summary('answer an intervention gate: retry, skip (needs approval) or abort (signal intervene)')
    .description(
      'A step that still failed after its retries pauses the runbook at an intervention gate; `status` shows ' +
        'why. retry runs the step again, skip goes on without it once approved (geofailover approve), abort stops ' +
        'before the next destructive step.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .addOption(
      new Option('--action <action>', 'retry, skip or abort').choices([...INTERVENTION_ACTIONS]).makeOptionMandatory(),
    )
    .requiredOption('--by <name>', 'who answers', text('--by'))
    .option('--comment <text>', 'kept in the history', text('--comment'))
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExamples:\n  geofailover intervene leaderboard --action retry --by alice --comment "throttling is over"\n' +
        '  geofailover intervene leaderboard --action skip --by alice && geofailover approve leaderboard --by sre-lead',
    )
    .action(async (ref: string, opts: InterveneOptions) =>
      ctx.run(opts.json === true, (out) =>
        sendSignal(
          ctx,
          out,
          ref,
          {
            name: 'intervene',
            payload: { action: opts.action, by: opts.by, ...(opts.comment ? { comment: opts.comment } : {}) },
          },
          `${opts.action} (by ${opts.by})`,
        ),
      ),
    );
}
