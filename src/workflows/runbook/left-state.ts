// What a run that stops leaves behind, in words, for its aborted or stopped summary: Traffic Manager (the failed
// region's endpoint) and the group's membership. Read from the step log only, so it holds after continue-as-new.
import type { Runbook } from './runbook';

const evidenceOf = (rb: Runbook, step: 'traffic-reroute' | 'traffic-failback' | 'rejoin'): Record<string, unknown> => {
  const evidence = rb.steps.get(step).evidence;
  return typeof evidence === 'object' && evidence !== null ? (evidence as Record<string, unknown>) : {};
};

/**
 * What a run that stops now leaves of Traffic Manager, in words (for the stopped or aborted summary): enabled again
 * (also when failback enabled it but Traffic Manager had not reported it Online), disabled (naming the groups that
 * share the endpoint: their failback enables it once no open incident holds it), or unchanged.
 */
export function trafficLeftState(rb: Runbook): string {
  const name = rb.group?.trafficManager?.endpoints?.[rb.region]?.name ?? rb.region;
  const failback = rb.steps.get('traffic-failback');
  if (failback.status === 'succeeded') return `endpoint ${name} enabled again`;
  if (evidenceOf(rb, 'traffic-failback').endpointEnabled === true) {
    return `endpoint ${name} enabled again (Traffic Manager had not reported it Online)`;
  }
  if (rb.steps.get('traffic-reroute').status !== 'succeeded') return 'Traffic Manager unchanged';
  const shared = evidenceOf(rb, 'traffic-reroute').sharedWith;
  const note =
    Array.isArray(shared) && shared.length > 0
      ? ` (the endpoint is shared with group(s) ${shared.join(', ')}: their failback enables it once no open incident holds it)`
      : '';
  return `endpoint ${name} stays disabled, traffic stays on the survivors${note}`;
}

/**
 * What a run that stops now leaves of the group's membership, in words (for the stopped or aborted summary): the
 * member still force-unlinked, back in the group (its links maybe still resynchronising), or never unlinked.
 */
export function membershipLeftState(rb: Runbook): string {
  const rejoin = rb.steps.get('rejoin');
  const wasUnlinked = rb.state.unlinked || rb.steps.get('force-unlink').status === 'succeeded';
  if (!wasUnlinked) return 'nothing was unlinked';
  if (rejoin.status === 'succeeded') return `${rb.region} was force-unlinked and has rejoined the group`;
  if (evidenceOf(rb, 'rejoin').memberInGroup === true) {
    return `${rb.region} is back in the group (rejoined), but not every member listed every other as Linked yet`;
  }
  return `${rb.region} stays force-unlinked: rejoin it later with rejoinRunbook`;
}

/** The whole "Left as is" sentence of an aborted or stopped run: Traffic Manager, then membership. */
export function leftStateWords(rb: Runbook): string {
  return `${trafficLeftState(rb)}; ${membershipLeftState(rb)}`;
}
