/**
 * The people at the drill's gates. By default the drill plays them, through the same `decide` update
 * `geofailover approve` sends, so that the rules show: the requester's own approval is refused (four-eyes), one
 * approval of a quorum of 2 changes nothing, the same approver twice is refused, a second distinct approver
 * opens the gate. With `--interactive` a person answers instead, and the drill prints exactly what to type.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { DecideResult } from '../contract/messages';
import { approveSignal, statusQuery } from '../contract/messages';
import type { OpenGate, RunbookStatus } from '../contract/types';
import { decisionPayload, type SigningKey } from '../signing/payloads';
import { decide } from '../starter';
import type { DrillReporter } from './events';
import { DrillStepError } from './watcher';

export interface GateContext {
  /** a client acting as that person (their identity in history) */
  clientAs: (by: string) => Client;
  /** that person's signing key (the drill made one per person) */
  keyOf: (by: string) => SigningKey;
  workflowId: string;
  runId: string;
  reporter: DrillReporter;
  /** who started the incident */
  requester: string;
}

/**
 * The run a signed statement must name now: the latest run of the workflow (a runbook that waits out a long outage
 * continues as new, and each run has its own id), as `geofailover approve` reads it.
 */
export async function currentRunId(client: Client, workflowId: string, fallback: string): Promise<string> {
  try {
    return (await client.workflow.getHandle(workflowId).describe()).runId;
  } catch {
    return fallback;
  }
}

/** A signed approval of `gate`, through the `decide` update, exactly as `geofailover approve --key` sends it. */
async function vote(
  ctx: GateContext,
  gate: OpenGate,
  approver: string,
  comment: string,
): Promise<DecideResult & { latencyMs: number }> {
  const started = performance.now();
  const runId = await currentRunId(ctx.clientAs(approver), ctx.workflowId, ctx.runId);
  const payload = decisionPayload(
    {
      key: ctx.keyOf(approver),
      actor: approver,
      workflowId: ctx.workflowId,
      status: { runId, openGate: gate },
    },
    'approve',
    comment,
  );
  // Signing and the round trip (the runbook verifies the signature before it answers), for the benchmark.
  const answer = await decide(ctx.clientAs(approver), ctx.workflowId, payload);
  return { ...answer, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
}

/**
 * A forged approval, as anyone who can reach the namespace could send it with `temporal workflow signal`: a
 * listed approver's name and no signature. The runbook records it as refused; nothing is approved.
 */
async function forgeApproval(ctx: GateContext, gate: OpenGate, claimed: string): Promise<void> {
  const handle = ctx.clientAs('intruder').workflow.getHandle(ctx.workflowId);
  await handle.signal(approveSignal, { approver: claimed, comment: 'trust me' } as never);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const status = (await handle.query(statusQuery)) as RunbookStatus;
    const step = status.steps.find((s) => s.step === gate.step);
    const refusal = step?.refusedAttempts?.find((r) => r.by.startsWith(claimed) && r.via === 'signal');
    if (refusal) {
      if (status.openGate?.approvals.includes(claimed)) {
        throw new DrillStepError(`a forged approval in the name of ${claimed} was counted at ${gate.gate}`);
      }
      ctx.reporter.action(
        'approval-refused',
        `unsigned approval in the name of ${claimed} refused: ${refusal.reason}`,
        {
          gate: gate.gate,
          approver: claimed,
          rule: 'signed decisions',
          reason: refusal.reason,
        },
      );
      return;
    }
    if (Date.now() > deadline)
      throw new DrillStepError(`the forged approval of ${gate.gate} was not recorded as refused`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function accepted(
  ctx: GateContext,
  gate: string,
  approver: string,
  answer: DecideResult & { latencyMs?: number },
  note = '',
): void {
  if (!answer.accepted) {
    throw new DrillStepError(`the approval of ${gate} by ${approver} was refused: ${answer.reason ?? '(no reason)'}`);
  }
  ctx.reporter.action('approval-accepted', `approval by ${approver} accepted: ${answer.detail ?? gate}${note}`, {
    gate,
    approver,
    ...(answer.detail ? { detail: answer.detail } : {}),
    ...(answer.latencyMs !== undefined ? { latencyMs: answer.latencyMs } : {}),
  });
}

function refused(ctx: GateContext, gate: string, approver: string, answer: DecideResult, rule: string): void {
  if (answer.accepted) {
    throw new DrillStepError(`${rule} was not enforced: the approval of ${gate} by ${approver} was accepted`);
  }
  ctx.reporter.action('approval-refused', `${rule}: approval by ${approver} refused: ${answer.reason ?? ''}`, {
    gate,
    approver,
    rule,
    reason: answer.reason ?? '',
  });
}

/**
 * The unlink gate (quorum 2) answered by the drill's people: the requester (refused, four-eyes), the first
 * approver (1 of 2; `destructiveCalls()` proves nothing happened yet), the first approver again (refused,
 * distinct approvers), the second approver (2 of 2: the gate opens).
 * @throws DrillStepError when a rule that should refuse accepts, or an approval that should pass is refused.
 */
export async function approveUnlinkGate(
  ctx: GateContext,
  gate: OpenGate,
  approvers: readonly [string, string],
  destructiveCalls: () => number,
): Promise<void> {
  const name = gate.gate;
  const [first, second] = approvers;
  await forgeApproval(ctx, gate, first);
  refused(ctx, name, ctx.requester, await vote(ctx, gate, ctx.requester, 'I started it, so I approve'), 'four-eyes');
  const one = await vote(ctx, gate, first, 'outage confirmed; survivors under memory pressure');
  accepted(
    ctx,
    name,
    first,
    one,
    `; quorum ${gate.quorum}: nothing happens yet (force-unlink calls: ${destructiveCalls()})`,
  );
  refused(ctx, name, first, await vote(ctx, gate, first, 'approving once more'), 'distinct approvers');
  accepted(ctx, name, second, await vote(ctx, gate, second, 'agreed: unlink the failed member'));
}

/** The rejoin gate (quorum 1), approved by one drill approver. */
export async function approveRejoinGate(ctx: GateContext, gate: OpenGate, approver: string): Promise<void> {
  accepted(ctx, gate.gate, approver, await vote(ctx, gate, approver, 'region healthy again: rejoin it'));
}

export interface InteractiveContext {
  reporter: DrillReporter;
  /** TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE when not default) the other terminal needs */
  address: string;
  namespace: string;
  configFile: string;
  group: string;
  /** person → their key file (made by the drill) */
  keyFiles: Record<string, string>;
}

/** How a person runs this CLI: `geofailover` when it is on PATH, else `node <path to bin/geofailover.js>`. */
export function cliInvocation(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      fs.accessSync(path.join(dir, 'geofailover'), fs.constants.X_OK);
      return 'geofailover';
    } catch {
      // not here
    }
  }
  const bin = path.resolve(__dirname, '..', '..', 'bin', 'geofailover.js');
  const relative = path.relative(process.cwd(), bin);
  return `node ${shellQuote(relative.startsWith('..') ? bin : relative)}`;
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The exact commands a person types to approve `gate`, one per approver who still may. */
export function approvalCommands(ctx: InteractiveContext, gate: OpenGate): string[] {
  const env = [
    `TEMPORAL_ADDRESS=${ctx.address}`,
    ...(ctx.namespace !== 'default' ? [`TEMPORAL_NAMESPACE=${ctx.namespace}`] : []),
  ];
  const cli = cliInvocation();
  const who = gate.eligibleApprovers?.length ? gate.eligibleApprovers : ['NAME'];
  return who.map(
    (approver) =>
      `${env.join(' ')} ${cli} approve ${ctx.group} --key ${shellQuote(ctx.keyFiles[approver] ?? `${approver}.key`)} --config ${shellQuote(ctx.configFile)}`,
  );
}

/** Tells the person at the other terminal what the gate needs and exactly what to type. */
export function announceGate(ctx: InteractiveContext, gate: OpenGate): void {
  const commands = approvalCommands(ctx, gate);
  const needed = gate.quorum - gate.approvals.length;
  const statusCommand = commands[0]?.replace(
    / approve .*? --key \S+/,
    ` status ${ctx.group} --config ${shellQuote(ctx.configFile)}`,
  );
  ctx.reporter.emit(
    { type: 'interactive', gate: gate.gate, commands },
    [
      `gate ${gate.gate} waits for ${needed} more approval(s) (quorum ${gate.quorum}); in another terminal type, as an approver:`,
      ...commands.map((c) => `  ${c}`),
      ...(statusCommand ? [`see the gate: ${statusCommand}`] : []),
    ].join('\n'),
  );
}
