/** The failover runbook's input, built from a request exactly as it is recorded in history. Pure. */
import type { Proof } from './policy';
import type { FailoverRunbookInput, GroupDefinition } from './runbook';

export interface FailoverRequest {
  /** the group as this configuration defines it (the worker's own copy is what the runbook acts under) */
  group: GroupDefinition;
  failedRegion: string;
  reason: string;
  /** who signs the start */
  requestedBy: string;
  /** the signed start; a dry run without a key shows a placeholder */
  request?: Proof;
  acceptSettingsMismatch?: boolean;
}

/** What a dry run shows for a start nobody has signed yet. */
export const UNSIGNED_REQUEST: Proof = { statement: '(signed with --key when the run starts)', signature: '' };

/** The workflow input, exactly as it will be recorded in history: names and the signed start, nothing more. */
export function buildFailoverInput(request: FailoverRequest): FailoverRunbookInput {
  return {
    group: request.group.name,
    failedRegion: request.failedRegion,
    reason: request.reason,
    request: request.request ?? UNSIGNED_REQUEST,
    ...(request.acceptSettingsMismatch ? { acceptSettingsMismatch: true } : {}),
  };
}
