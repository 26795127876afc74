// The activities the runbooks call, proxied by type only, each with its option preset and tagged with the step
// that calls it.
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type {
  DataPlaneActivities,
  GeoReplicationActivities,
  MembershipActivities,
  NotificationActivities,
  PolicyActivities,
  ProbeActivities,
  TrafficActivities,
} from '../../contract/activities';
import type { RunbookTuning } from '../../contract/runbook';
import type { StepName } from '../../contract/steps';
import {
  destructiveActivityOptions,
  failedMemberReadActivityOptions,
  mutationActivityOptions,
  probeActivityOptions,
  readActivityOptions,
} from './activity-options';

export type RunbookActivities = PolicyActivities &
  MembershipActivities &
  DataPlaneActivities &
  Pick<TrafficActivities, 'readProfile' | 'setEndpointStatus'> &
  GeoReplicationActivities &
  Pick<NotificationActivities, 'notifyEscalation'> & {
    /** describeMember of the failed region in failover's membership step, on its own short budget */
    describeFailedMember: MembershipActivities['describeMember'];
    /** probeEndpoints on one application region's probe task queue */
    probeIn(applicationRegion: string): ProbeActivities;
  };

/**
 * Proxies for one step of a run: reads, mutations, destructive long-running operations, escalation, probes.
 * Every activity they schedule carries the step's name as its summary (ActivityTaskScheduled's
 * `userMetadata.summary`): the audit reads which step an activity served from the history, not from a guess.
 */
export function runbookActivities(
  step: StepName,
  tuning: RunbookTuning = {},
  probeTimeoutMs: number,
): RunbookActivities {
  const tagged = (options: ActivityOptions): ActivityOptions => ({ ...options, summary: step });
  const reads = proxyActivities<
    PolicyActivities & MembershipActivities & DataPlaneActivities & Pick<TrafficActivities, 'readProfile'>
  >(tagged(readActivityOptions(tuning.reads)));
  const failedRead = proxyActivities<MembershipActivities>(tagged(failedMemberReadActivityOptions(tuning)));
  const mutations = proxyActivities<Pick<TrafficActivities, 'setEndpointStatus'>>(
    tagged(mutationActivityOptions(tuning)),
  );
  const destructive = proxyActivities<GeoReplicationActivities>(tagged(destructiveActivityOptions(tuning)));
  // An escalation that cannot be delivered is logged by the workflow; it must not hold the gate up for long.
  const notify = proxyActivities<Pick<NotificationActivities, 'notifyEscalation'>>(
    tagged({
      ...mutationActivityOptions({ ...tuning, mutationMaximumAttempts: 3 }),
      startToCloseTimeout: '30 seconds',
    }),
  );
  const probes = new Map<string, ProbeActivities>();
  return {
    loadPolicy: reads.loadPolicy,
    describeMember: reads.describeMember,
    describeFailedMember: failedRead.describeMember,
    readMemory: reads.readMemory,
    canaryWriteRead: reads.canaryWriteRead,
    readProfile: reads.readProfile,
    setEndpointStatus: mutations.setEndpointStatus,
    forceUnlink: destructive.forceUnlink,
    rejoinMember: destructive.rejoinMember,
    notifyEscalation: notify.notifyEscalation,
    probeIn(applicationRegion) {
      let proxy = probes.get(applicationRegion);
      if (!proxy) {
        proxy = proxyActivities<ProbeActivities>(
          tagged(probeActivityOptions(applicationRegion, { probeTimeoutMs, tuning })),
        );
        probes.set(applicationRegion, proxy);
      }
      return proxy;
    },
  };
}
