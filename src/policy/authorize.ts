// What a destructive activity checks before it calls Azure, against the worker's own policy: a commander's
// signed start of this very run, and — for force-unlink and rejoin — a quorum of signed approvals of the
// gate, bound to this run and naming the database acted on. A workflow cannot make the worker act without them.
import type { Authorization, RunbookPolicy } from '../contract/policy';
import { workflowIds } from '../contract/names';
import { isStandingOrder, verifyStandingOrder } from './standing-order';
import { verifySigned } from './verify';

export interface DestructiveRequest {
  policy: RunbookPolicy;
  /** the workflow execution that scheduled the activity (from the activity's own info, not its input) */
  workflowId: string;
  runId: string;
  authorization: unknown;
  /** the resource id the start must name (the failed or rejoining member's database) */
  target: string;
  /** the gate whose approvals (its quorum from the policy) allow the step; omitted: the signed start alone (traffic) */
  gate?: 'approval-unlink' | 'approval-rejoin';
  /** the regionEvacuation that started this run (as Temporal says): its batch approvals of approval-unlink count */
  evacuation?: { workflowId: string; runId: string };
}

const MAX_APPROVALS = 16;

function isAuthorization(value: unknown): value is Authorization {
  if (typeof value !== 'object' || value === null) return false;
  const approvals = (value as { approvals?: unknown }).approvals;
  return approvals === undefined || (Array.isArray(approvals) && approvals.length <= MAX_APPROVALS);
}

/** Why the step is not authorized, or undefined when it is. Never throws. */
export function destructiveRefusal(req: DestructiveRequest): string | undefined {
  const { policy, workflowId, runId } = req;
  const group = policy.group.name;
  // A scheduled rehearsal runs under a standing order, which checks its own workflow ids (the schedule's runs).
  const standing = isStandingOrder((req.authorization as { request?: unknown } | null)?.request);
  const rehearsal = workflowId === workflowIds.rehearsal(group);
  if (
    !standing &&
    !rehearsal &&
    workflowId !== workflowIds.failover(group) &&
    workflowId !== workflowIds.rejoin(group)
  ) {
    return `workflow ${workflowId.slice(0, 80)} is not a runbook of group ${group}`;
  }
  // A rehearsal moves traffic on its signed start alone; force-unlink and rejoin only where the configuration allows.
  if ((rehearsal || standing) && req.gate && policy.group.rehearsal?.destructive !== true) {
    return `group ${group}'s configuration does not allow rehearsing destructive steps (rehearsal.destructive)`;
  }
  if (!isAuthorization(req.authorization)) {
    return 'no authorization: a signed start (and the gate approvals) must come with the call';
  }
  // The calling run is our runbook started with this very request (callerCheck), whose validate-input accepts a
  // standing order only for a rehearsal: mode is known here.
  const start = standing
    ? verifyStandingOrder(req.authorization.request, policy, {
        workflowId,
        group,
        mode: 'rehearsal',
        targets: [req.target],
      })
    : verifySigned(req.authorization.request, policy, {
        actions: ['start'],
        workflowId,
        targets: [req.target],
        role: 'commander',
      });
  if (!start.ok) return `the start is not authorized: ${start.reason}`;
  if (start.statement.runId !== null && start.statement.runId !== runId) {
    return `the start names run ${start.statement.runId}, not this run`;
  }
  if (!req.gate) return undefined;
  const gate = req.gate;
  const quorum = Math.max(1, policy.group.quorum[gate === 'approval-unlink' ? 'unlink' : 'rejoin']);
  const approvers = new Set<string>();
  for (const proof of req.authorization.approvals ?? []) {
    let approval = verifySigned(proof, policy, {
      actions: ['approve'],
      workflowId,
      runId,
      gate,
      targets: [req.target],
      role: 'approver',
    });
    if (!approval.ok && req.evacuation && gate === 'approval-unlink') {
      const batch = verifySigned(proof, policy, {
        actions: ['approve'],
        ...req.evacuation,
        gate,
        targets: [req.target],
        role: 'approver',
      });
      if (batch.ok) approval = batch;
    }
    if (!approval.ok) return `an approval is not valid: ${approval.reason}`;
    if (approval.signer === start.signer) return `${start.signer} requested the run and cannot approve it (four-eyes)`;
    approvers.add(approval.signer);
  }
  if (approvers.size < quorum) {
    return `${gate} needs ${quorum} signed approval(s) of this run from distinct approvers; got ${approvers.size}`;
  }
  return undefined;
}
