import type { ArmClients } from '../azure/clients';
import { createCanaryActivities } from './canary';
import type { AzureMonitorMetrics } from '../azure/metrics';
import type { GroupNotificationTarget, ResolvedWebhook } from '../config/webhook';
import { createDataPlaneActivities } from './data-plane';
import { createEvacuationActivities, type EvacuationActivities } from './evacuation';
import { createGeoReplicationActivities } from './geo-replication';
import { createMembershipActivities } from './membership';
import { createNotificationActivities } from './notification';
import type { CallerCheck } from './caller';
import type { OpenRunbookSource } from './endpoint-lease';
import { createPolicyActivities, type PolicySource } from './policy';
import { createProbeActivities as createProbes } from './probe';
import { createReadinessActivities, type ReadinessActivities } from './readiness';
import { createTrafficActivities } from './traffic';
import type { GeofailoverActivities, ProbeActivities } from './types';

/**
 * What the activities are built from. Credentials and access keys are not in here: activities fetch keys
 * (listKeys) when they need them, and never pass them on.
 */
export interface ActivityDependencies {
  /** ARM clients for real Azure or the emulator (createArmClients) */
  arm: ArmClients;
  /**
   * Azure Monitor (createAzureMonitorMetrics): readMemory reads usedmemorypercentage there. Absent → INFO memory
   * over the data plane (`azure.memorySource: "redis-info"`, and tests that build dependencies by hand).
   */
  metrics?: AzureMonitorMetrics;
  /** extra CA to trust for the Redis data plane's TLS, PEM (the emulator's); real Azure needs none */
  caPem?: string;
  /** bound of one data-plane session (memory read, canary); default 10 s */
  redisTimeoutMs?: number;
  /** how long one escalation webhook attempt may take; default 10 s */
  webhookTimeoutMs?: number;
  /** group → its escalation webhook, read by the worker at each delivery (escalationWebhookResolver) */
  escalationWebhooks?: (group: string) => ResolvedWebhook | undefined;
  /** group → its notification targets and the global ones (notificationTargetsResolver), read at each delivery */
  notificationTargets?: (group: string) => GroupNotificationTarget[];
  /** base URL of the Temporal Web UI (the worker's temporal settings): notifications link the run's page */
  webUi?: string;
  /** how long survivors may keep listing a force-unlinked member before verification fails; default 5 minutes */
  verifyTimeoutMs?: number;
  /** how long a throttled (429) ARM call is waited out, following Retry-After, before it fails; default 10 min */
  throttleWaitMs?: number;
  /**
   * The worker's own policy per group (from its configuration): what the runbook acts under, and what the
   * destructive activities check signed statements against. Without it they refuse to act.
   */
  policies?: PolicySource;
  /**
   * How destructive activities check the run that called them; default: ask the Temporal server (caller.ts).
   * Only tests that run activities outside a workflow replace it.
   */
  callerCheck?: CallerCheck;
  /**
   * Every group of the worker's configuration: a failback never enables a Traffic Manager endpoint another group
   * shares while an open incident of that group holds it (endpoint-lease.ts). Absent: no endpoint is shared.
   */
  groupNames?: readonly string[];
  /** How the open runs of a group are found (default: ask the Temporal server); only tests replace it. */
  openRunbooks?: OpenRunbookSource;
  /** the configuration's `evacuation` section (regionEvacuation's approval policy) */
  evacuation?: { unlinkApproval?: 'per-group' | 'batch' };
}

/** Every activity the main worker (task queue `geofailover`) registers, built from injected clients. */
export function createActivities(
  deps: ActivityDependencies,
): GeofailoverActivities & ReadinessActivities & EvacuationActivities {
  return {
    ...createEvacuationActivities(deps),
    ...createPolicyActivities(deps),
    ...createMembershipActivities(deps),
    ...createDataPlaneActivities(deps),
    ...createTrafficActivities(deps),
    ...createGeoReplicationActivities(deps),
    ...createNotificationActivities(deps),
    ...createReadinessActivities(),
  };
}

/** The activities a probe worker (task queue `geofailover-probe-<region>`) registers. */
export function createProbeActivities(deps: ActivityDependencies): ProbeActivities {
  return { ...createProbes(deps), ...createCanaryActivities(deps) };
}
