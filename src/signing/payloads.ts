// The signed payloads of every human action, built from what the runbook's `status` shows (run id, open gate,
// its instance and targets). Shared by the CLI, the drill and the tests. Node-side.
import type { Proof } from '../contract/policy';
import type {
  AbortPayload,
  DecidePayload,
  EndRehearsalPayload,
  InterventionAction,
  InterventionPayload,
  RegionRecoveredPayload,
  RunbookStatus,
  UnlinkNowPayload,
} from '../contract/types';
import type { PrivateKey } from './node-keys';
import { signAction } from './sign-action';

export type SigningKey = Pick<PrivateKey, 'secretKey'> | Uint8Array;

/** Who signs, with which key, for which runbook (its id, and the status it shows now). */
export interface SigningContext {
  key: SigningKey;
  actor: string;
  workflowId: string;
  status: Pick<RunbookStatus, 'runId' | 'openGate'>;
  validForMs?: number;
}

/** Thrown when the statement cannot be made: no run id known, or no gate open to decide. */
export class NothingToSignError extends Error {
  override name = 'NothingToSignError';
}

function runIdOf(ctx: SigningContext): string {
  if (!ctx.status.runId) throw new NothingToSignError(`the status of ${ctx.workflowId} names no run id`);
  return ctx.status.runId;
}

function openGateOf(ctx: SigningContext, kind?: 'intervention'): NonNullable<RunbookStatus['openGate']> {
  const gate = ctx.status.openGate;
  if (!gate || gate.instance === undefined) {
    throw new NothingToSignError(`no gate of ${ctx.workflowId} is open: there is nothing to decide`);
  }
  if (kind && gate.kind !== kind) {
    throw new NothingToSignError(`the open gate of ${ctx.workflowId} is ${gate.gate}, not an intervention gate`);
  }
  return gate;
}

/** approve / reject of the open gate (the `decide` update, or the approve/reject signals without `decision`). */
export function decisionPayload(ctx: SigningContext, decision: 'approve' | 'reject', comment?: string): DecidePayload {
  const gate = openGateOf(ctx);
  const proof = signAction(ctx.key, {
    action: decision,
    actor: ctx.actor,
    workflowId: ctx.workflowId,
    runId: runIdOf(ctx),
    gate: gate.gate,
    gateInstance: gate.instance,
    targets: gate.targets ?? [],
    comment: comment ?? '',
    ...(ctx.validForMs !== undefined ? { validForMs: ctx.validForMs } : {}),
  });
  return { decision, approver: ctx.actor, gate: gate.gate, ...(comment ? { comment } : {}), proof };
}

/** intervene retry|skip|abort at the open intervention gate. */
export function interventionPayload(
  ctx: SigningContext,
  action: InterventionAction,
  comment?: string,
): InterventionPayload {
  const gate = openGateOf(ctx, 'intervention');
  const proof = signAction(ctx.key, {
    action: 'intervene',
    actor: ctx.actor,
    workflowId: ctx.workflowId,
    runId: runIdOf(ctx),
    gate: gate.gate,
    gateInstance: gate.instance,
    comment: comment ?? '',
    detail: { action },
    ...(ctx.validForMs !== undefined ? { validForMs: ctx.validForMs } : {}),
  });
  return { action, by: ctx.actor, ...(comment ? { comment } : {}), proof };
}

function commanderProof(
  ctx: SigningContext,
  action: 'regionRecovered' | 'unlinkNow' | 'abort' | 'endRehearsal',
  text: string,
): Proof {
  return signAction(ctx.key, {
    action,
    actor: ctx.actor,
    workflowId: ctx.workflowId,
    runId: runIdOf(ctx),
    comment: text,
    ...(ctx.validForMs !== undefined ? { validForMs: ctx.validForMs } : {}),
  });
}

export function regionRecoveredPayload(ctx: SigningContext, comment?: string): RegionRecoveredPayload {
  return {
    by: ctx.actor,
    ...(comment ? { comment } : {}),
    proof: commanderProof(ctx, 'regionRecovered', comment ?? ''),
  };
}

/** A commander's end of a rehearsal's hold (signal endRehearsal). */
export function endRehearsalPayload(ctx: SigningContext, comment?: string): EndRehearsalPayload {
  return {
    by: ctx.actor,
    ...(comment ? { comment } : {}),
    proof: commanderProof(ctx, 'endRehearsal', comment ?? ''),
  };
}

export function unlinkNowPayload(ctx: SigningContext, reason: string): UnlinkNowPayload {
  return { by: ctx.actor, reason, proof: commanderProof(ctx, 'unlinkNow', reason) };
}

export function abortPayload(ctx: SigningContext, reason: string): AbortPayload {
  return { by: ctx.actor, reason, proof: commanderProof(ctx, 'abort', reason) };
}

/** A commander's signed start of `workflowId`, naming the database of the region it is about. */
export function startRequest(
  key: SigningKey,
  start: {
    actor: string;
    workflowId: string;
    databaseId: string;
    region: string;
    reason: string;
    policyDigest?: string;
    validForMs?: number;
  },
): Proof {
  return signAction(key, {
    action: 'start',
    actor: start.actor,
    workflowId: start.workflowId,
    runId: null,
    targets: [start.databaseId],
    comment: start.reason,
    detail: { region: start.region, ...(start.policyDigest ? { policyDigest: start.policyDigest } : {}) },
    ...(start.validForMs !== undefined ? { validForMs: start.validForMs } : {}),
  });
}
