// One signed approval of the unlink gates of many groups of an evacuation: action `approve`, workflowId
// `evacuate/<region>`, the evacuation's run id, gate `approval-unlink`, targets the listed groups' databases in the
// region, detail.groups the group names joined by commas. The evacuation checks it against every group's people;
// each child checks it again against its own policy before it counts as a vote. Pure.
import type { BatchApprovalPayload } from '../../contract/evacuation';
import type { RunbookPolicy } from '../../contract/policy';
import { verifySigned, type Verified } from '../../policy/verify';
import type { EvacuationState } from './state';

export interface BatchBinding {
  /** the evacuation's workflow and run */
  workflowId: string;
  runId: string;
  /** every database the statement must name */
  targets: string[];
  groups: string[];
  nowMs: number;
}

/** Verifies a batch approval for `binding` under `policy`; the refusal, or the verified statement. Never throws. */
export function verifyBatch(
  proof: unknown,
  approver: unknown,
  policy: RunbookPolicy,
  binding: BatchBinding,
): string | Verified {
  const check = verifySigned(proof, policy, {
    actions: ['approve'],
    workflowId: binding.workflowId,
    runId: binding.runId,
    gate: 'approval-unlink',
    targets: binding.targets,
    role: 'approver',
    nowMs: binding.nowMs,
  });
  if (!check.ok) return check.reason;
  if (check.signer !== approver) return `the payload names another approver than the signer ${check.signer}`;
  const listed = (check.statement.detail?.groups ?? '').split(',');
  if (binding.groups.some((g) => !listed.includes(g))) {
    return `the statement lists the groups ${check.statement.detail?.groups ?? '(none)'}, not every group of the payload`;
  }
  return check;
}

/** The evacuation's check of a batch approval before it forwards it to the listed children. */
export function batchStatementProblem(
  state: EvacuationState,
  batch: BatchApprovalPayload,
  nowMs: number,
): string | Verified {
  const plan = state.plan;
  const policy = state.combinedPolicy();
  if (!plan || !policy || state.phase !== 'evacuating') return `the evacuation is ${state.phase}`;
  if (plan.unlinkApproval !== 'batch') {
    return "the worker's configuration has evacuation.unlinkApproval per-group: approve each group's gate on its own";
  }
  const targets: string[] = [];
  for (const group of batch.groups) {
    const found = plan.groups.find((g) => g.group === group);
    if (!found) return `${group} is not a group of this evacuation`;
    targets.push(found.databaseId);
  }
  const check = verifyBatch(batch.proof, batch.approver, policy, {
    workflowId: state.workflowId,
    runId: state.runId,
    targets,
    groups: batch.groups,
    nowMs,
  });
  if (typeof check === 'string') return check;
  if (state.usedNonces.has(check.statement.nonce)) return 'replayed: this signed statement was already used';
  return check;
}
