// Node-side: a commander signs a standing order for a rehearsal schedule (verified by src/policy/standing-order.ts).
import type { Proof } from './proof';
import { signAction } from './sign-action';
import type { SigningKey } from './payloads';

export interface StandingOrderToSign {
  actor: string;
  /** the schedule's action workflow id (`rehearsal/<group>`); its runs are `<this>-<nominal time>` */
  workflowId: string;
  scheduleId: string;
  group: string;
  region: string;
  /** the region's database: what the order authorizes rehearsing */
  databaseId: string;
  reason: string;
  spec: string;
  hold?: string;
  /** how long the order stands (at most a year: MAX_STANDING_ORDER_VALIDITY_MS) */
  validForMs: number;
  issuedAt?: Date;
}

/** The commander's signed `schedule` statement: the `request` every run of the schedule carries. */
export function signStandingOrder(key: SigningKey, order: StandingOrderToSign): Proof {
  return signAction(key, {
    action: 'schedule',
    actor: order.actor,
    workflowId: order.workflowId,
    runId: null,
    targets: [order.databaseId],
    comment: order.reason,
    detail: {
      scheduleId: order.scheduleId,
      group: order.group,
      region: order.region,
      mode: 'rehearsal',
      spec: order.spec,
      ...(order.hold !== undefined ? { hold: order.hold } : {}),
    },
    validForMs: order.validForMs,
    ...(order.issuedAt ? { issuedAt: order.issuedAt } : {}),
  });
}
