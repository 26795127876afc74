// Client side of signed decisions (CLI, drill, tests): the statement for one action, signed with a person's key.
// Node-side (node-keys): workflow code imports ./index, which leaves this module out.
import { newNonce, signStatement, type PrivateKey } from './node-keys';
import type { Proof } from './proof';
import type { Statement, StatementAction } from './statement';

/** How long a statement signed by the CLI stays valid unless the signer says otherwise. */
export const DEFAULT_VALIDITY_MS = 15 * 60_000;

export interface ActionToSign {
  action: StatementAction;
  /** the person signing, as the configuration names them */
  actor: string;
  workflowId: string;
  /** the run it is for; null only for a start */
  runId: string | null;
  gate?: string | null;
  gateInstance?: number | null;
  /** resource ids it authorizes */
  targets?: string[];
  comment?: string;
  detail?: Record<string, string>;
  /** default 15 minutes */
  validForMs?: number;
  /** default now */
  issuedAt?: Date;
}

/** The statement for `action`, signed with `key`: the proof a payload carries. */
export function signAction(key: Pick<PrivateKey, 'secretKey'> | Uint8Array, action: ActionToSign): Proof {
  const issuedAt = action.issuedAt ?? new Date();
  const statement: Statement = {
    v: 1,
    action: action.action,
    actor: action.actor,
    workflowId: action.workflowId,
    runId: action.runId,
    gate: action.gate ?? null,
    gateInstance: action.gateInstance ?? null,
    targets: action.targets ?? [],
    comment: action.comment ?? '',
    issuedAt: issuedAt.toISOString(),
    expiresAt: new Date(issuedAt.getTime() + (action.validForMs ?? DEFAULT_VALIDITY_MS)).toISOString(),
    nonce: newNonce(),
    ...(action.detail && Object.keys(action.detail).length > 0 ? { detail: action.detail } : {}),
  };
  return signStatement(statement, key);
}
