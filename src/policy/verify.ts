// Checks a signed statement against a policy: signature, signer's key, binding to this run and gate, time, and
// role. Pure and deterministic: the workflow runs it in its sandbox, the destructive activities run it again.
import type { Role, RunbookPolicy } from '../contract/policy';
import { statementRefusal, verifyProof, type Statement } from '../signing';

export interface Expectation {
  /** the actions the statement may be for */
  actions: Statement['action'][];
  workflowId: string;
  /** the run it must name; omitted only for a start (the run does not exist when it is signed) */
  runId?: string;
  gate?: string | null;
  gateInstance?: number | null;
  /** resource ids it must authorize */
  targets?: string[];
  /** the time to check issuedAt/expiresAt against; omitted: not checked (see verifyRecorded) */
  nowMs?: number;
  /** the role the signer must hold in the group */
  role?: Role;
}

export type Verified = { ok: true; statement: Statement; signer: string; fingerprint: string };
export type Refused = { ok: false; reason: string };

/** Whether `name` holds `role` in the policy's group. Names compare exactly: the configuration has one spelling. */
export function hasRole(policy: RunbookPolicy, name: string, role: Role): boolean {
  const list = role === 'commander' ? policy.group.commanders : policy.group.approvers;
  return (list ?? []).includes(name);
}

/** Verifies `proof` for `expect` under `policy`; never throws. */
export function verifySigned(proof: unknown, policy: RunbookPolicy, expect: Expectation): Verified | Refused {
  if (proof === undefined || proof === null) {
    return { ok: false, reason: 'unsigned: the payload has no proof (a statement signed with a key of the policy)' };
  }
  const checked = verifyProof(proof, policy.people);
  if (!checked.ok) return { ok: false, reason: checked.reason };
  const { statement } = checked;
  // Without a clock (an activity re-checking what the workflow accepted), time is not what is being proven.
  const nowMs = expect.nowMs ?? Date.parse(statement.issuedAt);
  const refusal = statementRefusal(statement, {
    actions: expect.actions,
    workflowId: expect.workflowId,
    ...(expect.runId !== undefined ? { runId: expect.runId } : {}),
    ...(expect.gate !== undefined ? { gate: expect.gate } : {}),
    ...(expect.gateInstance !== undefined ? { gateInstance: expect.gateInstance } : {}),
    ...(expect.targets !== undefined ? { targets: expect.targets } : {}),
    nowMs,
  });
  if (refusal) return { ok: false, reason: refusal };
  if (expect.role && !hasRole(policy, checked.signer, expect.role)) {
    const holders = (expect.role === 'commander' ? policy.group.commanders : policy.group.approvers).join(', ');
    return {
      ok: false,
      reason: `${checked.signer} is not a${expect.role === 'approver' ? 'n' : ''} ${expect.role} of group ${policy.group.name} (${expect.role}s: ${holders})`,
    };
  }
  return { ok: true, statement, signer: checked.signer, fingerprint: checked.fingerprint };
}
