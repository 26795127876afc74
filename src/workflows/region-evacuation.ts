import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  approveBatchSignal,
  batchApprovalSignal,
  childProgressSignal,
  DEFAULT_EVACUATION_CONCURRENCY,
  evacuationAbortSignal,
  evacuationStatusQuery,
  type BatchApprovalPayload,
  type EvacuationActivities,
  type EvacuationChild,
  type EvacuationOutcome,
  type EvacuationResult,
  type RegionEvacuationInput,
} from '../contract/evacuation';
import { abortSignal } from '../contract/messages';
import { WORKFLOW_TYPES, workflowIds } from '../contract/names';
import { MAX_START_VALIDITY_MS } from '../contract/policy';
import type { FailoverRunbookInput, RunbookResult } from '../contract/runbook';
import type { AbortPayload } from '../contract/types';
import { verifySigned } from '../policy/verify';
import { batchStatementProblem } from './evacuation/batch';
import { EvacuationState } from './evacuation/state';
import { batchPayloadProblem, evacuationInputProblems } from './evacuation/validate';
import { readActivityOptions } from './runbook/activity-options';
import { bounded } from './runbook/bounded';
import { formatMs } from './runbook/durations';

/**
 * Children asked for and not yet started, at most. Temporal starts each child with two updates of this workflow
 * under its lock; two hundred asked for at once contend for it, are answered BusyWorkflow and retried with
 * backoff, and start at a trickle (measured: 80 of 200 started after three minutes). In waves of this many, each
 * starts at once.
 */
const MAX_STARTING = 20;

/**
 * `regionEvacuation` (id `evacuate/<region>`): a whole region is out. Every group of the worker's configuration
 * with a member in the region gets its own child failoverRunbook (id `failover/<group>`, started with the
 * commander's signed start of that group), at most `concurrency` of them before their traffic reroute at once, so
 * traffic moves for every group before anything waits on a person. Each child runs its own gates; one waiting at an
 * intervention gate holds nobody else up. A signed abort reaches every child (each stops on its own safe path);
 * the evacuation ends when every child has.
 */
export async function regionEvacuation(input: RegionEvacuationInput): Promise<EvacuationResult> {
  const info = workflowInfo();
  const region = typeof (input as { region?: unknown })?.region === 'string' ? bounded(input.region, 40) : '';
  const state = new EvacuationState(region, info.workflowId, info.runId, info.startTime.toISOString());
  installHandlers(state);
  const result = await evacuate(state, input);
  await condition(allHandlersFinished);
  return result;
}

function end(state: EvacuationState, outcome: EvacuationOutcome, summary: string): EvacuationResult {
  state.phase = outcome === 'partial' ? 'completed' : outcome;
  if (outcome !== 'completed') log.warn(`evacuation ${outcome}: ${summary}`);
  return { outcome, summary, status: state.status() };
}

function refuse(state: EvacuationState, problem: string): EvacuationResult {
  state.refusal = bounded(problem, 2000);
  return end(state, 'refused', `the evacuation was refused, nothing was started: ${state.refusal}`);
}

async function evacuate(state: EvacuationState, input: RegionEvacuationInput): Promise<EvacuationResult> {
  const problems = evacuationInputProblems(input);
  if (problems.length > 0) return refuse(state, problems.join('; '));
  if (state.workflowId !== workflowIds.evacuation(input.region)) {
    return refuse(state, `the workflow id is ${state.workflowId}, expected ${workflowIds.evacuation(input.region)}`);
  }
  state.concurrency = input.concurrency ?? DEFAULT_EVACUATION_CONCURRENCY;
  const { planEvacuation } = proxyActivities<EvacuationActivities>({
    ...readActivityOptions(input.tuning?.reads),
    summary: 'plan-evacuation',
  });
  try {
    state.plan = await planEvacuation({ region: input.region });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return refuse(state, `the worker's configuration could not be read: ${(err as Error).message}`);
  }
  if (state.plan.groups.length === 0) {
    return refuse(state, `no group of the worker's configuration has a member in ${input.region}`);
  }
  const signed = verifySigned(input.request, state.combinedPolicy()!, {
    actions: ['start'],
    workflowId: state.workflowId,
    role: 'commander',
    nowMs: Date.parse(state.startedAt),
  });
  if (!signed.ok) return refuse(state, `the signed request is refused: ${signed.reason}`);
  const s = signed.statement;
  const lifetimeMs = Date.parse(s.expiresAt) - Date.parse(s.issuedAt);
  if (lifetimeMs > MAX_START_VALIDITY_MS) {
    return refuse(
      state,
      `the signed request is valid for ${formatMs(lifetimeMs)}; a start may be valid for at most ${formatMs(MAX_START_VALIDITY_MS)}`,
    );
  }
  if (s.runId !== null && s.runId !== state.runId) return refuse(state, `the signed request names run ${s.runId}`);
  if (s.detail?.region !== input.region) {
    return refuse(state, `the signed request is for region ${s.detail?.region ?? '(none)'}, not ${input.region}`);
  }
  state.usedNonces.add(s.nonce);
  state.requestedBy = signed.signer;
  state.reason = bounded(input.reason, 2000);
  state.phase = 'evacuating';

  for (const { group } of state.plan.groups) {
    const start = Object.hasOwn(input.starts, group) ? input.starts[group] : undefined;
    const child: EvacuationChild = {
      group,
      workflowId: workflowIds.failover(group),
      phase: start ? 'queued' : 'not-started',
    };
    if (!start) child.summary = `not started: the request carries no signed start of ${child.workflowId}`;
    state.children.set(group, child);
  }

  const running: Promise<void>[] = [forwardAbort(state)];
  for (const child of state.children.values()) {
    if (child.phase !== 'queued') continue;
    await condition(
      () => (state.inFlight < state.concurrency && state.starting < MAX_STARTING) || !!state.abortRequest,
    );
    if (state.abortRequest) break;
    child.phase = 'starting';
    running.push(runChild(state, child, childInput(input, child.group)));
  }
  for (const child of state.children.values()) {
    if (child.phase === 'queued') {
      child.phase = 'not-started';
      child.summary = 'not started: the evacuation was aborted first';
    }
  }
  await condition(() => state.allSettled);
  state.phase = state.abortRequest ? 'aborting' : state.phase;
  await Promise.all(running.slice(1));

  const children = [...state.children.values()];
  const count = (outcome: string): number => children.filter((c) => (c.outcome ?? c.phase) === outcome).length;
  const tally = ['completed', 'aborted', 'stopped', 'refused', 'not-started']
    .map((o) => [o, count(o)] as const)
    .filter(([, n]) => n > 0)
    .map(([o, n]) => `${n} ${o}`)
    .join(', ');
  if (state.abortRequest) {
    const a = state.abortRequest;
    return end(state, 'aborted', `evacuation of ${state.region} aborted by ${a.by} (${a.reason}): ${tally}`);
  }
  const outcome = count('completed') === children.length ? 'completed' : 'partial';
  return end(state, outcome, `evacuation of ${state.region}: ${children.length} group(s): ${tally}`);
}

function childInput(input: RegionEvacuationInput, group: string): FailoverRunbookInput {
  return {
    group,
    failedRegion: input.region,
    reason: input.reason,
    request: input.starts[group]!,
    ...(input.tuning !== undefined ? { tuning: input.tuning } : {}),
  };
}

/** Starts one child and follows it to its end; never throws. */
async function runChild(state: EvacuationState, child: EvacuationChild, input: FailoverRunbookInput): Promise<void> {
  let handle;
  try {
    handle = await startChild(WORKFLOW_TYPES.failoverRunbook, {
      workflowId: child.workflowId,
      args: [input],
      // A runbook is an incident of its own: ending the evacuation never ends one mid-step.
      parentClosePolicy: ParentClosePolicy.ABANDON,
    });
  } catch (err) {
    if (isCancellation(err)) throw err;
    child.phase = 'not-started';
    child.summary = bounded(`not started: ${(err as Error).message}`, 400);
    return;
  }
  child.runId = handle.firstExecutionRunId;
  if (child.phase === 'starting') child.phase = 'validating';
  if (state.abortRequest) await sendAbort(state, child);
  try {
    const result = (await handle.result()) as RunbookResult;
    child.outcome = result.outcome;
    child.phase = result.outcome;
    child.summary = bounded(result.summary, 600);
    if (result.rtoMs !== undefined) child.rtoMs = result.rtoMs;
  } catch (err) {
    if (isCancellation(err)) throw err;
    child.outcome = 'stopped';
    child.phase = 'stopped';
    child.summary = bounded(`the run failed: ${(err as Error).message}`, 600);
  }
  delete child.openGate;
}

const abortSent = new WeakMap<EvacuationState, Set<string>>();

async function sendAbort(state: EvacuationState, child: EvacuationChild): Promise<void> {
  let sent = abortSent.get(state);
  if (!sent) abortSent.set(state, (sent = new Set()));
  if (sent.has(child.group) || child.outcome || !child.runId) return;
  sent.add(child.group);
  try {
    await getExternalWorkflowHandle(child.workflowId).signal(abortSignal, state.abortRequest!.payload as AbortPayload);
  } catch (err) {
    if (isCancellation(err)) throw err;
    log.warn(`abort could not reach ${child.workflowId}: ${(err as Error).message}`);
  }
}

/** Once an abort is accepted, every started child gets it (each verifies it and stops on its own safe path). */
async function forwardAbort(state: EvacuationState): Promise<void> {
  await condition(() => !!state.abortRequest);
  await Promise.all([...state.children.values()].map((c) => sendAbort(state, c)));
}

function installHandlers(state: EvacuationState): void {
  setHandler(evacuationStatusQuery, () => state.status());
  setHandler(childProgressSignal, (report) => state.progress(report));
  setHandler(evacuationAbortSignal, (payload) => abort(state, payload));
  setHandler(approveBatchSignal, (payload) => approveBatch(state, payload));
}

function abort(state: EvacuationState, payload: unknown): void {
  const at = new Date().toISOString();
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<AbortPayload>;
  const by = typeof p.by === 'string' ? bounded(p.by, 64) : '(unknown)';
  const refuse = (detail: string): void =>
    state.record({ action: 'abort', by, at, accepted: false, detail: bounded(detail, 400) });
  if (typeof p.reason !== 'string' || !p.reason.trim() || p.reason.length > 2000) return refuse('reason must say why');
  if (state.abortRequest) return refuse(`already aborting (${state.abortRequest.by} at ${state.abortRequest.at})`);
  const policy = state.combinedPolicy();
  if (!policy || state.phase !== 'evacuating')
    return refuse(`the evacuation is ${state.phase}: there is nothing to abort`);
  const check = verifySigned(p.proof, policy, {
    actions: ['abort'],
    workflowId: state.workflowId,
    runId: state.runId,
    gate: null,
    role: 'commander',
    nowMs: Date.now(),
  });
  if (!check.ok) return refuse(check.reason);
  if (check.signer !== p.by) return refuse(`the payload names ${by} but the statement is signed by ${check.signer}`);
  if (state.usedNonces.has(check.statement.nonce)) return refuse('replayed: this signed statement was already used');
  state.usedNonces.add(check.statement.nonce);
  state.abortRequest = { by: check.signer, reason: bounded(p.reason, 2000), at, payload };
  state.record({ action: 'abort', by: check.signer, at, accepted: true, detail: 'forwarded to every running group' });
}

function approveBatch(state: EvacuationState, payload: unknown): void {
  const at = new Date().toISOString();
  const p = (typeof payload === 'object' && payload !== null ? payload : {}) as Partial<BatchApprovalPayload>;
  const by = typeof p.approver === 'string' ? bounded(p.approver, 64) : '(unknown)';
  const refuse = (detail: string): void =>
    state.record({ action: 'approve-batch', by, at, accepted: false, detail: bounded(detail, 400) });
  const malformed = batchPayloadProblem(payload);
  if (malformed) return refuse(`malformed payload: ${malformed}`);
  const batch = payload as BatchApprovalPayload;
  const problem = batchStatementProblem(state, batch, Date.now());
  if (typeof problem === 'string') return refuse(problem);
  state.usedNonces.add(problem.statement.nonce);
  const sent: string[] = [];
  for (const group of batch.groups) {
    const child = state.children.get(group);
    if (!child || child.outcome || !child.runId || child.openGate?.gate !== 'approval-unlink') continue;
    sent.push(group);
    getExternalWorkflowHandle(child.workflowId)
      .signal(batchApprovalSignal, batch)
      .catch((err: unknown) =>
        log.warn(`batch approval could not reach ${child.workflowId}: ${(err as Error).message}`),
      );
  }
  state.record({
    action: 'approve-batch',
    by: problem.signer,
    at,
    accepted: true,
    detail: sent.length
      ? `forwarded to ${sent.length} group(s) waiting at approval-unlink`
      : 'no listed group waits at approval-unlink',
    groups: sent,
  });
}
