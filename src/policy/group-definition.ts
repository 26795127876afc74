import type { Duration } from '@temporalio/common';
import type { GroupConfig } from '../config/schema';
import type { GroupDefinition } from '../contract/runbook';

/** The configuration's group in the contract's shape (durations as Temporal durations). */
export function toGroupDefinition(name: string, group: GroupConfig): GroupDefinition {
  const d = group.durations;
  return {
    name,
    members: { ...group.members },
    trafficManager: {
      profileId: group.trafficManager.profileId,
      endpoints: Object.fromEntries(
        Object.entries(group.trafficManager.endpoints).map(([r, e]) => [r, { type: e.type, name: e.name }]),
      ),
    },
    applicationRegions: Object.fromEntries(
      Object.entries(group.applicationRegions).map(([app, addresses]) => [app, { ...addresses }]),
    ),
    commanders: [...group.commanders],
    approvers: [...group.approvers],
    quorum: { ...group.quorum },
    memoryThresholds: { ...group.memoryThresholds },
    rejoinMethod: group.rejoinMethod,
    recoveryConfirmations: group.recoveryConfirmations,
    // Only when set: a configuration without it keeps the digest its signed starts name.
    ...(group.rehearsal !== undefined ? { rehearsal: { destructive: group.rehearsal.destructive } } : {}),
    durations: {
      approvalTimeout: d.approvalTimeout as Duration,
      escalationTimeout: d.escalationTimeout as Duration,
      recoveryPollInterval: d.recoveryPollInterval as Duration,
      maxOutageBeforeUnlink: d.maxOutageBeforeUnlink as Duration,
      resyncTimeout: d.resyncTimeout as Duration,
      probeTimeout: d.probeTimeout as Duration,
      // Only when set: a configuration without it keeps the digest its signed starts name.
      ...(d.rtoTarget !== undefined ? { rtoTarget: d.rtoTarget as Duration } : {}),
    },
  };
}
