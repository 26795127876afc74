// The runbook's signal, update and query handlers: set at the top of the workflow, they only check
// payloads and mutate RunbookState.
import { setHandler } from '@temporalio/workflow';
import {
  abortSignal,
  approveSignal,
  endRehearsalSignal,
  decideUpdate,
  interveneSignal,
  regionRecoveredSignal,
  rejectSignal,
  statusQuery,
  unlinkNowSignal,
} from '../../contract/messages';
import { batchApprovalSignal } from '../../contract/evacuation';
import { bounded } from './bounded';
import type { RunbookState } from './runbook-state';

const MAX_TEXT = 2000;
/** names of people: the configuration's spelling, lower case */
const MAX_NAME = 64;

function text(value: unknown, field: string, required: boolean, max = MAX_TEXT): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string') return `${field} must be a string`;
  if (required && !value.trim()) return `${field} must not be empty`;
  if (value.length > max) return `${field} is longer than ${max} characters (${value.length})`;
  return undefined;
}

/** A value as the sender gave it, for a message: never long, whatever was sent. */
function shown(value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  return bounded(text ?? typeof value, 40);
}

function firstProblem(...problems: (string | undefined)[]): string | undefined {
  return problems.find((p) => p !== undefined);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Why a decide / approve / reject payload is malformed; undefined when well formed. */
export function decisionPayloadProblem(payload: unknown, withDecision: boolean): string | undefined {
  if (!isObject(payload)) return 'expected an object such as {"approver":"NAME"}';
  return firstProblem(
    withDecision && payload.decision !== 'approve' && payload.decision !== 'reject'
      ? `decision must be "approve" or "reject", not ${shown(payload.decision)}`
      : undefined,
    text(payload.approver, 'approver', true, MAX_NAME),
    text(payload.comment, 'comment', false),
    text(payload.gate, 'gate', false, MAX_NAME),
  );
}

/** Why a signal payload with `by` (+ required `reason`) is malformed. */
export function byPayloadProblem(payload: unknown, reasonRequired: boolean): string | undefined {
  if (!isObject(payload)) return 'expected an object such as {"by":"NAME"}';
  return firstProblem(
    text(payload.by, 'by', true, MAX_NAME),
    text(payload.reason, 'reason', reasonRequired),
    text(payload.comment, 'comment', false),
  );
}

/** Why an intervene payload is malformed. */
export function interventionPayloadProblem(payload: unknown): string | undefined {
  if (!isObject(payload)) return 'expected an object such as {"action":"retry","by":"NAME"}';
  const action = payload.action;
  return firstProblem(
    action !== 'retry' && action !== 'skip' && action !== 'abort'
      ? `action must be retry, skip or abort, not ${shown(action)}`
      : undefined,
    byPayloadProblem(payload, false),
  );
}

const field = (payload: unknown, name: string): unknown => (isObject(payload) ? payload[name] : undefined);

/**
 * Installs every handler of a runbook. Signals cannot be refused by Temporal, so a malformed, unsigned or
 * unauthorized signal is recorded as a refused attempt; the `decide` validator rejects only malformed
 * payloads (a rejected update leaves no event in history), and signature and authorization refusals come back
 * as an accepted update whose result is `{ accepted: false, reason }`, recorded in the step log.
 * No handler throws for any payload: each is checked before it is read.
 */
export function installRunbookHandlers(state: RunbookState): void {
  setHandler(statusQuery, () => state.status());

  setHandler(decideUpdate, (payload) => state.vote(payload, payload.decision, 'decide'), {
    validator: (payload) => {
      const problem = decisionPayloadProblem(payload, true);
      if (problem) throw new Error(`malformed decision: ${problem}`);
    },
    description: 'approve or reject the open gate; answers accepted, or why it is refused',
  });

  for (const [signal, decision] of [
    [approveSignal, 'approve'],
    [rejectSignal, 'reject'],
  ] as const) {
    setHandler(signal, (payload) => {
      const problem = decisionPayloadProblem(payload, false);
      if (problem) state.malformed(decision, field(payload, 'approver'), problem, 'signal');
      else state.vote(payload, decision, 'signal');
    });
  }

  setHandler(interveneSignal, (payload) => {
    const problem = interventionPayloadProblem(payload);
    if (problem)
      state.malformed(`intervene ${shown(field(payload, 'action'))}`, field(payload, 'by'), problem, 'signal');
    else state.intervene(payload);
  });

  setHandler(regionRecoveredSignal, (payload) => {
    const problem = byPayloadProblem(payload, false);
    if (problem) state.malformed('regionRecovered', field(payload, 'by'), problem, 'signal');
    else state.regionRecovered(payload);
  });

  setHandler(unlinkNowSignal, (payload) => {
    const problem = byPayloadProblem(payload, true);
    if (problem) state.malformed('unlinkNow', field(payload, 'by'), problem, 'signal');
    else state.unlinkNow(payload);
  });

  setHandler(endRehearsalSignal, (payload) => {
    const problem = byPayloadProblem(payload, false);
    if (problem) state.malformed('endRehearsal', field(payload, 'by'), problem, 'signal');
    else state.endRehearsal(payload);
  });

  // From the evacuation that started this run (evacuation/child.ts checks it); refused otherwise.
  setHandler(batchApprovalSignal, (payload) => state.batchVote(payload));

  setHandler(abortSignal, (payload) => {
    const problem = byPayloadProblem(payload, true);
    if (problem) state.malformed('abort', field(payload, 'by'), problem, 'signal');
    else state.abort(payload);
  });
}
