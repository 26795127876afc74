/** `geofailover end-rehearsal G [--comment TEXT] [--key FILE]`: a commander ends a rehearsal's hold (signal endRehearsal). */
import type { Command } from 'commander';
import { endRehearsalSignal } from '../../contract/messages';
import { workflowIds } from '../../contract/names';
import { endRehearsalPayload } from '../../signing/payloads';
import type { CliContext } from '../context';
import { EXIT_OK, RefusedError } from '../errors';
import type { Output } from '../output';
import { signerOptions } from '../signer';
import { buildPayload, printPayload, signingContext, type SigningCommandOptions } from './send-signal';
import { text } from './shared';

interface EndRehearsalOptions extends SigningCommandOptions {
  comment?: string;
}

/** What `end-rehearsal --json` prints (the same shape as the other signals: schemas/cli-signal.schema.json). */
export interface EndRehearsalOutput {
  workflowId: string;
  runId: string;
  signal: 'endRehearsal';
  payload: ReturnType<typeof endRehearsalPayload>;
  sentAt: string;
  fingerprint: string;
}

async function endRehearsal(
  ctx: CliContext,
  out: Output,
  command: Command,
  ref: string,
  opts: EndRehearsalOptions,
): Promise<number> {
  // A group name finds its open runbook (rehearsal/G, or the run its rehearsal schedule started).
  const { signer, signing, description } = await signingContext(ctx, command, ref, opts);
  if (!description.workflowId.startsWith(workflowIds.rehearsal(''))) {
    throw new RefusedError(
      `the open runbook of ${ref} is ${description.workflowId}, not a rehearsal: there is no hold to end`,
      `see it with: geofailover status ${description.workflowId}`,
      'not-a-rehearsal',
      { workflowId: description.workflowId },
    );
  }
  const payload = buildPayload(() => endRehearsalPayload(signing, opts.comment), description.workflowId);
  if (opts.printPayload) return printPayload(out, payload, description.workflowId, endRehearsalSignal.name);
  const client = await ctx.temporal(signer.actor);
  await client.workflow.getHandle(description.workflowId).signal(endRehearsalSignal, payload);
  const result: EndRehearsalOutput = {
    workflowId: description.workflowId,
    runId: description.runId,
    signal: 'endRehearsal',
    payload,
    sentAt: new Date().toISOString(),
    fingerprint: signer.fingerprint,
  };
  out.result(
    result,
    `sent endRehearsal to ${description.workflowId}, signed by ${signer.actor} (${signer.fingerprint}): the hold ` +
      'ends; traffic comes back once the region passes its probes, then replication is checked\n' +
      `  see what the rehearsal does with it: geofailover status ${description.workflowId} --watch`,
  );
  return EXIT_OK;
}

export function registerEndRehearsal(program: Command, ctx: CliContext): void {
  const [key, by, validFor] = signerOptions();
  program
    .command('end-rehearsal')
    .summary("end a rehearsal's hold: traffic comes back (signal endRehearsal)")
    .description(
      'Tell the open rehearsal of a group (rehearsal/G) that its hold is over: the region is probed from every ' +
        'application region, its endpoint enabled again, and replication checked with canaries. Signed by a ' +
        'commander of the group; the rehearsal records who ended it, when, and the comment.',
    )
    .argument('<group-or-workflow-id>', 'a group name (its open rehearsal, rehearsal/G), or a workflow id')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option('--comment <text>', 'kept in the history', text('--comment'))
    .option('--print-payload', 'print the signed payload for `temporal workflow signal` instead of sending it')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      '\nExample:\n  geofailover end-rehearsal leaderboard --key ~/.ssh/geofailover --comment "players served from westeurope"',
    )
    .action(async (ref: string, opts: EndRehearsalOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => endRehearsal(ctx, out, command, ref, opts)),
    );
}
