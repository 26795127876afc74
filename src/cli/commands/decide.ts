/** The decision both `approve` and `reject` send, through the `decide` update. */
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { Command } from 'commander';
import type { DecidePayload, OpenGate } from '../../contract/types';
import { decide, readRunbook } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError } from '../errors';
import type { Output } from '../output';
import { runbookRef } from '../render';
import { openRunbook, text } from './shared';

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
  /** why it was refused */
  reason?: string;
  /** what an accepted decision did, e.g. "approval 1 of 2 recorded at approval-unlink" */
  detail?: string;
}

interface DecideOptions {
  by: string;
  comment?: string;
  gate?: string;
  json?: boolean;
}

const QUERY_TIMEOUT_MS = 3000;

async function sendDecision(
  ctx: CliContext,
  out: Output,
  decision: 'approve' | 'reject',
  ref: string,
  opts: DecideOptions,
): Promise<number> {
  const client = await ctx.temporal(opts.by);
  const description = await openRunbook(client, ref);
  // Only to name the gate in the answer; the workflow decides what the decision lands on.
  let gate: OpenGate | undefined;
  try {
    gate = (await readRunbook(client, description, { queryTimeoutMs: QUERY_TIMEOUT_MS })).status?.openGate;
  } catch {
    gate = undefined;
  }
  const payload: DecidePayload = {
    decision,
    approver: opts.by,
    ...(opts.comment ? { comment: opts.comment } : {}),
    ...(opts.gate ? { gate: opts.gate } : {}),
  };
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
  const gateName = opts.gate ?? gate?.gate;
  const result: DecideOutput = {
    workflowId: description.workflowId,
    runId: description.runId,
    decision,
    approver: opts.by,
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
      ? `accepted: ${decision} by ${opts.by} on ${where}${answer.detail ? `: ${answer.detail}` : ''}\n` +
          `  see the gate: geofailover status ${ref2}`
      : `refused: ${decision} by ${opts.by} on ${where}: ${answer.reason ?? 'no reason given'}\n` +
          `  the refusal is recorded; see the gate and who may approve: geofailover status ${ref2}`,
  );
  return answer.accepted ? EXIT_OK : EXIT_FAILED;
}

/** Registers `approve` or `reject`: the same decision through the `decide` update. */
export function registerDecision(program: Command, ctx: CliContext, decision: 'approve' | 'reject'): void {
  const verb = decision === 'approve' ? 'approve' : 'reject';
  program
    .command(verb)
    .summary(`${verb} the open gate of a runbook (exit 1 when refused)`)
    .description(
      `${decision === 'approve' ? 'Approve' : 'Reject'} the open gate of a runbook through the decide update: the ` +
        'workflow answers at once, accepted or refused with the reason (not an approver, the requester of the ' +
        'incident, no gate open, already decided). Refusals are recorded in the step log.' +
        (decision === 'reject' ? ' A rejected gate stops that path safely.' : ''),
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .requiredOption('--by <name>', 'the approver (must be one of the group’s approvers)', text('--by'))
    .option('--comment <text>', 'kept with the decision in the history', text('--comment'))
    .option('--gate <name>', 'only decide if this gate is the open one (as `status` shows it)', text('--gate'))
    .option('--json', 'one JSON document')
    .addHelpText(
      'after',
      `
Examples:
  geofailover ${verb} leaderboard --by sre-lead --comment "memory critical, outage confirmed by Azure"
  geofailover ${verb} failover/leaderboard --by sre-manager --gate approval-unlink --json`,
    )
    .action(async (ref: string, opts: DecideOptions) =>
      ctx.run(opts.json === true, (out) => sendDecision(ctx, out, decision, ref, opts)),
    );
}
