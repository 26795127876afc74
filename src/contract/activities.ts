import type { Authorization, PolicyLookup } from './policy';
import type { EndpointRef, RunbookOutcome } from './runbook';
import type { GroupMember } from './readiness';
import type { MemberSnapshot, NotificationDelivery, NotificationEvent } from './types';

export type { NotificationDelivery, NotificationEvent } from './types';

/*
 * Activity interfaces: the contract between the runbook workflows, which proxy these by type only, and the
 * workers that implement them (src/activities, built by createActivities(deps); probe workers in each application
 * region). Inputs and results carry resource ids, never keys or tokens:
 * an activity that talks to Redis gets a Microsoft Entra token (or, where access keys are Enabled, the access
 * key via listKeys) and uses it without returning it (src/activities/database-access.ts).
 * Every activity throws ApplicationFailure with a contract failure type (src/contract/failures.ts).
 */

/** Reads of group membership. */
export interface MembershipActivities {
  /**
   * Reads one member's database: states, linkedDatabases and the settings that must match across the group.
   * Resolves with `reachable: false` when ARM cannot be reached for the member's region; throws (a retryable or
   * non-retryable ApplicationFailure of a contract failure type) for other errors.
   */
  describeMember(member: GroupMember): Promise<MemberSnapshot>;
}

export type PressureGrade = 'ok' | 'elevated' | 'critical';

export interface MemoryReading {
  region: string;
  databaseId: string;
  usedBytes: number;
  /** the memory limit; from Azure Monitor it is derived (usedmemory / usedmemorypercentage), 0 when unknown */
  maxBytes: number;
  /** used / max, percent (one decimal): Azure Monitor's usedmemorypercentage, or INFO used_memory / maxmemory */
  percent: number;
  readAt: string;
  /** where the figures come from; absent in readings recorded before Azure Monitor (they are redis-info) */
  source?: MemorySource;
  /** Azure Monitor's geoReplicationHealthy (Maximum of its newest minute); absent from INFO or without a point */
  geoReplicationHealthy?: boolean;
  /** Azure Monitor: the start of the minute whose point was read */
  sampledAt?: string;
}

/** `azure-monitor`: usedmemorypercentage, usedmemory, geoReplicationHealthy; `redis-info`: INFO memory. */
export type MemorySource = 'azure-monitor' | 'redis-info';

/** Data-plane reads and the canary, from the main worker (at the hostName:port ARM reports). */
export interface DataPlaneActivities {
  /**
   * One member's memory pressure: Azure Monitor's usedmemorypercentage (the default), or INFO memory over the
   * data plane when the worker is configured with `azure.memorySource: "redis-info"`.
   */
  readMemory(member: GroupMember): Promise<MemoryReading>;
  /** Writes a canary key with a TTL and reads it back; throws ProbeFailed when it does not come back. */
  canaryWriteRead(input: { member: GroupMember; ttlSeconds: number }): Promise<{ region: string; latencyMs: number }>;
}

export interface ProbeTargetInput {
  memberRegion: string;
  databaseId: string;
  /** HOST:PORT of this application region's private endpoint for the database */
  address: string;
}

export interface ProbeOutcomeRecord {
  applicationRegion: string;
  memberRegion: string;
  databaseId: string;
  address: string;
  outcome: 'ok' | 'refused' | 'timeout' | 'tls-error' | 'auth-error' | 'error';
  failedStage?: 'tcp' | 'tls' | 'auth' | 'ping';
  latencyMs?: number;
  error?: string;
}

/** Runs on a probe worker in the application region (task queue geofailover-probe-<region>). */
export interface ProbeActivities {
  /** TCP, TLS, AUTH and PING against each target, in parallel; never throws for a failed probe. */
  probeEndpoints(input: {
    applicationRegion: string;
    targets: ProbeTargetInput[];
    timeoutMs: number;
  }): Promise<ProbeOutcomeRecord[]>;
  /**
   * A rehearsal's replication check: SET `key` = `value` (with a TTL) on one member, through this application
   * region's address for it, the way its applications write. Throws (retryable) when the write fails.
   */
  canaryWrite(input: {
    applicationRegion: string;
    target: ProbeTargetInput;
    key: string;
    value: string;
    ttlSeconds: number;
    timeoutMs: number;
  }): Promise<CanaryReadRecord>;
  /** GET `key` on each target through this region's addresses, once, in parallel; never throws for a failed read. */
  canaryRead(input: {
    applicationRegion: string;
    targets: ProbeTargetInput[];
    key: string;
    timeoutMs: number;
  }): Promise<CanaryReadRecord[]>;
}

/** One canary write or read from an application region to a member. */
export interface CanaryReadRecord {
  applicationRegion: string;
  memberRegion: string;
  address: string;
  /** the value read (a write: the value written); null when the key is not there (yet) */
  value: string | null;
  latencyMs?: number;
  /** why the member could not be read (connection, TLS, AUTH, command), bounded */
  error?: string;
}

export interface EndpointState {
  name: string;
  type: string;
  endpointStatus: string;
  endpointMonitorStatus?: string;
  priority?: number;
  target?: string;
}

export interface ProfileSnapshot {
  profileId: string;
  routingMethod?: string;
  /** the profile's own switch (Enabled | Disabled) */
  profileStatus?: string;
  endpoints: EndpointState[];
}

/**
 * An open incident of another group that holds a shared Traffic Manager endpoint: it rerouted traffic away from it
 * and has not started its own traffic-failback.
 */
export interface EndpointHolder {
  workflowId: string;
  runId: string;
  group: string;
  /** its failed region (whose endpoint this is in its group) */
  region?: string;
  /** its phase when asked */
  phase?: string;
  /** when its traffic-reroute succeeded */
  since?: string;
  /** why it counts as holding without a status (its status query failed while it is open) */
  note?: string;
}

/** Traffic Manager: check state first, then act; setting a status it already has is a no-op. */
export interface TrafficActivities {
  readProfile(input: { profileId: string }): Promise<ProfileSnapshot>;
  /**
   * Sets one endpoint's endpointStatus, then re-reads the profile and verifies it: the endpoint has the
   * new status and at least one enabled endpoint remains. Throws when verification fails.
   * Enabling an endpoint another group shares (same profile and endpoint in the worker's configuration) while an
   * open incident of that group holds it changes nothing: the result names the holders in `heldBy`.
   */
  setEndpointStatus(input: {
    profileId: string;
    endpoint: EndpointRef;
    status: 'Enabled' | 'Disabled';
    /** the group whose policy authorizes the change (its profile and endpoint must be these) */
    group: string;
    /** the commander's signed start of the calling run */
    authorization: Authorization;
  }): Promise<{
    before: ProfileSnapshot;
    after: ProfileSnapshot;
    changed: boolean;
    /**
     * nothing was called, and this was not the activity's first attempt: an interrupted earlier attempt (a worker
     * that died after sending the request) has likely made the change; the attempt that found it done
     */
    foundAtAttempt?: number;
    /** enabling: the open incidents of other groups that still hold the endpoint (nothing was changed) */
    heldBy?: EndpointHolder[];
    /** the other groups of the worker's configuration that share this endpoint (absent: none) */
    sharedWith?: string[];
  }>;
}

/** Destructive geo-replication operations: each re-reads state first and skips what is already done. */
export interface GeoReplicationActivities {
  /**
   * Force-unlinks the failed member, called on a survivor. Skips (skipped: true) when no survivor lists it.
   * Waits on the long-running operation with heartbeats (resuming the same operation after a worker
   * restart), then verifies that no survivor lists the failed member.
   */
  forceUnlink(input: {
    survivorDatabaseId: string;
    failedDatabaseId: string;
    survivorDatabaseIds: string[];
    pollIntervalMs?: number;
    /** the group whose policy authorizes the unlink */
    group: string;
    /** the signed start and a quorum of signed approval-unlink approvals of the calling run */
    authorization: Authorization;
  }): Promise<{
    skipped: boolean;
    calledOn?: string;
    operationId?: string;
    /** this attempt resumed the operation an earlier attempt started (from its heartbeat), instead of calling again */
    resumed?: boolean;
    /**
     * nothing was called, and this was not the activity's first attempt: an interrupted earlier attempt (a worker
     * that died after sending the request) has likely made the change; the attempt that found it done
     */
    foundAtAttempt?: number;
  }>;
  /**
   * Rejoins an unlinked database to the group (force-link; or delete + recreate with the group nickname),
   * discarding its data. Checks before acting: a member already in the group (it and every other member list each
   * other as Linking or Linked) is skipped, and so is one recreate would delete although it is already a member of
   * the group (recreated into it earlier); `reason` says why. Heartbeats while it waits for the operation; whether
   * the links reach Linked is verified by the caller (the rejoin step), so that re-verifying never calls again.
   */
  rejoinMember(input: {
    databaseId: string;
    groupNickname: string;
    memberDatabaseIds: string[];
    method: 'force-link' | 'recreate';
    pollIntervalMs?: number;
    /** the group whose policy authorizes the rejoin */
    group: string;
    /** the signed start and a quorum of signed approval-rejoin approvals of the calling run */
    authorization: Authorization;
  }): Promise<{
    skipped: boolean;
    /** why nothing was called (skipped), in words */
    reason?: string;
    /**
     * nothing was called, and this was not the activity's first attempt: an interrupted earlier attempt (a worker
     * that died after sending the request) has likely made the change; the attempt that found it done
     */
    foundAtAttempt?: number;
    /** force-link: the operation that was called or resumed */
    operationId?: string;
    /** force-link: this attempt resumed the operation an earlier attempt started, instead of calling again */
    resumed?: boolean;
  }>;
}

/**
 * Escalation: POSTs a JSON body to the group's webhook, which the worker resolves from its configuration (the URL
 * is a secret: it is never in the input, the result or the logs). Never throws for a delivery failure; logs when
 * there is no webhook.
 */
export interface NotificationActivities {
  notifyEscalation(input: { group: string; body: Record<string, unknown> }): Promise<{
    delivered: boolean;
    /** POSTs made (0: none configured, unusable, or refused before sending) */
    attempts: number;
    /** HTTP status of the last attempt, when one answered */
    statusCode?: number;
    /** why it was not delivered; never holds the URL's path, query or credentials */
    error?: string;
    /** the reference and the origin only, e.g. `env:GEOFAILOVER_WEBHOOK_LEADERBOARD → https://hooks.example.com` */
    target?: string;
  }>;
  /**
   * Tells people about the runbook: each notification target of the group (and the global ones) that takes this
   * event gets it in its own shape (Slack Block Kit, Teams Adaptive Card, generic JSON), POSTed with bounded
   * retries. Never throws for a delivery failure: each target's outcome is in `deliveries`.
   */
  notify(input: { group: string; notification: RunbookNotification }): Promise<{ deliveries: NotificationDelivery[] }>;
}

/** One notification, as the workflow writes it (bounded strings); the activity shapes it for each target. */
export interface RunbookNotification {
  event: NotificationEvent;
  workflowId: string;
  group: string;
  /** the failed (or rejoining) region */
  region: string;
  /** one line, e.g. `Approval needed: approval-unlink of leaderboard` */
  title: string;
  /** what happened and what is asked, in a few sentences */
  text: string;
  /** the gate that needs people (absent for run-ended) */
  gate?: {
    name: string;
    kind: 'approval' | 'intervention';
    step: string;
    instance: number;
    requestedAt: string;
    /** who or what the gate waits for */
    waitingFor: string;
    escalatesAt?: string;
    expiresAt?: string;
  };
  /** the evidence behind it, as label → value facts */
  evidence: { label: string; value: string }[];
  /** the exact commands that answer the gate (geofailover CLI, then the plain Temporal CLI) */
  howToAnswer: string[];
  /** the run's mode when it is not an incident: people read a rehearsal's notices as a rehearsal's */
  mode?: 'rehearsal' | 'drill';
  /** a rehearsal a schedule started: the schedule and who signed its standing order */
  schedule?: { scheduleId: string; orderedBy: string; orderExpiresAt: string };
  /** run-ended: how the run ended */
  outcome?: RunbookOutcome;
  rtoMs?: number;
  /** when the workflow wrote it */
  at: string;
}

/** The worker's own policy: the runbook's only source of groups, people, roles, quorums and durations. */
export interface PolicyActivities {
  /** The named group's policy from the worker's configuration, with its digest; `found: false` with a reason. */
  loadPolicy(input: { group: string }): Promise<PolicyLookup>;
}

/** Every activity the main worker registers. */
export type GeofailoverActivities = PolicyActivities &
  MembershipActivities &
  DataPlaneActivities &
  TrafficActivities &
  GeoReplicationActivities &
  NotificationActivities;
