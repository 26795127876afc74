// The activities the runbooks call, proxied by type only, each with its option preset.
import { proxyActivities } from '@temporalio/workflow';
import type {
  DataPlaneActivities,
  GeoReplicationActivities,
  MembershipActivities,
  NotificationActivities,
  PolicyActivities,
  ProbeActivities,
  TrafficActivities,
} from '../../activities/types';
import type { RunbookTuning } from '../../contract/runbook';
import {
  destructiveActivityOptions,
  mutationActivityOptions,
  probeActivityOptions,
  readActivityOptions,
} from './activity-options';

export type RunbookActivities = PolicyActivities &
  MembershipActivities &
  DataPlaneActivities &
  Pick<TrafficActivities, 'setEndpointStatus'> &
  GeoReplicationActivities &
  NotificationActivities & {
    /** probeEndpoints on one application region's probe task queue */
    probeIn(applicationRegion: string): ProbeActivities;
  };

/** Proxies for one run: reads, mutations, destructive long-running operations, escalation, probes. */
export function runbookActivities(tuning: RunbookTuning = {}, probeTimeoutMs: number): RunbookActivities {
  const reads = proxyActivities<PolicyActivities & MembershipActivities & DataPlaneActivities>(
    readActivityOptions(tuning.reads),
  );
  const mutations = proxyActivities<Pick<TrafficActivities, 'setEndpointStatus'>>(mutationActivityOptions(tuning));
  const destructive = proxyActivities<GeoReplicationActivities>(destructiveActivityOptions(tuning));
  // An escalation that cannot be delivered is logged by the workflow; it must not hold the gate up for long.
  const notify = proxyActivities<NotificationActivities>({
    ...mutationActivityOptions({ ...tuning, mutationMaximumAttempts: 3 }),
    startToCloseTimeout: '30 seconds',
  });
  const probes = new Map<string, ProbeActivities>();
  return {
    loadPolicy: reads.loadPolicy,
    describeMember: reads.describeMember,
    readMemory: reads.readMemory,
    canaryWriteRead: reads.canaryWriteRead,
    setEndpointStatus: mutations.setEndpointStatus,
    forceUnlink: destructive.forceUnlink,
    rejoinMember: destructive.rejoinMember,
    notifyEscalation: notify.notifyEscalation,
    probeIn(applicationRegion) {
      let proxy = probes.get(applicationRegion);
      if (!proxy) {
        proxy = proxyActivities<ProbeActivities>(probeActivityOptions(applicationRegion, { probeTimeoutMs, tuning }));
        probes.set(applicationRegion, proxy);
      }
      return proxy;
    },
  };
}
