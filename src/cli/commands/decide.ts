/** The decision both `approve` and `reject` send, through the `decide` update. */
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { Command } from 'commander';
import { decisionPayload } from '../../signing/payloads';
import { decide } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import type { Output } from '../output';
import { runbookRef } from '../render';
import { signerOptions } from '../signer';
import { buildPayload, printPayload, signingContext, type SigningCommandOptions } from './send-signal';
import { text } from './shared';

/** What `approve --json` / `reject --json` print. */
export interface DecideOutput {
  workflowId: string;
  runId: string;
  decision: 'approve' | 'reject';
  approver: string;
  comment?: string;
  /** the gate the decision was meant for (--gate), or the gate open when it was sent */
  gate?: string;
  accepted: boolean;
  /** `SHA256:…` of the key that signed it */
  fingerprint: string;
  /** why it was refused */
  reason?: string;
  /** what an accepted decision did, e.g. "approval 1 of 2 recorded at approval-unlink" */
  detail?: string;
}

interface DecideOptions extends SigningCommandOptions {
  comment?: string;
  gate?: string;
}

async function sendDecision(
  ctx: CliContext,
  out: Output,
  command: Command,
  decision: 'approve' | 'reject',
  ref: string,
  opts: DecideOptions,
): Promise<number> {
  const { signer, signing, description } = await signingContext(ctx, command, ref, opts);
  // The statement names the gate it decides: the one open now, which --gate must match when given.
  const gate = signing.status.openGate;
  if (opts.gate && gate && gate.gate !== opts.gate) {
    throw new RefusedError(
      `--gate ${opts.gate}, but the open gate of ${description.workflowId} is ${gate.gate}; nothing was sent`,
      `see the gate first: geofailover status ${runbookRef(description.workflowId)}`,
      'other-gate',
    );
  }
  const payload = buildPayload(() => decisionPayload(signing, decision, opts.comment), description.workflowId);
  if (opts.printPayload) {
    if (opts.json) throw new UsageError('--print-payload prints the payload itself; leave out --json');
    return printPayload(out, payload, description.workflowId, decision);
  }
  const client = await ctx.temporal(signer.actor);
  let answer;
  try {
    answer = await decide(client, description.workflowId, payload);
  } catch (e) {
    if (e instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      throw new RefusedError(
        `no worker took the decision on ${description.workflowId} in time (${e.message}); it may still be ` +
          'applied once a worker picks it up',
        `check a worker polls task queue ${description.taskQueue} (geofailover worker), then ` +
          `geofailover status ${runbookRef(description.workflowId)} before deciding again`,
        'no-worker',
      );
    }
    throw e;
  }
  const gateName = payload.gate;
  const result: DecideOutput = {
    workflowId: description.workflowId,
    runId: description.runId,
    decision,
    approver: signer.actor,
    fingerprint: signer.fingerprint,
    ...(opts.comment ? { comment: opts.comment } : {}),
    ...(gateName ? { gate: gateName } : {}),
    accepted: answer.accepted,
    ...(answer.reason ? { reason: answer.reason } : {}),
    ...(answer.detail ? { detail: answer.detail } : {}),
  };
  const where = `${gateName ? `${gateName} of ` : ''}${description.workflowId}`;
  const ref2 = runbookRef(description.workflowId);
  out.result(
    result,
    answer.accepted
      ? `accepted: ${decision} by ${signer.actor} (signed, ${signer.fingerprint}) on ${where}${answer.detail ? `: ${answer.detail}` : ''}\n` +
          `  see the gate: geofailover status ${ref2}`
      : `refused: ${decision} by ${signer.actor} on ${where}: ${answer.reason ?? 'no reason given'}\n` +
          `  the refusal is recorded; see the gate and who may approve: geofailover status ${ref2}`,
  );
  return answer.accepted ? EXIT_OK : EXIT_FAILED;
}

/** Registers `approve` or `reject`: the same decision through the `decide` update. */
export function registerDecision(program: Command, ctx: CliContext, decision: 'approve' | 'reject'): void {
  const verb = decision === 'approve' ? 'approve' : 'reject';
  const [key, by, validFor] = signerOptions();
  program
    .command(verb)
    .summary(`${verb} the open gate of a runbook (exit 1 when refused)`)
    .description(
      `${decision === 'approve' ? 'Approve' : 'Reject'} the open gate of a runbook through the decide update: the ` +
        'workflow answers at once, accepted or refused with the reason (not an approver, the requester of the ' +
        'incident, no gate open, already decided, a signature that does not verify). Refusals are recorded in the step log.' +
        (decision === 'reject' ? ' A rejected gate stops that path safely.' : ''),
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option('--comment <text>', 'kept with the decision in the history', text('--comment'))
    .option('--gate <name>', 'only decide if this gate is the open one (as `status` shows it)', text('--gate'))
    .option('--print-payload', 'print the signed payload for `temporal workflow signal` instead of sending it')
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  geofailover ${verb} leaderboard --key ~/.ssh/geofailover --comment "memory critical, outage confirmed by Azure"
  geofailover ${verb} failover/leaderboard --key sre-manager.key --gate approval-unlink --json
  geofailover ${verb} leaderboard --key sre-manager.key --print-payload > ${verb}.json
  temporal workflow signal --workflow-id failover/leaderboard --name ${verb} --input-file ${verb}.json`,
    )
    .action(async (ref: string, opts: DecideOptions, command: Command) =>
      ctx.run(opts.json === true, (out) => sendDecision(ctx, out, command, decision, ref, opts)),
    );
}
