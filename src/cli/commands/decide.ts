/**
 * The decision both `approve` and `reject` send, through the `decide` update. Before sending, the open gate is shown
 * (what the approver decides on: trigger, memory, blast radius, targets), and a person at a terminal confirms it.
 */
import { WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';
import type { Command } from 'commander';
import type { OpenGate } from '../../contract/types';
import { decisionPayload } from '../../signing/payloads';
import { decide } from '../../starter';
import type { CliContext } from '../context';
import { EXIT_FAILED, EXIT_OK, RefusedError, UsageError } from '../errors';
import type { Output } from '../output';
import { renderGateRequest, runbookRef } from '../render';
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
  /** the open gate as the approver saw it before deciding: its request holds the trigger, memory and blast radius */
  openGate?: OpenGate;
}

interface DecideOptions extends SigningCommandOptions {
  comment?: string;
  gate?: string;
  /** do not ask for confirmation on a terminal */
  yes?: boolean;
}

/** What is being decided, in full: the gate, where it stands, and the evidence its request carries. */
export function renderDecisionGate(
  decision: 'approve' | 'reject',
  gate: OpenGate,
  workflowId: string,
  runId: string,
): string[] {
  const approvals = gate.approvals.length ? ` (${gate.approvals.join(', ')})` : '';
  const lines = [
    `you are about to ${decision.toUpperCase()} gate ${gate.gate} of ${workflowId} (run ${runId})`,
    `  ${gate.approvals.length} of ${gate.quorum} approval(s) so far${approvals}; opened ${gate.requestedAt}`,
    ...renderGateRequest(gate.request),
  ];
  if (gate.targets?.length) lines.push(`  targets: ${gate.targets.join(', ')}`);
  if (gate.escalatedAt) lines.push(`  escalated ${gate.escalatedAt}; stops safely ${gate.expiresAt ?? 'later'}`);
  else if (gate.escalatesAt) lines.push(`  escalates ${gate.escalatesAt} if nobody decides`);
  return lines;
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
  // The approver sees what they decide on before it is sent: on stderr (stdout stays the result), or under --json
  // in the result.
  if (gate && !opts.json) {
    ctx.io.stderr(`${renderDecisionGate(decision, gate, description.workflowId, description.runId).join('\n')}\n`);
  }
  const { stdinIsTTY, stderrIsTTY, confirm } = ctx.environment;
  if (!opts.printPayload && !opts.yes && stdinIsTTY && stderrIsTTY && confirm) {
    const where = `${gate ? `gate ${gate.gate} of ` : ''}${description.workflowId}`;
    if (!(await confirm(`${decision} ${where} as ${signer.actor}?`))) {
      throw new RefusedError(
        `not confirmed: nothing was sent to ${description.workflowId}`,
        `answer y to send it, or pass --yes to skip the question`,
        'not-confirmed',
      );
    }
  }
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
    ...(gate ? { openGate: gate } : {}),
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
        'incident, no gate open, already decided, a signature that does not verify). Refusals are recorded in the step log. ' +
        'It first shows the open gate (its trigger, memory trend, blast radius and targets) and, on a terminal, asks ' +
        'to confirm (--yes skips the question).' +
        (decision === 'reject' ? ' A rejected gate stops that path safely.' : ''),
    )
    .argument('<group-or-workflow-id>', 'a group name (its open runbook), or a workflow id')
    .addOption(key!)
    .addOption(by!)
    .addOption(validFor!)
    .option('--comment <text>', 'kept with the decision in the history', text('--comment'))
    .option('--gate <name>', 'only decide if this gate is the open one (as `status` shows it)', text('--gate'))
    .option('--print-payload', 'print the signed payload for `temporal workflow signal` instead of sending it')
    .option('-y, --yes', 'do not ask for confirmation (a terminal is asked; scripts and pipes never are)')
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
